/**
 * Backfill: enqueue the objects that already exist under a source's prefix as synthetic `ObjectCreated:Put`
 * events, so that a new deployment also replicates history. The source worker consumes them like real
 * events (it batches by itself), so the backfill only lists and enqueues.
 *
 * Delivery is at-least-once: an object may be enqueued twice (a re-run, a retried SendMessageBatch that had
 * in fact succeeded, an object written while the listing runs). Duplicates are harmless because the workers'
 * writes are idempotent (DESIGN.md §4); a lost object is not, so a failure is always reported, never dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { BalerError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { buildObjectCreatedRecord, type S3EventRecord } from '../core/s3Events.js';
import { SQS_MAX_BATCH } from '../core/sqsQueue.js';
import { matchesFilters } from './keys.js';

/** Event name of every synthetic record (what a single PutObject produces). */
export const BACKFILL_EVENT_NAME = 'ObjectCreated:Put';
/** `s3.configurationId` of synthetic records, so a log or a DLQ tells them apart from S3's own. */
export const BACKFILL_CONFIGURATION_ID = 'baler-backfill';
/** SendMessageBatch calls in flight. Memory ≤ one listing page (1,000 keys) + this × 10 messages. */
export const DEFAULT_BACKFILL_CONCURRENCY = 8;
/** Attempts per batch entry reported in `Failed`, the first included. */
export const DEFAULT_BACKFILL_SEND_ATTEMPTS = 4;
/** Base of the exponential backoff between attempts (full jitter). */
export const DEFAULT_BACKFILL_RETRY_BASE_MS = 200;
/**
 * How far past the snapshot an object's `LastModified` may be and still be enqueued. `LastModified` is stamped
 * by S3's clock, the snapshot by ours: the allowance keeps a slow local clock from skipping objects that
 * existed before the listing started. Erring this way only costs duplicates (harmless), never a lost object.
 */
export const DEFAULT_CLOCK_SKEW_ALLOWANCE_MS = 60_000;
/** Keys named in a failure message; the error's `failedKeys` has them all. */
const MAX_KEYS_IN_MESSAGE = 20;

/** The source bucket/prefix to backfill (the fields of a `SourceConfig` that matter here). */
export interface BackfillSource {
  readonly bucket: string;
  /** Region of the bucket; written as `awsRegion` of each record. */
  readonly region: string;
  /** Literal key prefix (empty = whole bucket). */
  readonly prefixFilter: string;
  /** Literal key suffix (empty = any). */
  readonly suffixFilter: string;
}

/** One object as the listing reports it. */
export interface ListedObject {
  readonly key: string;
  /** Bytes. */
  readonly size: number;
  /** With or without quotes. */
  readonly eTag: string;
  readonly lastModified: Date;
}

/** What {@link classifyListedObject} decided for one listed object. */
export const BackfillDecision = {
  enqueue: 'enqueue',
  /** Outside the prefix/suffix filter. */
  skippedFilter: 'skippedFilter',
  /** Modified before `since`. */
  skippedOlder: 'skippedOlder',
  /** Modified after the listing started: S3 sent (or will send) its own event. */
  skippedNewer: 'skippedNewer',
} as const;
export type BackfillDecision = (typeof BackfillDecision)[keyof typeof BackfillDecision];

/** The filter {@link classifyListedObject} applies. */
export interface BackfillFilter {
  readonly prefixFilter: string;
  readonly suffixFilter: string;
  /** Only objects with `LastModified ≥ since`; undefined = all. */
  readonly since?: Date | undefined;
  /** Objects with `LastModified > snapshot` are skipped (see {@link backfill}). */
  readonly snapshot: Date;
}

/**
 * Decide whether a listed object is enqueued. The filters are literal, as for real events
 * (`matchesFilters`); `since` is inclusive; `snapshot` is exclusive of later objects.
 *
 * @example
 * classifyListedObject(
 *   { key: 'logs/a.json', size: 1, eTag: '"x"', lastModified: new Date('2024-01-02') },
 *   { prefixFilter: 'logs/', suffixFilter: '.json', since: new Date('2024-01-01'), snapshot: new Date() },
 * ); // 'enqueue'
 */
export function classifyListedObject(o: ListedObject, f: BackfillFilter): BackfillDecision {
  if (!matchesFilters(o.key, f.prefixFilter, f.suffixFilter)) return BackfillDecision.skippedFilter;
  const t = o.lastModified.getTime();
  if (f.since !== undefined && t < f.since.getTime()) return BackfillDecision.skippedOlder;
  if (t > f.snapshot.getTime()) return BackfillDecision.skippedNewer;
  return BackfillDecision.enqueue;
}

