import { setTimeout as sleep } from 'node:timers/promises';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  GetCommand,
  paginateScan,
  PutCommand,
  type DynamoDBDocumentClient,
  type ScanCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { COMPRESSION_SETTINGS_KEY, COMPRESSION_SETTINGS_TABLE } from '../core/config/index.js';
import { BalerError } from '../core/errors.js';
import { applyTrial, emptyRecord, type LevelStat, type TrialOutcome, type TuningRecord } from './record.js';

/** Highest zstd level a record holds statistics for (levels are 0..19; 0 = store). */
const MAX_LEVEL = 19;
/** First backoff step after a lost optimistic-locking race, ms (full jitter: the sleep is uniform in [0, step)). */
const BACKOFF_BASE_MS = 10;
/** Largest backoff step, ms. */
const BACKOFF_CAP_MS = 500;

const count = z.number().int().nonnegative();

/** One entry of `LevelStats`: the original Python system's attribute names, plus `bytes`. */
const LevelStatItemSchema = z.object({
  sum_benefit: z.number(),
  trials: count,
  objects: count,
  bytes: count,
});

/**
 * One item of the `compression-settings` table, as the document client returns it. `LevelStats` is keyed by the
 * level as a decimal string ("0".."19").
 */
const TuningItemSchema = z.object({
  [COMPRESSION_SETTINGS_KEY]: z.string().min(1),
  LevelStats: z.record(
    z.string().regex(/^(?:[0-9]|1[0-9])$/, 'level must be "0".."19"'),
    LevelStatItemSchema,
  ),
  SumCpuFactor: z.number().nonnegative(),
  TotalProcessedFiles: count,
  Version: count,
  LastUpdated: z.iso.datetime({ offset: true, local: true }),
});

/** What `record` accepts: a level the table can hold and finite numbers (anything else would poison the item). */
const TrialOutcomeSchema = z.object({
  level: z.number().int().min(0).max(MAX_LEVEL),
  netBenefit: z.number(),
  rawBytes: count,
  objects: count,
  cpuFactor: z.number().nonnegative(),
});

function issueText(issues: readonly z.core.$ZodIssue[]): string {
  const issue = issues[0];
  if (!issue) return ': invalid';
  // A bad `LevelStats` key says only "Invalid key in record"; the key schema's own message says what is expected.
  const message = issue.code === 'invalid_key' ? (issue.issues[0]?.message ?? issue.message) : issue.message;
  return `${issue.path.map(String).join('.')}: ${message}`;
}

/**
 * The DynamoDB item of a record (for the document client): `BucketPrefix`, `LevelStats` (level as a decimal string
 * → `{ sum_benefit, trials, objects, bytes }`), `SumCpuFactor`, `TotalProcessedFiles`, `Version`, `LastUpdated`.
 *
 * @example
 * recordToItem(applyTrial(emptyRecord('bkt/p'), { level: 3, netBenefit: 0.5, rawBytes: 1024, objects: 2, cpuFactor: 1 }))
 * // { BucketPrefix: 'bkt/p', LevelStats: { '3': { sum_benefit: 0.5, trials: 1, objects: 2, bytes: 1024 } },
 * //   SumCpuFactor: 1, TotalProcessedFiles: 2, Version: 1, LastUpdated: '…' }
 */
export function recordToItem(r: TuningRecord): Record<string, unknown> {
  const levelStats: Record<string, { sum_benefit: number; trials: number; objects: number; bytes: number }> =
    {};
  for (const [level, s] of Object.entries(r.levelStats)) {
    if (!s) continue;
    levelStats[level] = { sum_benefit: s.sumBenefit, trials: s.trials, objects: s.objects, bytes: s.bytes };
  }
  return {
    [COMPRESSION_SETTINGS_KEY]: r.key,
    LevelStats: levelStats,
    SumCpuFactor: r.sumCpuFactor,
    TotalProcessedFiles: r.totalProcessedFiles,
    Version: r.version,
    LastUpdated: r.lastUpdated,
  };
}

