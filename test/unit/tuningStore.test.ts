import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it, vi } from 'vitest';
import { BalerError } from '../../src/core/errors.js';
import { applyTrial, emptyRecord, type TrialOutcome, type TuningRecord } from '../../src/tuning/record.js';
import { itemToRecord, recordToItem, TuningStore } from '../../src/tuning/store.js';

const t0 = new Date('2024-05-01T10:00:00.000Z');
const outcome: TrialOutcome = { level: 3, netBenefit: 0.5, rawBytes: 1024, objects: 2, cpuFactor: 1.25 };
const item = (overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  BucketPrefix: 'bkt/p',
  LevelStats: { '3': { sum_benefit: 0.5, trials: 1, objects: 2, bytes: 1024 } },
  SumCpuFactor: 1.25,
  TotalProcessedFiles: 2,
  Version: 1,
  LastUpdated: '2024-05-01T10:00:00.000Z',
  ...overrides,
});

describe('Function: recordToItem', () => {
  it('writes the documented attribute names, levels as decimal strings', () => {
    // Prepare
    const r = applyTrial(
      applyTrial(emptyRecord('bkt/p'), outcome, t0),
      { ...outcome, level: 0, netBenefit: -1 },
      t0,
    );
    // Act
    const written = recordToItem(r);
    // Assess
    expect(written).toEqual({
      BucketPrefix: 'bkt/p',
      LevelStats: {
        '0': { sum_benefit: -1, trials: 1, objects: 2, bytes: 1024 },
        '3': { sum_benefit: 0.5, trials: 1, objects: 2, bytes: 1024 },
      },
      SumCpuFactor: 2.5,
      TotalProcessedFiles: 4,
      Version: 2,
      LastUpdated: '2024-05-01T10:00:00.000Z',
    });
  });
});

describe('Function: itemToRecord', () => {
  it.each([
    ['an empty record', emptyRecord('bkt/p')],
    ['one trial', applyTrial(emptyRecord('bkt/p'), outcome, t0)],
    [
      'levels 0 and 19',
      applyTrial(applyTrial(emptyRecord('b'), { ...outcome, level: 0 }, t0), { ...outcome, level: 19 }, t0),
    ],
  ])('reads back what recordToItem wrote: %s', (_, r: TuningRecord) => {
    // Act
    const back = itemToRecord(recordToItem(r));
    // Assess
    expect(back).toEqual(r);
  });

  it.each([
    ['a string number', { SumCpuFactor: '1.25' }, 'SumCpuFactor'],
    [
      'level 20',
      { LevelStats: { '20': { sum_benefit: 0, trials: 1, objects: 1, bytes: 1 } } },
      'LevelStats.20',
    ],
    [
      'level "03"',
      { LevelStats: { '03': { sum_benefit: 0, trials: 1, objects: 1, bytes: 1 } } },
      'LevelStats.03',
    ],
    ['no bytes', { LevelStats: { '3': { sum_benefit: 0, trials: 1, objects: 1 } } }, 'LevelStats.3.bytes'],
    [
      'negative trials',
      { LevelStats: { '3': { sum_benefit: 0, trials: -1, objects: 1, bytes: 1 } } },
      'LevelStats.3.trials',
    ],
    ['a fractional version', { Version: 1.5 }, 'Version'],
    ['no LastUpdated', { LastUpdated: undefined }, 'LastUpdated'],
    ['a LastUpdated that is no time', { LastUpdated: 'yesterday' }, 'LastUpdated'],
  ])('refuses an item with %s, naming the key and %s', (_, overrides, path) => {
    // Act
    const read = () => itemToRecord(item(overrides));
    // Assess
    expect(read).toThrow(BalerError);
    expect(read).toThrow(expect.objectContaining({ code: 'TUNING_ITEM_INVALID' }));
    expect(read).toThrow(`compression-settings item "bkt/p": ${path}:`);
  });

  it('says which levels a LevelStats key may be', () => {
    // Act
    const read = () =>
      itemToRecord(item({ LevelStats: { '20': { sum_benefit: 0, trials: 1, objects: 1, bytes: 1 } } }));
    // Assess
    expect(read).toThrow('compression-settings item "bkt/p": LevelStats.20: level must be "0".."19"');
  });

  it('says so when the item has no key', () => {
    // Act
    const read = () => itemToRecord({});
    // Assess
    expect(read).toThrow('compression-settings item without a string BucketPrefix: BucketPrefix:');
  });
});