/**
 * A sequencer derived from `LastModified`: its milliseconds since the epoch as 16 upper-case hex digits.
 * Real sequencers order the events of one key; this one orders backfilled versions by modification time.
 *
 * @example
 * backfillSequencer(new Date('2024-05-01T10:00:00.000Z')); // '0000018F3398C100'
 */
export function backfillSequencer(lastModified: Date): string {
  return lastModified.getTime().toString(16).toUpperCase().padStart(16, '0');
}

/**
 * Build the AWS-format `ObjectCreated:Put` record S3 would have sent for a listed object: key URL-encoded
 * the AWS way (space as `+`, `+` as `%2B`, UTF-8 percent-escapes), size and ETag from the listing,
 * `eventTime` = `LastModified`, sequencer from {@link backfillSequencer}, `configurationId`
 * {@link BACKFILL_CONFIGURATION_ID}.
 *
 * @example
 * const r = backfillRecord(
 *   { bucket: 'src', region: 'us-east-1', prefixFilter: 'data/', suffixFilter: '' },
 *   { key: 'data/a b+c.txt', size: 3, eTag: '"abc"', lastModified: new Date('2024-05-01T10:00:00Z') },
 * );
 * r.s3.object.key; // 'data/a+b%2Bc.txt'
 */
export function backfillRecord(source: BackfillSource, o: ListedObject): S3EventRecord {
  const sequencer = backfillSequencer(o.lastModified);
  return buildObjectCreatedRecord({
    eventName: BACKFILL_EVENT_NAME,
    region: source.region,
    bucket: source.bucket,
    key: o.key,
    size: o.size,
    eTag: o.eTag,
    sequencer,
    eventTime: o.lastModified.toISOString(),
    hostId: `baler/backfill/${sequencer}`,
    configurationId: BACKFILL_CONFIGURATION_ID,
  });
}

/**
 * The SQS message body for one listed object: `{"Records":[record]}`, as S3 sends it.
 *
 * @example
 * await sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: backfillMessageBody(source, object) }));
 */
export function backfillMessageBody(source: BackfillSource, o: ListedObject): string {
  return JSON.stringify({ Records: [backfillRecord(source, o)] });
}

/** Counts of one backfill run. */
export interface BackfillReport {
  /** Objects the listing returned (under the prefix). */
  readonly listed: number;
  /** Objects that passed every filter (what a dry run would enqueue). */
  readonly matched: number;
  /** Events SQS accepted (0 in a dry run). */
  readonly enqueued: number;
  /** Modified before `since`. */
  readonly skippedOlder: number;
  /** Modified after the listing started (they have their own events). */
  readonly skippedNewer: number;
  /** Not matching the suffix filter. */
  readonly skippedFilter: number;
}

/** Some events could not be enqueued after every retry. Re-running the backfill is safe. */
export class BackfillError extends BalerError {
  /** Keys whose event was not enqueued (bounded by concurrency × 10: the run stops at the first failure). */
  readonly failedKeys: readonly string[];
  /** Counts up to the failure. */
  readonly report: BackfillReport;

  constructor(
    message: string,
    failedKeys: readonly string[],
    report: BackfillReport,
    options?: ErrorOptions,
  ) {
    super('BACKFILL_FAILED', message, options);
    this.failedKeys = failedKeys;
    this.report = report;
  }
}

export interface BackfillOptions {
  /** Client that can list the source bucket. */
  readonly s3: S3Client;
  /** Client for the source queue's region. */
  readonly sqs: SQSClient;
  /** The source queue (the one the source worker consumes). */
  readonly queueUrl: string;
  readonly source: BackfillSource;
  /** Only objects with `LastModified ≥ since`. @defaultValue all */
  readonly since?: Date | undefined;
  /** List and count, send nothing. */
  readonly dryRun: boolean;
  readonly log: Logger;
  /** Stops listing and sending; the report then counts what was done. */
  readonly signal: AbortSignal;
  /** SendMessageBatch calls in flight. @defaultValue {@link DEFAULT_BACKFILL_CONCURRENCY} */
  readonly concurrency?: number;
  /** Attempts per failed entry. @defaultValue {@link DEFAULT_BACKFILL_SEND_ATTEMPTS} */
  readonly sendAttempts?: number;
  /** Backoff base. @defaultValue {@link DEFAULT_BACKFILL_RETRY_BASE_MS} */
  readonly retryBaseMs?: number;
  /** @defaultValue {@link DEFAULT_CLOCK_SKEW_ALLOWANCE_MS} */
  readonly clockSkewAllowanceMs?: number;
  /** Keys per ListObjectsV2 page (S3 caps it at 1,000). @defaultValue 1000 */
  readonly pageSize?: number;
}

interface Pending {
  readonly key: string;
  readonly body: string;
}