/**
 * The record of a DynamoDB item (the inverse of {@link recordToItem}). A malformed item is a `BalerError` with code
 * `TUNING_ITEM_INVALID` naming the item's key and the first offending attribute path.
 *
 * @example
 * itemToRecord({ BucketPrefix: 'bkt/p', LevelStats: {}, SumCpuFactor: 0, TotalProcessedFiles: 0, Version: 0,
 *   LastUpdated: '1970-01-01T00:00:00.000Z' }) // = emptyRecord('bkt/p')
 */
export function itemToRecord(item: unknown): TuningRecord {
  const parsed = TuningItemSchema.safeParse(item);
  if (!parsed.success) {
    const key: unknown =
      typeof item === 'object' && item !== null
        ? (item as Record<string, unknown>)[COMPRESSION_SETTINGS_KEY]
        : undefined;
    const name =
      typeof key === 'string' ? JSON.stringify(key) : `without a string ${COMPRESSION_SETTINGS_KEY}`;
    throw new BalerError(
      'TUNING_ITEM_INVALID',
      `${COMPRESSION_SETTINGS_TABLE} item ${name}: ${issueText(parsed.error.issues)}`,
    );
  }
  const i = parsed.data;
  const levelStats: Record<number, LevelStat> = {};
  for (const [level, s] of Object.entries(i.LevelStats)) {
    levelStats[Number(level)] = {
      sumBenefit: s.sum_benefit,
      trials: s.trials,
      objects: s.objects,
      bytes: s.bytes,
    };
  }
  return {
    key: i[COMPRESSION_SETTINGS_KEY],
    levelStats,
    sumCpuFactor: i.SumCpuFactor,
    totalProcessedFiles: i.TotalProcessedFiles,
    version: i.Version,
    lastUpdated: i.LastUpdated,
  };
}

function isConditionalCheckFailed(e: unknown): boolean {
  return (
    e instanceof ConditionalCheckFailedException ||
    (e instanceof Error && e.name === 'ConditionalCheckFailedException')
  );
}

/** Options of {@link TuningStore}. */
export interface TuningStoreOptions {
  /** Document client of the table's region (e.g. `AwsClients.dynamodbDoc`). */
  readonly doc: DynamoDBDocumentClient;
  /** @defaultValue {@link COMPRESSION_SETTINGS_TABLE} */
  readonly table?: string;
  /** How long `get` serves a record from memory, ms. @defaultValue 30000 */
  readonly ttlMs?: number;
  /** Read-modify-write attempts per `record`, the first one included. @defaultValue 10 */
  readonly maxAttempts?: number;
  /** Uniform [0, 1) source for the backoff jitter. @defaultValue Math.random */
  readonly random?: () => number;
  /** Clock of the cache, ms since the epoch; also stamps `LastUpdated`. @defaultValue Date.now */
  readonly now?: () => number;
}

/**
 * Reads (with a short cache) and updates `compression-settings` items, one per source key (`BucketPrefix`).
 * Updates are optimistic: read, {@link applyTrial}, put on condition that `Version` is still the one read (or, for
 * a new key, that there is still no item); a lost race is retried with exponential backoff and full jitter (base
 * 10 ms, cap 500 ms), so concurrent workers never lose a trial.
 *
 * @example
 * const store = new TuningStore({ doc: aws.dynamodbDoc });
 * await store.record('bkt/p', { level: 3, netBenefit: 0.01, rawBytes: 2 ** 20, objects: 10, cpuFactor: 1 });
 * (await store.get('bkt/p')).levelStats[3]?.trials // 1
 */
export class TuningStore {
  readonly #doc: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #ttlMs: number;
  readonly #maxAttempts: number;
  readonly #random: () => number;
  readonly #now: () => number;
  readonly #cache = new Map<string, { at: number; value: TuningRecord }>();

  constructor(options: TuningStoreOptions) {
    this.#doc = options.doc;
    this.#table = options.table ?? COMPRESSION_SETTINGS_TABLE;
    this.#ttlMs = options.ttlMs ?? 30_000;
    this.#maxAttempts = Math.max(1, options.maxAttempts ?? 10);
    this.#random = options.random ?? Math.random;
    this.#now = options.now ?? Date.now;
  }

