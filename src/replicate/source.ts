import { setMaxListeners } from 'node:events';
import { PassThrough, Readable } from 'node:stream';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  type HeadObjectCommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import {
  createArchiveId,
  createArchivePacker,
  DEFAULT_CHECKSUM_BLOCK_BYTES,
  type Manifest,
  type ManifestObject,
} from '../archive/index.js';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MetricUnit, type Metrics } from '../core/metrics.js';
import { parseS3EventMessage } from '../core/s3Events.js';
import type { Queue } from '../core/sqsQueue.js';
import { outboundArchiveKey } from '../core/config/index.js';
import { batchEconomics, type CostRates, type LevelChooser } from '../tuning/index.js';
import { matchesFilters, relativeKey } from './keys.js';
import { isNotFound, isPreconditionFailed } from '../core/s3Errors.js';

/** What a source worker replicates: one source bucket/prefix and where its archives go. */
export interface SourceSpec {
  readonly region: string;
  readonly bucket: string;
  readonly prefixFilter: string;
  readonly suffixFilter: string;
  /** Regions with destinations of this source (written into the manifest). */
  readonly targetRegions: readonly string[];
  readonly outboundBucket: string;
  /** `BucketPrefix` key for tuning. */
  readonly tuningKey: string;
  readonly maxBatchObjects: number;
  readonly maxBatchBytes: number;
  readonly maxBatchWaitSec: number;
}

/**
 * Finds the source spec for a bucket (the container form reads it from the `replication-parameters` table);
 * undefined when the bucket is not configured.
 */
export type SourceSpecResolver = (bucket: string) => Promise<SourceSpec | undefined>;

/** Batch limits before the first event of a batch says which source it belongs to. */
const PROVISIONAL_LIMITS = { maxBatchObjects: 1000, maxBatchBytes: 256 * 1024 * 1024, maxBatchWaitSec: 20 };

export interface SourceWorkerOptions {
  readonly s3: S3Client;
  readonly queue: Queue;
  /** The source (CLI form), or how to find it per bucket (container form). */
  readonly spec: SourceSpec | SourceSpecResolver;
  readonly levels: LevelChooser;
  readonly rates: CostRates;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Parallel HEAD/GET/GetObjectTagging calls while preparing a batch. @defaultValue 32 */
  readonly metadataConcurrency?: number;
  /** Objects up to this size (per their event) are read whole while preparing the batch. @defaultValue 256 KiB */
  readonly smallObjectBytes?: number;
  /**
   * Most bytes of small objects held in memory by the worker, shared by the batch being packed and the one
   * being prepared (each body is dropped once packed). @defaultValue 32 MiB
   */
  readonly smallObjectBudgetBytes?: number;
  /** Bytes of objects fetched ahead of the one being compressed (GETs opened early). @defaultValue 64 MiB */
  readonly prefetchBytes?: number;
  /** Most GETs opened ahead. @defaultValue 32 */
  readonly prefetchCount?: number;
  /** Multipart part size of the archive upload, MiB (≥ 5). @defaultValue 8 */
  readonly partSizeMiB?: number;
  /** Parts uploaded in parallel. Buffered archive bytes ≤ partSizeMiB × (uploadQueueSize + 1). @defaultValue 2 */
  readonly uploadQueueSize?: number;
  /** Delay before the messages of a failed batch become visible again, seconds. @defaultValue 5 */
  readonly retryDelaySec?: number;
}

/** One object to archive, with the messages that asked for it. */
interface Item {
  readonly key: string;
  readonly eventSize: number;
  readonly messages: Message[];
}

interface GatheredBatch {
  /** Every message received for this batch that still has to be deleted or released. */
  readonly messages: Message[];
  readonly items: Item[];
  /** The source of the batch's objects (undefined when no event was accepted). */
  readonly spec: SourceSpec | undefined;
}

interface Gathering {
  readonly items: Map<string, Item>;
  spec: SourceSpec | undefined;
  /** Messages for another source than the batch's: released when the batch is gathered. */
  readonly deferred: Message[];
}

