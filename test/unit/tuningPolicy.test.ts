import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import { costRatesFrom } from '../../src/cli/replicate.js';
import { batchEconomics } from '../../src/tuning/cost.js';
import {
  bestLevel,
  chooseLevel,
  cpuShift,
  DEFAULT_LEVEL,
  explorationRate,
  explorationStep,
  rankedLevels,
} from '../../src/tuning/policy.js';
import { applyTrial, emptyRecord, type LevelStat, type TuningRecord } from '../../src/tuning/record.js';

const GiB = 1024 ** 3;

/** A record with the given per-level stats (`perGiB` $ per GiB over `trials` batches of 1 GiB). */
function recordWith(
  levels: Record<number, { perGiB: number; trials: number }>,
  extra: Partial<TuningRecord> = {},
) {
  const levelStats: Record<number, LevelStat> = {};
  let version = 0;
  for (const [level, { perGiB, trials }] of Object.entries(levels)) {
    levelStats[Number(level)] = {
      sumBenefit: perGiB * trials,
      trials,
      objects: trials * 10,
      bytes: trials * GiB,
    };
    version += trials;
  }
  return { ...emptyRecord('/s/b/p/'), levelStats, version, sumCpuFactor: version, ...extra };
}

/** A scripted random source: returns the given numbers in turn. */
function script(...xs: number[]): () => number {
  let i = 0;
  return () => {
    const x = xs[i++];
    if (x === undefined) throw new Error('script exhausted');
    return x;
  };
}

describe('batchEconomics', () => {
  it('charges compression CPU only and scales savings by target regions', () => {
    const rates = { dataTransferCostPerGB: 0.02, fargateCostPerMinute: 0.000395 };
    const e = batchEconomics(
      { rawBytes: GiB, archiveBytes: GiB / 4, compressSeconds: 60, targetRegions: 2 },
      rates,
    );
    expect(e.bytesSaved).toBe(0.75 * GiB);
    expect(e.transferSavings).toBeCloseTo(0.75 * 0.02 * 2, 12);
    expect(e.computeCost).toBeCloseTo(1.025 * 0.000395, 12);
    expect(e.netBenefit).toBeCloseTo(0.03 - 1.025 * 0.000395, 12);
    expect(e.benefitScore).toBeCloseTo(e.netBenefit, 12); // per GiB of 1 GiB
  });
  it('is negative for incompressible data (archive larger than the input)', () => {
    const rates = { dataTransferCostPerGB: 0.02, fargateCostPerMinute: 0.000395 };
    const e = batchEconomics(
      { rawBytes: GiB, archiveBytes: GiB + 100, compressSeconds: 1, targetRegions: 3 },
      rates,
    );
    expect(e.netBenefit).toBeLessThan(0);
  });
});

describe('applyTrial', () => {
  it('adds to the level, the totals and the version without touching the input', () => {
    const r0 = emptyRecord('/s/b/');
    const r1 = applyTrial(
      r0,
      { level: 3, netBenefit: 0.5, rawBytes: 100, objects: 2, cpuFactor: 1.5 },
      new Date(5),
    );
    const r2 = applyTrial(r1, { level: 3, netBenefit: -0.25, rawBytes: 50, objects: 1, cpuFactor: 0.5 });
    expect(r0.version).toBe(0);
    expect(r1).toMatchObject({
      version: 1,
      totalProcessedFiles: 2,
      sumCpuFactor: 1.5,
      lastUpdated: new Date(5).toISOString(),
    });
    expect(r2.levelStats[3]).toEqual({ sumBenefit: 0.25, trials: 2, objects: 3, bytes: 150 });
    expect(r2).toMatchObject({ version: 2, totalProcessedFiles: 3, sumCpuFactor: 2 });
  });
});

describe('bestLevel', () => {
  it('is the default level for a new key and while no level has 10 trials', () => {
    expect(bestLevel(emptyRecord('/k/'))).toEqual({ level: DEFAULT_LEVEL, reason: 'default' });
    expect(bestLevel(recordWith({ 5: { perGiB: 9, trials: 9 } }))).toEqual({
      level: DEFAULT_LEVEL,
      reason: 'default',
    });
  });
  it('picks the highest mean benefit per GiB among levels with at least 10 trials', () => {
    const r = recordWith({
      9: { perGiB: 0.031, trials: 10 },
      12: { perGiB: 0.03, trials: 40 },
      15: { perGiB: 0.05, trials: 9 },
    });
    expect(bestLevel(r)).toEqual({ level: 9, reason: 'best' });
  });
  it('normalises by bytes, not by batches or objects', () => {
    // Level 3: one huge batch that lost money and many tiny ones that won a little; per GiB it lost.
    const r = recordWith({ 6: { perGiB: 0.01, trials: 10 } });
    const levelStats = {
      ...r.levelStats,
      3: { sumBenefit: -0.5 + 20 * 0.0001, trials: 21, objects: 21, bytes: 10 * GiB + 20 * 1024 },
    };
    expect(bestLevel({ ...r, levelStats }).level).toBe(6);
  });
  it('goes to store when the best qualified level loses money, then keeps the least bad', () => {
    const losing = recordWith({ 12: { perGiB: -0.002, trials: 12 } });
    expect(bestLevel(losing)).toEqual({ level: 0, reason: 'store' });
    const tried = recordWith({ 12: { perGiB: -0.002, trials: 12 }, 0: { perGiB: -0.00001, trials: 10 } });
    expect(bestLevel(tried)).toEqual({ level: 0, reason: 'best' });
    const storeWorse = recordWith({
      1: { perGiB: -0.00001, trials: 10 },
      0: { perGiB: -0.0001, trials: 10 },
    });
    expect(bestLevel(storeWorse)).toEqual({ level: 1, reason: 'best' });
  });
  it('ranks ties lower level first', () => {
    expect(
      rankedLevels(recordWith({ 8: { perGiB: 1, trials: 10 }, 4: { perGiB: 1, trials: 10 } })).map(
        (x) => x.level,
      ),
    ).toEqual([4, 8]);
  });
});

