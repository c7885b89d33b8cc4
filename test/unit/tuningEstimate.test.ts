import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseSize } from '../../src/cli/estimate.js';
import { benchmarkData } from '../../src/tuning/adaptive.js';
import {
  estimateFrom,
  levelBudget,
  levelEconomics,
  measureLevel,
  type EstimateAssumptions,
} from '../../src/tuning/estimate.js';
import { estimateHtml, formatEstimate } from '../../src/tuning/estimateReport.js';

const GiB = 1024 ** 3;
const a: EstimateAssumptions = {
  dataTransferCostPerGB: 0.02,
  fargateCostPerMinute: 0.000395,
  regions: 2,
  vpcEndpointCostPerRegionMonth: 87.6,
  stagingCostPerGBMonth: 0.023,
  stagingDays: 1,
};

describe('levelEconomics', () => {
  it('compares plain replication with compressed transfer + compute + staging, per TiB', () => {
    // 1 GiB compressed 4:1 in 60 CPU seconds
    const e = levelEconomics({ level: 6, inputBytes: GiB, outputBytes: GiB / 4, seconds: 60 }, a);
    expect(e.ratio).toBe(4);
    expect(e.plainPerTiB).toBeCloseTo(1024 * 0.04, 9);
    const perGiB = 0.04 / 4 + (60 * 1.025 * 0.000395) / 60 + ((0.023 * 1) / 30) * 3 * 0.25;
    expect(e.balerPerTiB).toBeCloseTo(1024 * perGiB, 9);
    expect(e.netPerTiB).toBeCloseTo(1024 * (0.04 - perGiB), 9);
    expect(e.mbps).toBeCloseTo(GiB / 1e6 / 60, 9);
  });
});

describe('estimateFrom', () => {
  it('recommends the level that saves most and finds the monthly break-even volume', () => {
    const r = estimateFrom(
      [
        { level: 19, inputBytes: GiB, outputBytes: GiB / 5, seconds: 3000 },
        { level: 3, inputBytes: GiB, outputBytes: GiB / 4, seconds: 4 },
      ],
      a,
    );
    expect(r.levels.map((l) => l.level)).toEqual([3, 19]);
    expect(r.recommended).toBe(3);
    expect(r.fixedMonthly).toBeCloseTo(87.6 * 3, 9);
    const net3 = (r.levels[0]?.netPerTiB ?? 0) / 1024;
    expect(r.breakEvenGiBPerMonth).toBeCloseTo((87.6 * 3) / net3, 6);
  });
  it('has no break-even when nothing saves money', () => {
    const r = estimateFrom([{ level: 1, inputBytes: GiB, outputBytes: GiB + 1000, seconds: 1 }], a);
    expect(r.breakEvenGiBPerMonth).toBeNull();
    expect(formatEstimate(r, meta('s3://b/p/'))).toContain('break-even: never');
  });
});

function meta(url: string) {
  return {
    url,
    objectsListed: 3,
    listingTruncated: false,
    objectsSampled: 2,
    sampleBytes: 1000,
    date: '2026-11-21T00:00:00Z',
  };
}

describe('estimateHtml', () => {
  it('is one self-contained page with an inline SVG chart, the URL escaped', () => {
    const r = estimateFrom(
      [
        { level: 3, inputBytes: GiB, outputBytes: GiB / 4, seconds: 4 },
        { level: 0, inputBytes: GiB, outputBytes: GiB, seconds: 0.5 },
      ],
      a,
    );
    const page = estimateHtml(r, meta('s3://b/<script>alert(1)</script>'));
    expect(page).toContain('<svg');
    expect(page).not.toContain('<script>');
    expect(page).toContain('&lt;script&gt;');
    expect(page).not.toMatch(/src=|href=|url\(/i);
  });
});

describe('parseSize', () => {
  it.each([
    ['256MiB', 256 * 1024 * 1024],
    ['64MB', 64e6],
    ['1GiB', GiB],
    ['1.5KiB', 1536],
    ['4096', 4096],
  ])('%s = %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });
  it.each(['', 'lots', '-1MB', '0', '3 parsecs'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(/size/);
  });
});

describe('measureLevel (zstd in a worker thread)', () => {
  it('measures ratio and time; compressible data compresses, random bytes do not', async () => {
    const text = await measureLevel([benchmarkData(2 * 1024 * 1024)], 3);
    const random = await measureLevel([randomBytes(1024 * 1024)], 3);
    expect(text.inputBytes).toBe(2 * 1024 * 1024);
    expect(text.inputBytes / text.outputBytes).toBeGreaterThan(2);
    expect(text.seconds).toBeGreaterThan(0);
    expect(random.outputBytes).toBeGreaterThanOrEqual(random.inputBytes);
  });
  it('measures slow levels on a prefix of the sample', async () => {
    expect(levelBudget(12)).toBe(Number.POSITIVE_INFINITY);
    expect(levelBudget(15)).toBe(64 * 1024 * 1024);
    // Zeros: level 16 is quick on them; the cap is what is tested.
    const m = await measureLevel([Buffer.alloc(10 * 1024 * 1024), Buffer.alloc(10 * 1024 * 1024)], 16);
    expect(m.inputBytes).toBe(16 * 1024 * 1024);
  });
});
