// Deterministic simulation of the tuning policy over synthetic workloads: each batch's outcome comes from a
// model of zstd (ratio and speed per level, with noise), the money from the real cost model, the choice
// and the learning from the real policy and record code. Seeded: the same run every time.
//
// Model: zstd 1.5.4 CLI benchmarks on this project's 2-vCPU machine (one thread; `zstd -b1 -e19`): 16 MB of
// varied JSON log lines (ratio ~5), 16 MB of the demo dataset's JSON logs and CSV (ratio ~10-15), 4 MB of
// random bytes, and `--fast=100` (level 0, "store").
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import {
  batchEconomics,
  DEFAULT_DATA_TRANSFER_COST_PER_GB,
  DEFAULT_FARGATE_COST_PER_MINUTE,
} from '../../src/tuning/cost.js';
import { bestLevel, chooseLevel } from '../../src/tuning/policy.js';
import { applyTrial, emptyRecord, type TuningRecord } from '../../src/tuning/record.js';

/** [compression ratio, MB/s] per level 0..19. */
type Model = readonly (readonly [number, number])[];

const TEXT: Model = [
  [1.242, 1693],
  [4.627, 515.7],
  [4.61, 434.5],
  [4.391, 286.8],
  [4.271, 228.4],
  [4.592, 137.3],
  [4.807, 105.5],
  [4.908, 86.0],
  [4.988, 72.2],
  [4.944, 56.5],
  [5.007, 40.8],
  [5.03, 23.7],
  [5.032, 23.4],
  [5.038, 10.8],
  [5.059, 7.26],
  [5.099, 5.62],
  [5.692, 3.4],
  [5.678, 2.36],
  [5.758, 1.59],
  [5.76, 1.41],
];
/** Highly compressible text (ratio ~10-15): the demo dataset's JSON logs and CSV, 16 MB. */
const HIGH_TEXT: Model = [
  [1.652, 1516],
  [10.62, 918.1],
  [10.33, 822.9],
  [9.843, 613.2],
  [9.833, 598.1],
  [10.61, 180.6],
  [11.35, 142.1],
  [11.68, 115.6],
  [12.29, 102.1],
  [12.26, 86.2],
  [12.53, 67.7],
  [12.79, 42.9],
  [12.79, 40.8],
  [12.99, 23.5],
  [13.08, 16.0],
  [13.26, 12.7],
  [12.83, 5.01],
  [13.05, 4.16],
  [13.14, 3.71],
  [14.79, 1.9],
];
/** Random bytes: every level adds ~103 bytes per 4 MB of framing; speed collapses from level 6 on. */
const RANDOM_RATIO = 4_000_000 / 4_000_103;
const RANDOM: Model = [
  10000, 7000, 7000, 5000, 5000, 6000, 250, 266, 254, 233, 268, 160, 80, 71, 55, 60, 7, 6, 5, 4.5,
].map((speed) => [RANDOM_RATIO, speed] as const);
/** Half text, half random bytes in every batch. */
const MIXED: Model = TEXT.map(([rt, st], level) => {
  const [rr, sr] = RANDOM[level] as readonly [number, number];
  return [1 / (0.5 / rt + 0.5 / rr), 1 / (0.5 / st + 0.5 / sr)] as const;
});

const MiB = 1024 * 1024;
const BATCH_BYTES = 256 * MiB;
const REGIONS = 2;
const RATES = {
  dataTransferCostPerGB: DEFAULT_DATA_TRANSFER_COST_PER_GB,
  fargateCostPerMinute: DEFAULT_FARGATE_COST_PER_MINUTE,
};

/**
 * Net benefit ($) of one batch at `level`; `noise` gives two uniform draws: the fraction of bytes saved varies
 * by ±1% of itself (random bytes never start to compress), the speed by ±10%.
 */
function outcome(model: Model, level: number, noise: () => number): number {
  const [ratio, mbps] = model[level] as readonly [number, number];
  const saved = (1 - 1 / ratio) * (1 + 0.02 * (noise() - 0.5));
  const speed = mbps * (1 + 0.2 * (noise() - 0.5));
  return batchEconomics(
    {
      rawBytes: BATCH_BYTES,
      archiveBytes: BATCH_BYTES * (1 - saved),
      compressSeconds: BATCH_BYTES / 1e6 / speed,
      targetRegions: REGIONS,
    },
    RATES,
  ).netBenefit;
}

