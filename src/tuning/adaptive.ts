import { seededRandom } from '../core/random.js';
import type { Logger } from '../core/logger.js';
import type { LevelChooser } from './level.js';
import { measureLevel } from './estimate.js';
import { chooseLevel } from './policy.js';
import type { TrialOutcome, TuningRecord } from './record.js';

/** Where the fleet's statistics live (the DynamoDB `TuningStore`, or anything with its two calls). */
export interface TuningRecords {
  get(key: string): Promise<TuningRecord>;
  record(key: string, outcome: TrialOutcome): Promise<TuningRecord>;
}

export interface AdaptiveOptions {
  readonly records: TuningRecords;
  /** This worker's CPU factor (see {@link measureCpuFactor}). */
  readonly cpuFactor: number;
  /** Uniform [0, 1) numbers. @defaultValue Math.random */
  readonly random?: () => number;
  readonly log?: Logger;
}

/**
 * The adaptive {@link LevelChooser}: asks the policy for each batch's level from the key's learned record and
 * adds each batch's outcome to it. A failure to record is logged and does not fail the batch (the archive
 * is already uploaded; one lost trial only slows learning).
 */
export function adaptiveLevel(o: AdaptiveOptions): LevelChooser {
  const random = o.random ?? Math.random;
  return {
    choose: async (key) => {
      const record = await o.records.get(key);
      const choice = chooseLevel(record, { random, cpuFactor: o.cpuFactor });
      o.log?.debug({ event: 'level_chosen', key, ...choice, version: record.version });
      return choice.level;
    },
    record: async (key, level, outcome) => {
      try {
        await o.records.record(key, { level, ...outcome, cpuFactor: o.cpuFactor });
      } catch (e: unknown) {
        o.log?.warn({
          event: 'tuning_record_failed',
          key,
          level,
          err: e instanceof Error ? e.message : String(e),
        });
      }
    },
  };
}

/**
 * zstd level-3 speed of the reference machine on {@link benchmarkData}, MB/s: this project's benchmark
 * machine (AMD EPYC, 2 vCPU; measured 2026-11-21: 197–232 MB/s over three runs).
 */
export const REFERENCE_MBPS = 215;

/** Deterministic, compressible (~4:1) JSON-like lines, `size` bytes. */
export function benchmarkData(size: number): Buffer {
  const rnd = seededRandom(20261121);
  const words = ['info', 'warn', 'error', 'request', 'done', 'user', 'order', 'cache', 'miss', 'retry', 'ok'];
  const parts: string[] = [];
  let length = 0;
  while (length < size) {
    const line = `{"ts":${Math.floor(rnd() * 1e9)},"level":"${words[Math.floor(rnd() * 3)] ?? ''}","msg":"${
      words[3 + Math.floor(rnd() * 8)] ?? ''
    }","id":"${Math.floor(rnd() * 0xffffffff).toString(16)}","ms":${Math.floor(rnd() * 5000)}}\n`;
    parts.push(line);
    length += line.length;
  }
  return Buffer.from(parts.join('')).subarray(0, size);
}

/**
 * This machine's CPU factor: zstd level-3 speed on {@link benchmarkData} in the codec's worker thread (one
 * thread), relative to {@link REFERENCE_MBPS}. 1 = the reference machine, 2 = twice as fast. Takes ~0.1 s.
 */
export async function measureCpuFactor(bytes = 16 * 1024 * 1024): Promise<number> {
  const { seconds } = await measureLevel([benchmarkData(bytes)], 3);
  return seconds > 0 ? bytes / 1e6 / seconds / REFERENCE_MBPS : 1;
}