describe('explorationRate', () => {
  it('starts at 25%, loses 2 points per 1,000 updates and stops at 12.5%', () => {
    expect(explorationRate(0)).toBe(0.25);
    expect(explorationRate(1000)).toBeCloseTo(0.23, 12);
    expect(explorationRate(5000)).toBeCloseTo(0.15, 12);
    expect(explorationRate(6250)).toBeCloseTo(0.125, 12);
    expect(explorationRate(1_000_000)).toBe(0.125);
  });
});

describe('explorationStep', () => {
  it('draws ±1 / ±2 / ±3 with probabilities 60 / 25 / 15 %', () => {
    const rnd = seededRandom(42);
    const counts = new Map<number, number>();
    const n = 100_000;
    for (let i = 0; i < n; i++) {
      const s = explorationStep(rnd);
      counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    const share = (k: number) => ((counts.get(k) ?? 0) + (counts.get(-k) ?? 0)) / n;
    expect(share(1)).toBeCloseTo(0.6, 2);
    expect(share(2)).toBeCloseTo(0.25, 2);
    expect(share(3)).toBeCloseTo(0.15, 2);
    expect((counts.get(1) ?? 0) / n).toBeCloseTo(0.3, 2); // both directions
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-3, -2, -1, 1, 2, 3]);
  });
});

describe('cpuShift', () => {
  const fleet = recordWith({ 12: { perGiB: 0.03, trials: 100 } }, { sumCpuFactor: 100 }); // mean 1.0
  it('shifts one level on machines more than 10% faster or slower than the fleet mean', () => {
    expect(cpuShift(fleet, 1.11)).toBe(1);
    expect(cpuShift(fleet, 0.89)).toBe(-1);
    expect(cpuShift(fleet, 1.09)).toBe(0);
    expect(cpuShift(fleet, 0.91)).toBe(0);
  });
  it('does not shift on a new key', () => {
    expect(cpuShift(emptyRecord('/k/'), 3)).toBe(0);
  });
});

describe('chooseLevel', () => {
  const r = recordWith({ 10: { perGiB: 0.03, trials: 20 } }, { sumCpuFactor: 20 });
  it('exploits the best level when the draw is above the exploration rate', () => {
    expect(chooseLevel(r, { random: script(0.9), cpuFactor: 1 })).toEqual({
      level: 10,
      reason: 'best',
      best: 10,
    });
  });
  it('applies the CPU shift to the best level', () => {
    expect(chooseLevel(r, { random: script(0.9), cpuFactor: 2 }).level).toBe(11);
    expect(chooseLevel(r, { random: script(0.9), cpuFactor: 0.5 }).level).toBe(9);
  });
  it('explores a neighbour by the drawn step', () => {
    // explore (0.1 < 0.25), step size 2 (0.7), direction up (0.9)
    expect(chooseLevel(r, { random: script(0.1, 0.7, 0.9), cpuFactor: 1 })).toEqual({
      level: 12,
      reason: 'explore',
      best: 10,
    });
    // step size 3 (0.9), direction down (0.1)
    expect(chooseLevel(r, { random: script(0.1, 0.9, 0.1), cpuFactor: 1 }).level).toBe(7);
  });
  it('clamps to 0..19 and turns a step the clamp would cancel around', () => {
    const atStore = recordWith({ 0: { perGiB: -0.0001, trials: 20 } });
    expect(chooseLevel(atStore, { random: script(0.1, 0.1, 0.1), cpuFactor: 1 }).level).toBe(1); // -1 -> +1
    const atTop = recordWith({ 19: { perGiB: 0.5, trials: 20 } });
    expect(chooseLevel(atTop, { random: script(0.1, 0.9, 0.9), cpuFactor: 1 }).level).toBe(16); // +3 -> -3
    expect(chooseLevel(atTop, { random: script(0.9), cpuFactor: 5 }).level).toBe(19); // shift clamped
  });
  it('never shifts store', () => {
    const losing = recordWith({ 12: { perGiB: -0.002, trials: 12 } }, { sumCpuFactor: 12 });
    expect(chooseLevel(losing, { random: script(0.9), cpuFactor: 5 })).toEqual({
      level: 0,
      reason: 'store',
      best: 0,
    });
  });
});

describe('costRatesFrom (prices: environment, then settings.json, then defaults)', () => {
  const settings = {
    stackName: 's',
    enabledRegions: [],
    tags: {},
    notificationEmails: [],
    dataTransferCost: 0.09,
    fargateCostPerMinute: 0.001,
  };
  it('uses the defaults without either', () => {
    expect(costRatesFrom({})).toEqual({ dataTransferCostPerGB: 0.02, fargateCostPerMinute: 0.000395 });
  });
  it('lets settings.json override the defaults and the environment override settings.json', () => {
    expect(costRatesFrom({}, settings)).toEqual({ dataTransferCostPerGB: 0.09, fargateCostPerMinute: 0.001 });
    expect(costRatesFrom({ DATA_TRANSFER_COST: '0.05', FARGATE_COST_PER_MINUTE: '' }, settings)).toEqual({
      dataTransferCostPerGB: 0.05,
      fargateCostPerMinute: 0.001,
    });
  });
  it('refuses a bad environment value with a clear error', () => {
    expect(() => costRatesFrom({ DATA_TRANSFER_COST: 'cheap' })).toThrow(
      /DATA_TRANSFER_COST must be a number ≥ 0/,
    );
  });
});