/** Expected net benefit of a batch at each level (no noise). */
function expected(model: Model): number[] {
  return model.map((_, level) => outcome(model, level, () => 0.5));
}

interface Run {
  readonly record: TuningRecord;
  /** Level chosen for each batch. */
  readonly levels: number[];
  /** The exploitation level before each batch. */
  readonly bests: number[];
  readonly total: number;
}

/** `batches` batches of `model` under the adaptive policy (seeded), or at a fixed level. */
function simulate(model: Model, batches: number, fixed?: number, seed = 7): Run {
  const policyRandom = seededRandom(seed);
  const noise = seededRandom(seed + 1000); // the same data noise for the adaptive and the fixed runs
  let record = emptyRecord('/sim/bucket/prefix/');
  const levels: number[] = [];
  const bests: number[] = [];
  let total = 0;
  for (let i = 0; i < batches; i++) {
    const choice = chooseLevel(record, { random: policyRandom, cpuFactor: 1 });
    const level = fixed ?? choice.level;
    const net = outcome(model, level, noise);
    total += net;
    levels.push(level);
    bests.push(choice.best);
    record = applyTrial(record, {
      level,
      netBenefit: net,
      rawBytes: BATCH_BYTES,
      objects: 100,
      cpuFactor: 1,
    });
  }
  return { record, levels, bests, total };
}

/** The level most chosen as "best" over the last `n` batches. */
function settled(run: Run, n: number): number {
  const counts = new Map<number, number>();
  for (const b of run.bests.slice(-n)) counts.set(b, (counts.get(b) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? -1;
}

describe('tuning simulation (seeded)', () => {
  it('the models are what the assertions assume: on logs some level 8-11 beats 12; on random bytes store is best', () => {
    const text = expected(TEXT);
    const random = expected(RANDOM);
    const bestText = text.indexOf(Math.max(...text));
    expect(bestText).toBeGreaterThanOrEqual(8);
    expect(bestText).toBeLessThan(12);
    expect(random.indexOf(Math.max(...random))).toBe(0);
    expect(Math.max(...random)).toBeLessThan(0); // every level loses money on random bytes
  });

  for (const seed of [7, 8, 9]) {
    it(`highly compressible text (ratio 10-15) settles at level 9 or above, at the optimum (seed ${seed})`, () => {
      const run = simulate(HIGH_TEXT, 3000, undefined, seed);
      const exp = expected(HIGH_TEXT);
      const level = settled(run, 500);
      expect(level).toBeGreaterThanOrEqual(9);
      // Levels 10-12 are within 0.02% of each other here: "better than 12" is below the noise, so the
      // claim is "at the optimum"; the logs model below shows the strict gain over 12.
      expect(exp[level] as number).toBeGreaterThan(Math.max(...exp) * 0.999);
    });

    it(`JSON logs (ratio ~5) settle near the best level, earning more than level 12 (seed ${seed})`, () => {
      const run = simulate(TEXT, 3000, undefined, seed);
      const exp = expected(TEXT);
      const level = settled(run, 500);
      expect(bestLevel(run.record).reason).toBe('best');
      expect(level).toBeGreaterThanOrEqual(8);
      expect(level).toBeLessThan(12);
      expect(exp[level]).toBeGreaterThan(exp[12] as number);
      // within 0.2% of the model's optimum
      expect(exp[level] as number).toBeGreaterThan(Math.max(...exp) * 0.998);
    });

    it(`random bytes settle on store or level 1 within 200 batches (seed ${seed})`, () => {
      const run = simulate(RANDOM, 300, undefined, seed);
      const late = run.bests.slice(200);
      expect(late.every((b) => b === 0 || b === 1)).toBe(true);
      expect(settled(run, 100)).toBe(0);
    });

    it(`a mixed workload beats fixed level 12 on total net benefit (seed ${seed})`, () => {
      const adaptive = simulate(MIXED, 2000, undefined, seed);
      const fixed12 = simulate(MIXED, 2000, 12, seed);
      expect(adaptive.total).toBeGreaterThan(fixed12.total);
    });
  }

  it('is deterministic: the same seed gives the same levels', () => {
    expect(simulate(TEXT, 500, undefined, 3).levels).toEqual(simulate(TEXT, 500, undefined, 3).levels);
  });
});
