import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import {
  adaptiveLevel,
  benchmarkData,
  measureCpuFactor,
  type TuningRecords,
} from '../../src/tuning/adaptive.js';
import { DEFAULT_LEVEL } from '../../src/tuning/policy.js';
import { applyTrial, emptyRecord, type TrialOutcome, type TuningRecord } from '../../src/tuning/record.js';

/** The TuningStore contract in memory (the DynamoDB store has its own integration test). */
class MemoryRecords implements TuningRecords {
  readonly records = new Map<string, TuningRecord>();
  failWith: Error | undefined;
  get(key: string): Promise<TuningRecord> {
    return Promise.resolve(this.records.get(key) ?? emptyRecord(key));
  }
  record(key: string, outcome: TrialOutcome): Promise<TuningRecord> {
    if (this.failWith) return Promise.reject(this.failWith);
    const next = applyTrial(this.records.get(key) ?? emptyRecord(key), outcome);
    this.records.set(key, next);
    return Promise.resolve(next);
  }
}

describe('adaptiveLevel', () => {
  it('starts a new key at the default level and records outcomes with this worker’s CPU factor', async () => {
    const records = new MemoryRecords();
    const chooser = adaptiveLevel({ records, cpuFactor: 1.25, random: () => 0.99 });
    expect(await chooser.choose('/s/b/p/')).toBe(DEFAULT_LEVEL);
    await chooser.record('/s/b/p/', 12, { netBenefit: 0.5, rawBytes: 1000, objects: 3 });
    expect(records.records.get('/s/b/p/')).toMatchObject({
      version: 1,
      sumCpuFactor: 1.25,
      totalProcessedFiles: 3,
      levelStats: { 12: { sumBenefit: 0.5, trials: 1, objects: 3, bytes: 1000 } },
    });
  });
  it('follows what was learned: ten losing batches at 12 send the key to store', async () => {
    const records = new MemoryRecords();
    const chooser = adaptiveLevel({ records, cpuFactor: 1, random: () => 0.99 });
    for (let i = 0; i < 10; i++)
      await chooser.record('/k/', 12, { netBenefit: -0.01, rawBytes: 1e6, objects: 1 });
    expect(await chooser.choose('/k/')).toBe(0);
  });
  it('logs a failed record and does not fail the batch', async () => {
    const records = new MemoryRecords();
    records.failWith = new Error('throttled');
    const lines: string[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const chooser = adaptiveLevel({
      records,
      cpuFactor: 1,
      log: createLogger({ service: 'source', destination }),
    });
    await expect(
      chooser.record('/k/', 5, { netBenefit: 1, rawBytes: 1, objects: 1 }),
    ).resolves.toBeUndefined();
    expect(lines.join('')).toMatch(/"event":"tuning_record_failed".*"err":"throttled"/);
  });
});

describe('CPU factor', () => {
  it('benchmark data is deterministic', () => {
    expect(benchmarkData(4096).equals(benchmarkData(4096))).toBe(true);
    expect(benchmarkData(4096)).toHaveLength(4096);
  });
  it('is a positive speed ratio measured in the codec’s worker thread', async () => {
    const f = await measureCpuFactor(4 * 1024 * 1024);
    expect(Number.isFinite(f)).toBe(true);
    expect(f).toBeGreaterThan(0.05); // even a very slow CI machine is not 20× slower than the reference
    expect(f).toBeLessThan(50);
  });
});