/**
 * A document client whose Get returns the queued items and whose Put answers with the queued results: for the
 * rare error paths only (lost races, throttling); the happy paths run against dynalite
 * (test/integration/tuningStore.test.ts).
 */
function fakeDoc(gets: (Record<string, unknown> | undefined)[], puts: (Error | undefined)[]) {
  const sent: (GetCommand | PutCommand)[] = [];
  const send = vi.fn((cmd: GetCommand | PutCommand) => {
    sent.push(cmd);
    if (cmd instanceof GetCommand) return Promise.resolve({ Item: gets.shift() });
    const e = puts.shift();
    return e ? Promise.reject(e) : Promise.resolve({});
  });
  return { doc: { send } as unknown as DynamoDBDocumentClient, sent, send };
}
const conflict = () =>
  new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });

describe('Class: TuningStore', () => {
  it('re-reads and retries after a lost race, sleeping a jittered backoff', async () => {
    // Prepare
    const { doc, send } = fakeDoc(
      [undefined, item(), item({ Version: 2 })],
      [conflict(), conflict(), undefined],
    );
    const random = vi.fn(() => 0);
    const store = new TuningStore({ doc, random });
    // Act
    const r = await store.record('bkt/p', outcome);
    // Assess
    expect(r.version).toBe(3);
    expect(send).toHaveBeenCalledTimes(6);
    expect(random).toHaveBeenCalledTimes(2);
  });

  it('throws TUNING_CONFLICT after maxAttempts lost races, with the last conflict as cause', async () => {
    // Prepare
    const { doc, send } = fakeDoc([undefined, undefined, undefined], [conflict(), conflict(), conflict()]);
    const store = new TuningStore({ doc, maxAttempts: 3, random: () => 0 });
    // Act
    const e = await store.record('bkt/p', outcome).catch((x: unknown) => x);
    // Assess
    expect(e).toBeInstanceOf(BalerError);
    expect(e).toMatchObject({ code: 'TUNING_CONFLICT' });
    expect((e as Error).cause).toBeInstanceOf(ConditionalCheckFailedException);
    expect(send).toHaveBeenCalledTimes(6);
  });

  it('lets other errors through without retrying', async () => {
    // Prepare
    const boom = new Error('ProvisionedThroughputExceeded');
    const { doc, send } = fakeDoc([undefined], [boom]);
    const store = new TuningStore({ doc });
    // Act
    const e = await store.record('bkt/p', outcome).catch((x: unknown) => x);
    // Assess
    expect(e).toBe(boom);
    expect(send).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['level 20', { level: 20 }, 'level'],
    ['a fractional level', { level: 2.5 }, 'level'],
    ['a NaN benefit', { netBenefit: Number.NaN }, 'netBenefit'],
    ['negative bytes', { rawBytes: -1 }, 'rawBytes'],
  ])('refuses an outcome with %s before touching the table', async (_, bad, path) => {
    // Prepare
    const { doc, send } = fakeDoc([], []);
    const store = new TuningStore({ doc });
    // Act
    const e = await store.record('bkt/p', { ...outcome, ...bad }).catch((x: unknown) => x);
    // Assess
    expect(e).toMatchObject({
      code: 'TUNING_OUTCOME_INVALID',
      message: expect.stringContaining(`outcome ${path}:`) as unknown,
    });
    expect(send).not.toHaveBeenCalled();
  });
});