  /**
   * The record of `key` (an empty one when there is no item), served from memory for `ttlMs` after it was read or
   * written by this store. A malformed item is a `BalerError` `TUNING_ITEM_INVALID`.
   */
  async get(key: string): Promise<TuningRecord> {
    const hit = this.#cache.get(key);
    if (hit && this.#now() - hit.at < this.#ttlMs) return hit.value;
    const { value } = await this.#read(key);
    this.#cache.set(key, { at: this.#now(), value });
    return value;
  }

  /**
   * Add one batch's outcome to the record of `key` and return the record written. Retries lost races up to
   * `maxAttempts` times, then throws a `BalerError` `TUNING_CONFLICT`; an outcome the table cannot hold (level
   * outside 0..19, negative counts, non-finite numbers) is `TUNING_OUTCOME_INVALID`. Other errors propagate.
   */
  async record(key: string, outcome: TrialOutcome): Promise<TuningRecord> {
    const valid = TrialOutcomeSchema.safeParse(outcome);
    if (!valid.success) {
      throw new BalerError(
        'TUNING_OUTCOME_INVALID',
        `${this.#table} item ${JSON.stringify(key)}: outcome ${issueText(valid.error.issues)}`,
      );
    }
    for (let attempt = 1; ; attempt++) {
      const { value: current, exists } = await this.#read(key);
      const next = applyTrial(current, outcome, new Date(this.#now()));
      try {
        await this.#doc.send(
          new PutCommand({
            TableName: this.#table,
            Item: recordToItem(next),
            ...(!exists
              ? {
                  ConditionExpression: 'attribute_not_exists(#k)',
                  ExpressionAttributeNames: { '#k': COMPRESSION_SETTINGS_KEY },
                }
              : {
                  ConditionExpression: '#v = :v',
                  ExpressionAttributeNames: { '#v': 'Version' },
                  ExpressionAttributeValues: { ':v': current.version },
                }),
          }),
        );
      } catch (e: unknown) {
        if (!isConditionalCheckFailed(e)) throw e;
        if (attempt >= this.#maxAttempts) {
          this.#cache.delete(key);
          throw new BalerError(
            'TUNING_CONFLICT',
            `${this.#table} item ${JSON.stringify(key)}: still changed by other writers after ${attempt} attempt(s)`,
            { cause: e },
          );
        }
        const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
        await sleep(this.#random() * step);
        continue;
      }
      this.#cache.set(key, { at: this.#now(), value: next });
      return next;
    }
  }

  /**
   * Every record of the table (only those whose key starts with `prefix`, when given), sorted by key (code-unit
   * order). Reads the whole table (a paginated Scan): for reports such as `baler tuning show`, not for the replication
   * path. A malformed item is a `BalerError` `TUNING_ITEM_INVALID`.
   */
  async list(prefix?: string): Promise<TuningRecord[]> {
    const input: ScanCommandInput = {
      TableName: this.#table,
      ...(prefix
        ? {
            FilterExpression: 'begins_with(#k, :p)',
            ExpressionAttributeNames: { '#k': COMPRESSION_SETTINGS_KEY },
            ExpressionAttributeValues: { ':p': prefix },
          }
        : {}),
    };
    const records: TuningRecord[] = [];
    for await (const page of paginateScan({ client: this.#doc }, input)) {
      for (const item of page.Items ?? []) records.push(itemToRecord(item));
    }
    return records.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** A consistent read of `key`; `exists` picks the put's condition (no item yet, or the same `Version`). */
  async #read(key: string): Promise<{ value: TuningRecord; exists: boolean }> {
    const r = await this.#doc.send(
      new GetCommand({
        TableName: this.#table,
        Key: { [COMPRESSION_SETTINGS_KEY]: key },
        ConsistentRead: true,
      }),
    );
    return r.Item
      ? { value: itemToRecord(r.Item), exists: true }
      : { value: emptyRecord(key), exists: false };
  }
}
