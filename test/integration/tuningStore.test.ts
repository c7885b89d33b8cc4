import { DeleteTableCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { COMPRESSION_SETTINGS_KEY } from '../../src/core/config/index.js';
import { BalerError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/random.js';
import { applyTrial, emptyRecord, type TrialOutcome, type TuningRecord } from '../../src/tuning/record.js';
import { TuningStore } from '../../src/tuning/store.js';
import { ensureTable } from '../../src/local/provision.js';
import { localClients, uniqueName } from './helpers.js';

const t0 = Date.parse('2024-05-01T10:00:00.000Z');

/** The record after `outcomes` in order (every sum below is exact in floating point, so order does not matter). */
const expected = (key: string, outcomes: readonly TrialOutcome[]): TuningRecord =>
  outcomes.reduce((r, o) => applyTrial(r, o, new Date(t0)), emptyRecord(key));

describe('Class: TuningStore (dynalite)', () => {
  let aws: AwsClients;
  const table = uniqueName('compression-settings');
  const listTable = uniqueName('compression-settings-list');
  const key = (name: string) => `${uniqueName('bkt')}/${name}`;
  const store = (options: Partial<ConstructorParameters<typeof TuningStore>[0]> = {}) =>
    new TuningStore({ doc: aws.dynamodbDoc, table, ttlMs: 0, now: () => t0, ...options });

  beforeAll(async () => {
    aws = localClients();
    // The same table definition `baler local up` provisions.
    for (const name of [table, listTable]) await ensureTable(aws.dynamodb, name, COMPRESSION_SETTINGS_KEY);
  });
  afterAll(async () => {
    for (const name of [table, listTable]) {
      await aws.dynamodb.send(new DeleteTableCommand({ TableName: name }));
    }
    aws.destroy();
  });

  it('writes the documented item layout and reads it back exactly', async () => {
    // Prepare
    const k = key('round-trip');
    const outcomes: TrialOutcome[] = [
      { level: 3, netBenefit: 0.5, rawBytes: 1_000_000, objects: 10, cpuFactor: 1 },
      { level: 0, netBenefit: -0.25, rawBytes: 2_000, objects: 1, cpuFactor: 1.5 },
      { level: 3, netBenefit: 0.25, rawBytes: 3_000_000, objects: 20, cpuFactor: 0.75 },
    ];
    const writer = store();
    // Act
    const written: TuningRecord[] = [];
    for (const o of outcomes) written.push(await writer.record(k, o));
    const read = await store().get(k);
    // Assess
    expect(written.map((r) => r.version)).toEqual([1, 2, 3]);
    expect(read).toEqual({
      key: k,
      levelStats: {
        0: { sumBenefit: -0.25, trials: 1, objects: 1, bytes: 2_000 },
        3: { sumBenefit: 0.75, trials: 2, objects: 30, bytes: 4_000_000 },
      },
      sumCpuFactor: 3.25,
      totalProcessedFiles: 31,
      version: 3,
      lastUpdated: '2024-05-01T10:00:00.000Z',
    });
    expect(read).toEqual(written[2]);
    const raw = await aws.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { BucketPrefix: { S: k } }, ConsistentRead: true }),
    );
    expect(raw.Item).toEqual({
      BucketPrefix: { S: k },
      LevelStats: {
        M: {
          '0': {
            M: { sum_benefit: { N: '-0.25' }, trials: { N: '1' }, objects: { N: '1' }, bytes: { N: '2000' } },
          },
          '3': {
            M: {
              sum_benefit: { N: '0.75' },
              trials: { N: '2' },
              objects: { N: '30' },
              bytes: { N: '4000000' },
            },
          },
        },
      },
      SumCpuFactor: { N: '3.25' },
      TotalProcessedFiles: { N: '31' },
      Version: { N: '3' },
      LastUpdated: { S: '2024-05-01T10:00:00.000Z' },
    });
  });

  it('loses no trial when twenty stores record five outcomes each on one key at once', async () => {
    // Prepare
    const k = key('contended');
    // 100 calls in flight on one key with no pause between them: a call needs up to ~12 attempts on dynalite, more
    // than the default budget (real workers record once per batch); this test is about lost updates, not the budget.
    const workers = Array.from({ length: 20 }, (_, w) => ({
      store: store({ random: seededRandom(w + 1), maxAttempts: 50 }),
      outcomes: Array.from({ length: 5 }, (_, j): TrialOutcome => ({
        level: (w + j) % 4,
        netBenefit: (((w * 5 + j) % 7) - 3) * 0.25,
        rawBytes: 1_000 * (w + 1) + j,
        objects: 1 + ((w + j) % 3),
        cpuFactor: 0.5 + (w % 4) * 0.25,
      })),
    }));
    const all = workers.flatMap((w) => w.outcomes);
    // Act
    const results = await Promise.all(workers.flatMap((w) => w.outcomes.map((o) => w.store.record(k, o))));
    const final = await store().get(k);
    // Assess
    expect(new Set(results.map((r) => r.version))).toEqual(
      new Set(Array.from({ length: 100 }, (_, i) => i + 1)),
    );
    expect(final).toEqual(expected(k, all));
    expect(final.version).toBe(100);
    const stats = Object.values(final.levelStats);
    expect(stats.reduce((n, s) => n + (s?.trials ?? 0), 0)).toBe(100);
    expect(stats.reduce((n, s) => n + (s?.sumBenefit ?? 0), 0)).toBe(
      all.reduce((n, o) => n + o.netBenefit, 0),
    );
    expect(stats.reduce((n, s) => n + (s?.objects ?? 0), 0)).toBe(all.reduce((n, o) => n + o.objects, 0));
    expect(stats.reduce((n, s) => n + (s?.bytes ?? 0), 0)).toBe(all.reduce((n, o) => n + o.rawBytes, 0));
    expect(final.totalProcessedFiles).toBe(all.reduce((n, o) => n + o.objects, 0));
    expect(final.sumCpuFactor).toBe(all.reduce((n, o) => n + o.cpuFactor, 0));
  });

  it('serves a record from its cache for ttlMs, then reads the other stores’ writes', async () => {
    // Prepare
    let now = t0;
    const k = key('cached');
    const missing = key('cached-missing');
    const o: TrialOutcome = { level: 5, netBenefit: 0.5, rawBytes: 100, objects: 1, cpuFactor: 1 };
    const reader = store({ ttlMs: 30_000, now: () => now });
    const other = store();
    await reader.record(k, o);
    expect((await reader.get(missing)).version).toBe(0);
    // Act
    await other.record(k, o);
    await other.record(missing, o);
    const cached = [await reader.get(k), await reader.get(missing)];
    now += 29_999;
    const stillCached = [await reader.get(k), await reader.get(missing)];
    now += 1;
    const fresh = [await reader.get(k), await reader.get(missing)];
    // Assess
    expect(cached.map((r) => r.version)).toEqual([1, 0]);
    expect(stillCached.map((r) => r.version)).toEqual([1, 0]);
    expect(fresh.map((r) => r.version)).toEqual([2, 1]);
    expect(fresh[0]?.levelStats[5]).toEqual({ sumBenefit: 1, trials: 2, objects: 2, bytes: 200 });
  });

  it.each([
    ['a string where a number belongs', { SumCpuFactor: '1.5' }, 'SumCpuFactor'],
    [
      'a level stat with a string count',
      { LevelStats: { '3': { sum_benefit: 0.5, trials: 'two', objects: 1, bytes: 10 } } },
      'LevelStats.3.trials',
    ],
  ])('refuses an item with %s, naming the key and the attribute', async (_, broken, path) => {
    // Prepare
    const k = key('malformed');
    const item = {
      BucketPrefix: k,
      LevelStats: {},
      SumCpuFactor: 1,
      TotalProcessedFiles: 1,
      Version: 1,
      LastUpdated: '2024-05-01T10:00:00.000Z',
      ...broken,
    };
    await aws.dynamodbDoc.send(new PutCommand({ TableName: table, Item: item }));
    const o: TrialOutcome = { level: 3, netBenefit: 0.5, rawBytes: 10, objects: 1, cpuFactor: 1 };
    // Act
    const errors = [
      await store()
        .get(k)
        .catch((e: unknown) => e),
      await store()
        .record(k, o)
        .catch((e: unknown) => e),
    ];
    // Assess
    for (const e of errors) {
      expect(e).toBeInstanceOf(BalerError);
      expect(e).toMatchObject({
        code: 'TUNING_ITEM_INVALID',
        message: expect.stringContaining(`${JSON.stringify(k)}: ${path}:`) as unknown,
      });
    }
    const raw = await aws.dynamodb.send(
      new GetItemCommand({ TableName: table, Key: { BucketPrefix: { S: k } }, ConsistentRead: true }),
    );
    expect(raw.Item?.['Version']).toEqual({ N: '1' });
  });

  it('gives up with TUNING_CONFLICT after maxAttempts, and only the successful calls count', async () => {
    // Prepare
    const k = key('storm');
    const o: TrialOutcome = { level: 1, netBenefit: 0.25, rawBytes: 10, objects: 1, cpuFactor: 1 };
    const writers = Array.from({ length: 5 }, () => store({ maxAttempts: 1 }));
    // Act
    const settled = await Promise.allSettled(writers.map((w) => w.record(k, o)));
    const final = await store().get(k);
    // Assess
    const ok = settled.filter((s) => s.status === 'fulfilled');
    const failed = settled.filter((s) => s.status === 'rejected');
    expect(ok.length).toBeGreaterThanOrEqual(1);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    for (const f of failed) {
      expect(f.reason).toBeInstanceOf(BalerError);
      expect(f.reason).toMatchObject({ code: 'TUNING_CONFLICT' });
    }
    expect(final.version).toBe(ok.length);
    expect(final.levelStats[1]).toEqual({
      sumBenefit: 0.25 * ok.length,
      trials: ok.length,
      objects: ok.length,
      bytes: 10 * ok.length,
    });
  });

  it('lists the records under a prefix, sorted by key', async () => {
    // Prepare
    const root = uniqueName('bkt');
    const lister = store({ table: listTable });
    const o: TrialOutcome = { level: 2, netBenefit: 0.5, rawBytes: 10, objects: 1, cpuFactor: 1 };
    for (const k of [`${root}/b`, `${root}/a`, `${root}-other/a`, `${root}/c`]) await lister.record(k, o);
    // Act
    const under = await lister.list(`${root}/`);
    const all = await lister.list();
    // Assess
    expect(under.map((r) => r.key)).toEqual([`${root}/a`, `${root}/b`, `${root}/c`]);
    expect(under[0]).toEqual(expected(`${root}/a`, [o]));
    expect(all.map((r) => r.key)).toEqual([`${root}-other/a`, `${root}/a`, `${root}/b`, `${root}/c`]);
  });
});