/** What describing one item found. */
interface Described {
  readonly item: Item;
  /** Undefined when the object is gone (skipped) or could not be described (`failed`). */
  readonly object?: ManifestObject;
  /** The body, for small objects read whole. */
  readonly body?: Buffer;
  /** Bytes of the worker's small-object budget this body holds. */
  readonly reserved: number;
  readonly failed: boolean;
}

/** A gathered batch whose objects are described, waiting to be archived (messages kept invisible). */
interface PreparedBatch {
  readonly batch: GatheredBatch;
  readonly keepAlive: ReturnType<Queue['keepAlive']>;
  readonly failedMessages: Set<Message>;
  readonly described: readonly Described[];
  /** Milliseconds spent preparing (counted in ObjectProcessingTime; the wait for the previous batch is not). */
  readonly prepareMs: number;
}

export interface BatchReport {
  readonly archiveKey: string | undefined;
  readonly objects: number;
  readonly rawBytes: number;
  readonly archiveBytes: number;
  readonly skipped: number;
  readonly failed: number;
  readonly level: number;
}

export interface RunReport {
  readonly batches: number;
  readonly objects: number;
  readonly rawBytes: number;
  readonly archiveBytes: number;
  readonly skipped: number;
  readonly failedBatches: number;
}

const MiB = 1024 * 1024;

/** The object attributes HEAD and GET both return. */
type ObjectAttributes = Pick<
  HeadObjectCommandOutput,
  | 'ContentLength'
  | 'ETag'
  | 'VersionId'
  | 'LastModified'
  | 'ContentType'
  | 'ContentEncoding'
  | 'ContentLanguage'
  | 'ContentDisposition'
  | 'CacheControl'
  | 'ExpiresString'
  | 'Metadata'
  | 'StorageClass'
>;

function headToManifestObject(
  key: string,
  prefix: string,
  head: ObjectAttributes,
  tags: Record<string, string>,
): ManifestObject {
  const opt = <K extends string, V>(k: K, v: V | undefined): Partial<Record<K, V>> =>
    v === undefined || v === '' ? {} : ({ [k]: v } as Record<K, V>);
  return {
    key,
    relativeKey: relativeKey(key, prefix),
    size: head.ContentLength ?? 0,
    etag: head.ETag ?? '',
    ...opt('versionId', head.VersionId === 'null' ? undefined : head.VersionId),
    lastModified: (head.LastModified ?? new Date(0)).toISOString(),
    ...opt('contentType', head.ContentType),
    ...opt('contentEncoding', head.ContentEncoding),
    ...opt('contentLanguage', head.ContentLanguage),
    ...opt('contentDisposition', head.ContentDisposition),
    ...opt('cacheControl', head.CacheControl),
    ...opt('expires', head.ExpiresString),
    metadata: { ...head.Metadata },
    tags,
    ...opt('storageClass', head.StorageClass),
  };
}

/**
 * The source worker: turns S3 ObjectCreated events of one source into archives in the outbound bucket.
 *
 * A batch gathers messages across receives (kept invisible meanwhile) until `maxBatchObjects`,
 * `maxBatchBytes` or `maxBatchWaitSec`, or until the queue has nothing more right now; the next batch is
 * gathered and described while one is packed. Objects are read with `If-Match` on the ETag seen by HEAD,
 * streamed through tar + zstd (worker thread) straight into a multipart upload: no temp files; memory ≈
 * smallObjectBudgetBytes (shared by both batches) + prefetchBytes + partSizeMiB × (uploadQueueSize + 1) +
 * codec buffers.
 * Messages are deleted only after the upload completed; a failed batch's messages are released for retry
 * (DLQ after the queue's maxReceiveCount). Objects that no longer exist are skipped and counted.
 */
export class SourceWorker {
  readonly #o: SourceWorkerOptions;
  readonly #totals = { batches: 0, objects: 0, rawBytes: 0, archiveBytes: 0, skipped: 0, failedBatches: 0 };
  /** Bytes of small-object bodies held by prepared batches (≤ smallObjectBudgetBytes). */
  #heldBytes = 0;

  constructor(o: SourceWorkerOptions) {
    this.#o = o;
  }