function toListed(o: _Object, fallbackTime: Date): ListedObject | undefined {
  if (o.Key === undefined) return undefined;
  return {
    key: o.Key,
    size: o.Size ?? 0,
    eTag: o.ETag ?? '',
    // Every S3 listing has LastModified; if a store omits it, enqueue rather than skip (duplicates are safe).
    lastModified: o.LastModified ?? fallbackTime,
  };
}

function isAbort(e: unknown, signal: AbortSignal): boolean {
  return signal.aborted || (e instanceof Error && e.name === 'AbortError');
}

/** `NoSuchBucket: The specified bucket does not exist`: SDK errors carry the code in `name`. */
function describeError(e: unknown): string {
  const text = errorMessage(e);
  return e instanceof Error && e.name !== 'Error' && !text.includes(e.name) ? `${e.name}: ${text}` : text;
}

function describeKeys(keys: readonly string[]): string {
  const shown = keys.slice(0, MAX_KEYS_IN_MESSAGE).map((k) => JSON.stringify(k));
  const more = keys.length > MAX_KEYS_IN_MESSAGE ? ` and ${keys.length - MAX_KEYS_IN_MESSAGE} more` : '';
  return shown.join(', ') + more;
}

/**
 * List the objects under `source.prefixFilter`, keep those matching the suffix filter and `since`, and send
 * one synthetic `ObjectCreated:Put` event per object to the source queue.
 *
 * - **Streaming.** ListObjectsV2 pages are consumed as they arrive by `concurrency` workers pulling batches
 *   of 10 from one iterator: memory is one page plus `concurrency` × 10 messages, whatever the key count.
 * - **Snapshot.** The time the listing starts is kept; objects modified after it (plus a clock-skew
 *   allowance) are skipped: they were written while the deployment's notifications were already in place, so
 *   S3 sends their own events, and enqueuing them too would only double the work.
 * - **Retries.** Entries SendMessageBatch reports in `Failed` are retried with exponential backoff (sender
 *   faults are not: they cannot succeed). An entry still failing stops the run with a {@link BackfillError}
 *   naming the keys; a call that throws (after the SDK's own retries) stops it with that error.
 * - **Abort.** Listing and sending stop; the report counts what SQS accepted.
 *
 * @example
 * const report = await backfill({
 *   s3, sqs, queueUrl, source: { bucket: 'src', region: 'us-east-1', prefixFilter: 'data/', suffixFilter: '' },
 *   since: new Date('2024-01-01T00:00:00Z'), dryRun: false, log, signal: AbortSignal.timeout(3_600_000),
 * });
 * // { listed: 1200, matched: 1100, enqueued: 1100, skippedOlder: 100, skippedNewer: 0, skippedFilter: 0 }
 */