  /**
   * Process batches until `signal` aborts, or — with `untilIdleSec` — until the queue stayed empty that long.
   */
  async run(signal: AbortSignal, untilIdleSec?: number): Promise<RunReport> {
    let idleSince = Date.now();
    const idleWaitSec = untilIdleSec === undefined ? 20 : Math.max(1, Math.min(20, untilIdleSec));
    const next = async (waitSec: number): Promise<PreparedBatch | undefined> => {
      const batch = await this.#gather(signal, waitSec);
      return batch.messages.length === 0 ? undefined : this.#prepare(batch);
    };
    let ahead: Promise<PreparedBatch | undefined> | undefined;
    const abandoned: Message[] = [];
    try {
      while (!signal.aborted) {
        const prepared = await (ahead ?? next(idleWaitSec));
        ahead = undefined;
        if (!prepared) {
          if (untilIdleSec !== undefined && Date.now() - idleSince >= untilIdleSec * 1000) break;
          continue;
        }
        // Gather and describe the next batch (S3 and SQS round trips) while this one is compressed. Its first
        // poll is short: an empty queue is noticed after this batch, by the long poll above.
        ahead = next(1);
        ahead.catch(() => undefined); // awaited on the next turn; never an unhandled rejection meanwhile
        await this.#finish(prepared, signal, abandoned);
        idleSince = Date.now();
      }
    } finally {
      const left = await ahead?.catch(() => undefined);
      if (left || abandoned.length > 0) await this.#o.queue.quiet();
      if (left) await this.#abandon(left);
      if (abandoned.length > 0) await this.#o.queue.release(abandoned, 0).catch(() => undefined);
    }
    return { ...this.#totals };
  }

  async #gather(signal: AbortSignal, idleWaitSec: number): Promise<GatheredBatch> {
    const { queue, log } = this.#o;
    const messages: Message[] = [];
    const g: Gathering = { items: new Map<string, Item>(), spec: undefined, deferred: [] };
    let bytes = 0;
    const started = Date.now();
    const keepAlive = queue.keepAlive();
    try {
      for (;;) {
        // The CLI form knows its source (and limits) up front; the container form learns it from the first
        // message, so it asks for one message first rather than overshoot max_batch_objects.
        const known = g.spec ?? (typeof this.#o.spec === 'function' ? undefined : this.#o.spec);
        const limits = known ?? PROVISIONAL_LIMITS;
        const elapsedSec = (Date.now() - started) / 1000;
        if (g.items.size >= limits.maxBatchObjects || bytes >= limits.maxBatchBytes) break;
        if (g.items.size > 0 && elapsedSec >= limits.maxBatchWaitSec) break;
        // While a batch is open, poll briefly: stop gathering as soon as the queue has nothing more.
        const waitSec = g.items.size > 0 ? 1 : idleWaitSec;
        // Once a batch is open, up to 4 receives run at once (10 messages each is SQS's limit per call).
        const want = known ? limits.maxBatchObjects - g.items.size : 1;
        const parallel = g.items.size > 0 ? Math.min(4, Math.ceil(want / 10)) : 1;
        const received = (
          await Promise.all(
            Array.from({ length: parallel }, (_, i) =>
              queue.receive(Math.min(10, want - i * 10), waitSec, signal),
            ),
          )
        ).flat();
        if (received.length === 0) break;
        keepAlive.add(received);
        for (const m of received) {
          const accepted = await this.#accept(m, g);
          if (accepted === 'test' || accepted === 'deferred') continue;
          messages.push(m);
          if (accepted !== 'invalid') bytes += accepted;
        }
        if (signal.aborted) break;
      }
    } finally {
      await keepAlive.stop();
    }
    if (g.deferred.length > 0) await queue.release(g.deferred).catch(() => undefined);
    if (signal.aborted && messages.length > 0) {
      await queue.quiet(); // the aborted receives must not take them back
      await queue.release(messages).catch(() => undefined);
      return { messages: [], items: [], spec: undefined };
    }
    log.debug({ event: 'batch_gathered', messages: messages.length, objects: g.items.size, bytes });
    return { messages, items: [...g.items.values()], spec: g.spec };
  }

  async #specFor(bucket: string): Promise<SourceSpec | undefined> {
    const { spec } = this.#o;
    if (typeof spec === 'function') return spec(bucket);
    return spec.bucket === bucket ? spec : undefined;
  }

  /**
   * Sort one message into the batch; returns the bytes it added, `test` (deleted), `invalid` (left for the
   * DLQ) or `deferred` (another source's: released after gathering).
   */
  async #accept(m: Message, g: Gathering): Promise<number | 'test' | 'invalid' | 'deferred'> {
    const { queue, log, metrics } = this.#o;
    let parsed;
    try {
      parsed = parseS3EventMessage(m.Body ?? '');
    } catch (e: unknown) {
      // Left invisible until its timeout, then redelivered, then dead-lettered: reported, never dropped.
      log.error({ event: 'invalid_message', messageId: m.MessageId, err: errorMessage(e) });
      metrics.put('InvalidMessages', 1, MetricUnit.Count);
      return 'invalid';
    }
    if (parsed.kind === 'test') {
      await queue.delete([m]);
      log.info({ event: 'test_event_dropped', messageId: m.MessageId, bucket: parsed.bucket });
      return 'test';
    }
    let added = 0;
    for (const ev of parsed.events) {
      const spec = await this.#specFor(ev.bucket);
      if (!spec) {
        log.error({ event: 'source_not_configured', messageId: m.MessageId, src: `${ev.bucket}/${ev.key}` });
        metrics.put('InvalidMessages', 1, MetricUnit.Count);
        return 'invalid';
      }
      if (g.spec && g.spec !== spec) {
        g.deferred.push(m);
        return 'deferred';
      }
      if (ev.type !== 'created' || !matchesFilters(ev.key, spec.prefixFilter, spec.suffixFilter)) {
        log.warn({
          event: 'event_ignored',
          messageId: m.MessageId,
          src: `${ev.bucket}/${ev.key}`,
          name: ev.eventName,
        });
        continue;
      }
      g.spec = spec;
      const existing = g.items.get(ev.key);
      if (existing) existing.messages.push(m);
      else {
        g.items.set(ev.key, { key: ev.key, eventSize: ev.size ?? 0, messages: [m] });
        added += ev.size ?? 0;
      }
    }
    return added;
  }

  /** Keep the batch's messages invisible and read its objects' attributes (and small bodies). */
  async #prepare(batch: GatheredBatch): Promise<PreparedBatch> {
    const keepAlive = this.#o.queue.keepAlive();
    keepAlive.add(batch.messages);
    const failedMessages = new Set<Message>();
    const t0 = performance.now();
    const described = batch.spec ? await this.#describe(batch.spec, batch.items, failedMessages) : [];
    return { batch, keepAlive, failedMessages, described, prepareMs: performance.now() - t0 };
  }

  /** Give a prepared batch back unprocessed (shutdown): its messages become visible at once. */
  async #abandon(p: PreparedBatch): Promise<void> {
    await p.keepAlive.stop();
    for (const d of p.described) if (d.body) this.#heldBytes -= d.reserved;
    await this.#o.queue.release(p.batch.messages, 0).catch(() => undefined);
  }

  /** Archive a prepared batch and upload it, then delete (or release) its messages. */
  async #finish(prepared: PreparedBatch, signal: AbortSignal, abandoned?: Message[]): Promise<BatchReport> {
    const { queue, log, metrics } = this.#o;
    const { batch, keepAlive, failedMessages, described } = prepared;
    const t0 = performance.now() - prepared.prepareMs;
    const spec = batch.spec;
    let report: BatchReport = {
      archiveKey: undefined,
      objects: 0,
      rawBytes: 0,
      archiveBytes: 0,
      skipped: 0,
      failed: 0,
      level: -1,
    };
    // Held bodies not yet packed when the batch ends (e.g. it failed) give their budget back.
    const unpacked = new Set(described.filter((d) => d.body));
    try {
      const objects = described.filter((d) => d.object !== undefined);
      const skipped = described.length - objects.length - described.filter((d) => d.failed).length;
      report = { ...report, skipped, failed: described.filter((d) => d.failed).length };
      if (objects.length > 0) {
        if (!spec) throw new Error('a batch with objects has a source');
        const archived = await this.#archive(
          spec,
          objects.map((d) => d.object as ManifestObject),
          objects.map((d) => d.body),
          signal,
          (i) => {
            const d = objects[i];
            if (d && unpacked.delete(d)) this.#heldBytes -= d.reserved;
          },
        );
        report = { ...report, ...archived };
      }
      const done = batch.messages.filter((m) => !failedMessages.has(m) && isEventMessage(m));
      await keepAlive.stop();
      await queue.delete(done);
      const retry = batch.messages.filter((m) => failedMessages.has(m));
      if (retry.length) await queue.release(retry, this.#o.retryDelaySec ?? 5);
      metrics.put('ObjectProcessingTime', (performance.now() - t0) / 1000, MetricUnit.Seconds);
      if (report.skipped) metrics.put('SkippedObjects', report.skipped, MetricUnit.Count);
      this.#totals.batches += 1;
      this.#totals.objects += report.objects;
      this.#totals.rawBytes += report.rawBytes;
      this.#totals.archiveBytes += report.archiveBytes;
      this.#totals.skipped += report.skipped;
      log.info({
        event: 'batch_done',
        archive: report.archiveKey,
        objects: report.objects,
        bytes: report.rawBytes,
        archiveBytes: report.archiveBytes,
        skipped: report.skipped,
        failed: report.failed,
        level: report.level,
        durationMs: Math.round(performance.now() - t0),
      });
      return report;
    } catch (e: unknown) {
      await keepAlive.stop();
      this.#totals.failedBatches += 1;
      log.error({
        event: 'batch_failed',
        bucket: spec?.bucket,
        objects: batch.items.length,
        err: errorMessage(e),
      });
      // Make the messages visible again soon (not after the whole visibility timeout); each redelivery
      // counts towards the queue's maxReceiveCount, after which SQS dead-letters them.
      if (signal.aborted && abandoned) {
        // Released by run() once no receive of the next batch is in flight: a receive aborted mid-poll could
        // take them and hide them for the whole visibility timeout.
        abandoned.push(...batch.messages);
      } else {
        await queue
          .release(batch.messages, signal.aborted ? 0 : (this.#o.retryDelaySec ?? 5))
          .catch(() => undefined);
      }
      // The worker goes on with the next batch; the run's report counts the failure (exit code 1).
      return report;
    } finally {
      for (const d of unpacked) this.#heldBytes -= d.reserved;
      await keepAlive.stop();
      await metrics.flush();
    }
  }

  /** HEAD + tags for every item, in parallel. Missing objects are skipped; failures mark their messages. */
  async #describe(
    spec: SourceSpec,
    items: readonly Item[],
    failedMessages: Set<Message>,
  ): Promise<Described[]> {
    const { s3, log, metrics } = this.#o;
    const limit = pLimit(this.#o.metadataConcurrency ?? 32);
    const smallBytes = this.#o.smallObjectBytes ?? 256 * 1024;
    const budget = this.#o.smallObjectBudgetBytes ?? 32 * MiB;
    const tagsOf = async (key: string): Promise<Record<string, string>> => {
      const tagging = await s3.send(new GetObjectTaggingCommand({ Bucket: spec.bucket, Key: key }));
      const tags: Record<string, string> = {};
      for (const t of tagging.TagSet ?? []) if (t.Key !== undefined) tags[t.Key] = t.Value ?? '';
      return tags;
    };
    return Promise.all(
      items.map((item) => {
        // Small objects: one GET gives attributes and body (and the tag count: tags only when there are any),
        // instead of HEAD + GetObjectTagging now and a GET later. Bodies are held until packed (≤ budget).
        // The budget is the worker's: shared with the batch being packed while this one is prepared.
        const whole = item.eventSize <= smallBytes && this.#heldBytes + item.eventSize <= budget;
        const reserved = whole ? item.eventSize : 0;
        this.#heldBytes += reserved;
        return limit(async () => {
          try {
            if (whole) {
              const got = await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: item.key }));
              const body = Buffer.from(
                await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
              );
              const tags = (got.TagCount ?? 0) > 0 ? await tagsOf(item.key) : {};
              const object = headToManifestObject(item.key, spec.prefixFilter, got, tags);
              if (body.length !== object.size) throw new Error(`read ${body.length} bytes of ${object.size}`);
              return { item, object, body, reserved, failed: false };
            }
            const head = await s3.send(new HeadObjectCommand({ Bucket: spec.bucket, Key: item.key }));
            const tags = await tagsOf(item.key);
            this.#heldBytes -= reserved;
            return {
              item,
              object: headToManifestObject(item.key, spec.prefixFilter, head, tags),
              reserved: 0,
              failed: false,
            };
          } catch (e: unknown) {
            this.#heldBytes -= reserved;
            if (isNotFound(e)) {
              log.info({ event: 'object_gone', src: `${spec.bucket}/${item.key}` });
              return { item, reserved: 0, failed: false };
            }
            metrics.put('FailedMetadataRetrieval', 1, MetricUnit.Count);
            log.error({ event: 'metadata_failed', src: `${spec.bucket}/${item.key}`, err: errorMessage(e) });
            for (const m of item.messages) failedMessages.add(m);
            return { item, reserved: 0, failed: true };
          }
        });
      }),
    );
  }

  /** Stream the objects into one archive and upload it. */
  async #archive(
    spec: SourceSpec,
    objects: ManifestObject[],
    bodies: readonly (Buffer | undefined)[],
    signal: AbortSignal,
    onPacked: (index: number) => void = () => undefined,
  ): Promise<{ archiveKey: string; objects: number; rawBytes: number; archiveBytes: number; level: number }> {
    const { s3, log, metrics, levels } = this.#o;
    const level = await levels.choose(spec.tuningKey);
    const archiveId = createArchiveId();
    const archiveKey = outboundArchiveKey(spec.bucket, spec.prefixFilter, archiveId);
    const manifest: Manifest = {
      format: 'baler-archive',
      formatVersion: 1,
      archiveId,
      created: new Date().toISOString(),
      sourceRegion: spec.region,
      bucket: spec.bucket,
      monitoredPrefix: spec.prefixFilter,
      compressionLevel: level,
      targets: [...spec.targetRegions],
      // Block digests of large objects in the trailer: the target signs its 8 MiB parts with them.
      checksumBlockBytes: DEFAULT_CHECKSUM_BLOCK_BYTES,
      objects,
    };
    const ac = new AbortController();
    // One listener per prefetched GET (up to prefetchCount) plus the upload's: not a leak.
    setMaxListeners(0, ac.signal);
    const onAbort = () => {
      ac.abort(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    const packer = createArchivePacker({ manifest, signal: ac.signal });
    const counted = new PassThrough({ highWaterMark: MiB });
    let archiveBytes = 0;
    counted.on('data', (c: Buffer) => (archiveBytes += c.length));
    const body = packer.output.pipe(counted);
    packer.output.once('error', (e) => counted.destroy(e));
    const upload = new Upload({
      client: s3,
      params: {
        Bucket: spec.outboundBucket,
        Key: archiveKey,
        Body: body,
        ContentType: 'application/zstd',
        Metadata: { 'baler-format': '1', 'baler-objects': String(objects.length) },
      },
      partSize: Math.max(5, this.#o.partSizeMiB ?? 8) * MiB,
      queueSize: this.#o.uploadQueueSize ?? 2,
      leavePartsOnError: false,
      abortController: ac,
    });
    const uploaded = upload.done();
    uploaded.catch(() => undefined);
    // Held bodies are dropped once packed, so memory shrinks as the archive grows.
    const held = [...bodies];
    const fetches = this.#prefetcher(spec, objects, held, ac.signal);
    try {
      for (const [i, o] of objects.entries()) {
        const bodyStream = await fetches.get(i);
        await packer.addObject(i, bodyStream, o.size);
        held[i] = undefined;
        onPacked(i);
        metrics.put('ObjectSize', o.size, MetricUnit.Bytes);
      }
      const packed = await packer.finalize();
      try {
        await uploaded;
      } catch (e: unknown) {
        metrics.put('FailedUploads', 1, MetricUnit.Count);
        throw e;
      }
      const rawBytes = packed.bytes;
      const compressSeconds = packed.zstd.busySeconds;
      const economics = batchEconomics(
        { rawBytes, archiveBytes, compressSeconds, targetRegions: spec.targetRegions.length },
        this.#o.rates,
      );
      metrics.put('CompressionRatio', archiveBytes > 0 ? rawBytes / archiveBytes : 0, MetricUnit.None);
      metrics.put('BytesSaved', economics.bytesSaved, MetricUnit.Bytes);
      metrics.put('CompressionTimeSeconds', compressSeconds, MetricUnit.Seconds);
      metrics.put('TransferSavings', economics.transferSavings, MetricUnit.None);
      metrics.put('ComputeCost', economics.computeCost, MetricUnit.None);
      metrics.put('NetBenefit', economics.netBenefit, MetricUnit.None);
      metrics.put('BenefitScore', economics.benefitScore, MetricUnit.None);
      metrics.setProperty('archiveKey', archiveKey);
      metrics.setProperty('compressionLevel', level);
      await levels.record(spec.tuningKey, level, {
        netBenefit: economics.netBenefit,
        rawBytes,
        objects: objects.length,
      });
      return { archiveKey, objects: objects.length, rawBytes, archiveBytes, level };
    } catch (e: unknown) {
      fetches.close();
      ac.abort(e);
      packer.abort(e instanceof Error ? e : new Error(String(e)));
      await upload.abort().catch(() => undefined);
      await uploaded.catch(() => undefined);
      log.debug({ event: 'archive_aborted', archive: archiveKey, err: errorMessage(e) });
      throw e;
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Open object GETs ahead of the packer (bounded by bytes and count) so S3 latency overlaps compression.
   * Each GET carries `If-Match` with the ETag HEAD saw: a changed object fails the batch, to be retried.
   */
  #prefetcher(
    spec: SourceSpec,
    objects: readonly ManifestObject[],
    bodies: readonly (Buffer | undefined)[],
    signal: AbortSignal,
  ): { get(i: number): Promise<Readable>; close(): void } {
    const { s3, log, metrics } = this.#o;
    const maxBytes = this.#o.prefetchBytes ?? 64 * MiB;
    const maxCount = this.#o.prefetchCount ?? 32;
    const started = new Map<number, Promise<Readable>>();
    let next = 0;
    let aheadBytes = 0;
    // Bodies already in memory cost no prefetch budget.
    const size = (i: number) => (bodies[i] ? 0 : (objects[i]?.size ?? 0));
    const open = (i: number): Promise<Readable> => {
      const o = objects[i] as ManifestObject;
      const held = bodies[i];
      if (held) return Promise.resolve(Readable.from([held]));
      const p = s3
        .send(new GetObjectCommand({ Bucket: spec.bucket, Key: o.key, IfMatch: o.etag }), {
          abortSignal: signal,
        })
        .then(
          (r) => r.Body as Readable,
          (e: unknown) => {
            metrics.put('FailedDownloads', 1, MetricUnit.Count);
            const why = isPreconditionFailed(e)
              ? 'changed since HEAD'
              : isNotFound(e)
                ? 'deleted since HEAD'
                : '';
            log.warn({ event: 'download_failed', src: `${spec.bucket}/${o.key}`, why, err: errorMessage(e) });
            throw e;
          },
        );
      p.catch(() => undefined);
      return p;
    };
    return {
      get: (i: number) => {
        let p = started.get(i);
        if (p) {
          started.delete(i);
          aheadBytes -= size(i);
        } else {
          p = open(i);
          next = Math.max(next, i + 1);
        }
        while (next < objects.length && started.size < maxCount && aheadBytes + size(next) <= maxBytes) {
          started.set(next, open(next));
          aheadBytes += size(next);
          next += 1;
        }
        return p;
      },
      close: () => {
        for (const p of started.values())
          void p.then(
            (b) => b.destroy(),
            () => undefined,
          );
        started.clear();
      },
    };
  }
}

/** Messages that belong in the "done" set (everything except messages that failed to parse). */
function isEventMessage(m: Message): boolean {
  try {
    parseS3EventMessage(m.Body ?? '');
    return true;
  } catch {
    return false;
  }
}