export async function backfill(o: BackfillOptions): Promise<BackfillReport> {
  const { s3, sqs, queueUrl, source, since, dryRun, log, signal } = o;
  const concurrency = Math.max(1, o.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY);
  const attempts = Math.max(1, o.sendAttempts ?? DEFAULT_BACKFILL_SEND_ATTEMPTS);
  const retryBaseMs = o.retryBaseMs ?? DEFAULT_BACKFILL_RETRY_BASE_MS;
  const started = new Date();
  // Snapshot: objects modified after the listing started have real events of their own (the notifications
  // exist by then), so they are skipped rather than enqueued twice; the allowance is for S3's clock vs ours.
  const snapshot = new Date(started.getTime() + (o.clockSkewAllowanceMs ?? DEFAULT_CLOCK_SKEW_ALLOWANCE_MS));
  const filter: BackfillFilter = { ...source, since, snapshot };
  const counts = { listed: 0, matched: 0, enqueued: 0, skippedOlder: 0, skippedNewer: 0, skippedFilter: 0 };
  const report = (): BackfillReport => ({ ...counts });
  const src = `s3://${source.bucket}/${source.prefixFilter}`;
  log.info({
    event: 'backfill_started',
    src,
    dst: queueUrl,
    suffix: source.suffixFilter,
    since: since?.toISOString(),
    snapshot: started.toISOString(),
    dryRun,
  });

  // Stops the workers (and the listing) at the first failure, as well as on the caller's abort.
  const stop = new AbortController();
  const stopping = AbortSignal.any([signal, stop.signal]);
  const failedKeys: string[] = [];
  /** The first error that stopped the run, and what was being done. */
  let fatal: { op: 'listing' | 'SendMessageBatch'; error: unknown } | undefined;

  async function* batches(): AsyncGenerator<Pending[]> {
    let token: string | undefined;
    let batch: Pending[] = [];
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: source.bucket,
          Prefix: source.prefixFilter === '' ? undefined : source.prefixFilter,
          ContinuationToken: token,
          MaxKeys: o.pageSize,
        }),
        { abortSignal: stopping },
      );
      for (const raw of page.Contents ?? []) {
        const obj = toListed(raw, started);
        if (!obj) continue;
        counts.listed += 1;
        const decision = classifyListedObject(obj, filter);
        if (decision !== BackfillDecision.enqueue) {
          counts[decision] += 1;
          continue;
        }
        counts.matched += 1;
        if (dryRun) continue;
        batch.push({ key: obj.key, body: backfillMessageBody(source, obj) });
        if (batch.length === SQS_MAX_BATCH) {
          yield batch;
          batch = [];
        }
      }
      log.debug({ event: 'backfill_page', src, listed: counts.listed, matched: counts.matched });
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined && !stopping.aborted);
    if (batch.length > 0) yield batch;
  }

  /**
   * Send one batch; returns the keys not enqueued after every attempt and, if the call itself failed, its
   * error. Throws only on abort.
   */
  async function send(batch: readonly Pending[]): Promise<{ failed: string[]; error?: unknown }> {
    let pending = batch.map((p, i) => ({ ...p, id: String(i) }));
    for (let attempt = 1; ; attempt++) {
      const entries: SendMessageBatchRequestEntry[] = pending.map((p) => ({ Id: p.id, MessageBody: p.body }));
      let r;
      try {
        // The caller's signal, not `stopping`: after another batch failed, batches in flight still finish,
        // so every key that did not make it is known and named.
        r = await sqs.send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries }), {
          abortSignal: signal,
        });
      } catch (e: unknown) {
        if (isAbort(e, signal)) throw e;
        // The call failed as a whole (after the SDK's own retries): none of these is known to be queued.
        log.error({ event: 'backfill_send_failed', dst: queueUrl, attempt, err: describeError(e) });
        return { failed: pending.map((p) => p.key), error: e };
      }
      const failed = new Map((r.Failed ?? []).map((f) => [f.Id, f]));
      counts.enqueued += pending.length - failed.size;
      if (failed.size === 0) return { failed: [] };
      const failing = pending.filter((p) => failed.has(p.id));
      const reasons = [...failed.values()].map((f) => `${f.Code ?? '?'}: ${f.Message ?? ''}`);
      // A sender fault (malformed entry) fails the same way every time: retrying it only delays the report.
      const senderFault = [...failed.values()].some((f) => f.SenderFault === true);
      if (senderFault || attempt >= attempts) {
        log.error({
          event: 'backfill_send_failed',
          dst: queueUrl,
          keys: failing.map((p) => p.key),
          attempt,
          err: reasons.join('; '),
        });
        return { failed: failing.map((p) => p.key) };
      }
      log.warn({
        event: 'backfill_send_retry',
        dst: queueUrl,
        entries: failing.length,
        attempt,
        err: reasons[0],
      });
      // Full jitter: spreads the retries of concurrent batches that were throttled together.
      await sleep(Math.random() * retryBaseMs * 2 ** (attempt - 1), undefined, { signal });
      pending = failing;
    }
  }

  const iterator = batches();
  const worker = async (): Promise<void> => {
    while (!stopping.aborted) {
      let batch: Pending[];
      try {
        // Async generators queue concurrent next() calls, so workers never see the same batch.
        const next = await iterator.next();
        if (next.done) return;
        batch = next.value;
      } catch (e: unknown) {
        if (!isAbort(e, stopping)) fatal ??= { op: 'listing', error: e };
        stop.abort();
        return;
      }
      let result;
      try {
        result = await send(batch);
      } catch (e: unknown) {
        if (isAbort(e, signal)) return;
        throw e;
      }
      if (result.error !== undefined) fatal ??= { op: 'SendMessageBatch', error: result.error };
      if (result.failed.length > 0) {
        failedKeys.push(...result.failed);
        stop.abort();
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, () => worker()));
  await iterator.return(undefined);

  if (failedKeys.length > 0 || fatal !== undefined) {
    const cause = fatal === undefined ? '' : `: ${fatal.op} failed: ${describeError(fatal.error)}`;
    const keys =
      failedKeys.length > 0
        ? `; ${failedKeys.length} event(s) not enqueued (transient failures are tried ${attempts} times): ${describeKeys(failedKeys)}`
        : '';
    log.error({
      event: 'backfill_failed',
      src,
      dst: queueUrl,
      ...counts,
      err: fatal === undefined ? undefined : describeError(fatal.error),
    });
    throw new BackfillError(
      `backfill of ${src} to ${queueUrl} stopped after ${counts.enqueued} event(s)${cause}${keys}; ` +
        're-run it to finish (duplicates are harmless)',
      failedKeys,
      report(),
      fatal === undefined ? undefined : { cause: fatal.error },
    );
  }
  log.info({
    event: signal.aborted ? 'backfill_aborted' : 'backfill_done',
    src,
    dst: queueUrl,
    ...counts,
    durationMs: Date.now() - started.getTime(),
  });
  return report();
}
