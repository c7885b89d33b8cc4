import type { Readable } from 'node:stream';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { ArchiveError, readArchive, type Manifest, type ManifestObject } from '../archive/index.js';
import { BalerError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MetricUnit, type Metrics } from '../core/metrics.js';
import { parseS3EventMessage, type ObjectEvent } from '../core/s3Events.js';
import type { Queue } from '../core/sqsQueue.js';
import { isNotFound } from '../core/s3Errors.js';
import { PartBufferPool, Stager, type StagedUpload } from './stager.js';

/** A destination bucket of the target worker's region. */
export interface TargetDestination {
  readonly bucket: string;
  readonly storageClass: string | undefined;
  readonly kmsKeyArn: string | undefined;
}

/** Finds the destinations of this region for an archive's source (bucket + monitored prefix). */
export type DestinationLookup = (manifest: Manifest) => Promise<readonly TargetDestination[]>;

export interface TargetWorkerOptions {
  readonly s3: S3Client;
  readonly queue: Queue;
  readonly region: string;
  readonly destinationsFor: DestinationLookup;
  readonly log: Logger;
  readonly metrics: Metrics;
  /** Writes (PutObject, CompleteMultipartUpload) in flight. @defaultValue 16 */
  readonly putConcurrency?: number;
  /**
   * Objects up to this size are written by one PutObject once the archive is verified; larger ones are staged
   * by multipart upload while the archive is read and completed once it is verified. @defaultValue 16 MiB
   */
  readonly smallObjectBytes?: number;
  /**
   * Most bytes of small objects held in memory from the verifying read until they are written; small objects
   * beyond it are written by a second read of the archive. @defaultValue 48 MiB
   */
  readonly holdBytes?: number;
  /** Multipart part size for staged objects (bytes, ≥ 5 MiB; raised for objects over 10,000 parts). @defaultValue 8 MiB */
  readonly partBytes?: number;
  /** Most bytes of buffered parts being uploaded at once. @defaultValue 32 MiB */
  readonly partBufferBytes?: number;
  /** Delay before a failed message becomes visible again, seconds. @defaultValue 5 */
  readonly retryDelaySec?: number;
}

/** The archive's manifest names no destination in this region (e.g. another source's rule matched it). */
class NoDestinationHere extends BalerError {
  constructor(
    message: string,
    readonly objects: number,
  ) {
    super('NO_DESTINATION', message);
  }
}

const MiB = 1024 * 1024;

/** A small object held in memory from the verifying read until the archive is verified. */
interface Held {
  readonly object: ManifestObject;
  readonly data: Buffer;
  /** When its entry was reached (for ObjectRestoreTime). */
  readonly started: number;
}

/** `x-amz-tagging` value: tags as an URL query string. */
export function taggingHeader(tags: Readonly<Record<string, string>>): string | undefined {
  const pairs = Object.entries(tags).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`);
  return pairs.length ? pairs.join('&') : undefined;
}

/** The PutObject parameters (everything but the body) that restore `o` into `dest`. */
export function putParams(o: ManifestObject, dest: TargetDestination): PutObjectCommandInput {
  const p: PutObjectCommandInput = { Bucket: dest.bucket, Key: o.key, Metadata: { ...o.metadata } };
  if (o.contentType !== undefined) p.ContentType = o.contentType;
  if (o.contentEncoding !== undefined) p.ContentEncoding = o.contentEncoding;
  if (o.contentLanguage !== undefined) p.ContentLanguage = o.contentLanguage;
  if (o.contentDisposition !== undefined) p.ContentDisposition = o.contentDisposition;
  if (o.cacheControl !== undefined) p.CacheControl = o.cacheControl;
  if (o.expires !== undefined && !Number.isNaN(Date.parse(o.expires))) p.Expires = new Date(o.expires);
  const tagging = taggingHeader(o.tags);
  if (tagging) p.Tagging = tagging;
  const storageClass = dest.storageClass ?? o.storageClass;
  if (storageClass && storageClass !== 'STANDARD') p.StorageClass = storageClass as StorageClass;
  if (dest.kmsKeyArn) {
    p.ServerSideEncryption = 'aws:kms';
    p.SSEKMSKeyId = dest.kmsKeyArn;
  }
  return p;
}

async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of body) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export interface TargetRunReport {
  readonly archives: number;
  readonly objects: number;
  readonly bytes: number;
  readonly failed: number;
}

export interface ArchiveOutcome {
  readonly archive: string;
  readonly objects: number;
  readonly bytes: number;
  readonly writes: number;
}

/**
 * The target worker: restores archives that S3 replication delivered to this region's inbound bucket.
 *
 * One verifying read of each archive (zstd frame checksum, tar structure, every entry against the manifest,
 * sizes, SHA-256 trailer). While it runs, objects above `smallObjectBytes` are staged by multipart upload to
 * every destination of this region (invisible until completed) and small objects are held in memory up to
 * `holdBytes`. Only once the archive is verified are the staged uploads completed and the held objects put;
 * a bad archive aborts the staged uploads and writes nothing. Small objects beyond the hold budget are
 * written by a second read of the (verified, `If-Match`) archive. Every write carries the object's tags
 * (same request), metadata, content headers, storage class and KMS key; its body's SHA-256 is part of the
 * SigV4 signature (per part when staged), so S3 itself rejects a body corrupted on the way. The archive and
 * the message are deleted only after every write succeeded; otherwise the message is released for retry
 * (DLQ after maxReceiveCount).
 */
export class TargetWorker {
  readonly #o: TargetWorkerOptions;
  readonly #totals = { archives: 0, objects: 0, bytes: 0, failed: 0 };
  /** Part buffers shared by the stagers of successive archives (see {@link PartBufferPool}). */
  readonly #partPool = new PartBufferPool();

  constructor(o: TargetWorkerOptions) {
    this.#o = o;
  }

  /** Process messages until `signal` aborts or, with `untilIdleSec`, the queue stayed empty that long. */
  async run(signal: AbortSignal, untilIdleSec?: number): Promise<TargetRunReport> {
    let idleSince = Date.now();
    const waitSec = untilIdleSec === undefined ? 20 : Math.max(1, Math.min(20, untilIdleSec));
    while (!signal.aborted) {
      const messages = await this.#o.queue.receive(1, waitSec, signal);
      if (messages.length === 0) {
        if (untilIdleSec !== undefined && Date.now() - idleSince >= untilIdleSec * 1000) break;
        continue;
      }
      for (const m of messages) await this.handleMessage(m, signal);
      idleSince = Date.now();
    }
    return { ...this.#totals };
  }

  /** Handle one message: every archive it names; delete it only when all are restored. */
  async handleMessage(m: Message, signal: AbortSignal): Promise<void> {
    const { queue, log, metrics } = this.#o;
    let events: ObjectEvent[];
    try {
      const parsed = parseS3EventMessage(m.Body ?? '');
      if (parsed.kind === 'test') {
        await queue.delete([m]);
        return;
      }
      events = parsed.events.filter((e) => e.type === 'created');
    } catch (e: unknown) {
      log.error({ event: 'invalid_message', messageId: m.MessageId, err: errorMessage(e) });
      metrics.put('InvalidMessages', 1, MetricUnit.Count);
      await metrics.flush();
      return; // redelivered after the visibility timeout, then dead-lettered
    }
    const keepAlive = queue.keepAlive();
    keepAlive.add([m]);
    try {
      for (const ev of events) await this.restoreArchive(ev.bucket, ev.key, signal);
      await keepAlive.stop();
      await queue.delete([m]);
    } catch (e: unknown) {
      await keepAlive.stop();
      this.#totals.failed += 1;
      log.error({ event: 'archive_failed', messageId: m.MessageId, err: errorMessage(e) });
      await queue.release([m], signal.aborted ? 0 : (this.#o.retryDelaySec ?? 5)).catch(() => undefined);
    } finally {
      await metrics.flush();
    }
  }

  /** Verify and restore one archive; delete it from the inbound bucket when done. */
  async restoreArchive(
    bucket: string,
    key: string,
    signal: AbortSignal,
  ): Promise<ArchiveOutcome | undefined> {
    const { s3, log, metrics, region } = this.#o;
    const src = `${bucket}/${key}`;
    const t0 = performance.now();
    let first;
    try {
      first = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal });
    } catch (e: unknown) {
      if (isNotFound(e)) {
        // Restored and deleted by an earlier delivery of the same event.
        log.info({ event: 'archive_gone', src });
        return undefined;
      }
      throw e;
    }
    const etag = first.ETag;
    const small = this.#o.smallObjectBytes ?? 16 * MiB;
    let holdRoom = this.#o.holdBytes ?? 48 * MiB;
    const held: Held[] = [];
    const deferred = new Set<number>();
    const staged: { object: ManifestObject; uploads: StagedUpload[]; started: number }[] = [];
    const stager = new Stager({
      s3,
      signal,
      pool: this.#partPool,
      ...(this.#o.partBytes === undefined ? {} : { partBytes: this.#o.partBytes }),
      ...(this.#o.partBufferBytes === undefined ? {} : { bufferBytes: this.#o.partBufferBytes }),
    });
    let destinations: readonly TargetDestination[] = [];
    let compressedBytes = 0;
    let objects = 0;
    let bytes = 0;
    try {
      const verified = await readArchive(first.Body as Readable, {
        signal,
        verifyBlocks: true,
        onManifest: async (manifest) => {
          destinations = await this.#o.destinationsFor(manifest);
          if (destinations.length === 0) {
            throw new NoDestinationHere(
              `archive ${src} (source s3://${manifest.bucket}/${manifest.monitoredPrefix}) has no destination in ${region}`,
              manifest.objects.length,
            );
          }
        },
        onObject: async (o, body, info) => {
          const started = performance.now();
          if (o.size > small) {
            const params = destinations.map((dest) => putParams(o, dest));
            // The body's block digests (verified against the trailer at the end) sign the parts.
            const uploads = await stager.stage(params, body, o.size, o.tags, body);
            staged.push({ object: o, uploads, started });
          } else if (o.size <= holdRoom) {
            const data = await readAll(body);
            holdRoom -= data.length;
            held.push({ object: o, data, started });
          } else {
            deferred.add(info.index); // the reader drains it; written by a second read below
          }
        },
      });
      await stager.settled();
      compressedBytes = verified.compressedBytes;
      objects = verified.objects;
      bytes = verified.bytes;
      metrics.put('DecompressionTimeSeconds', (performance.now() - t0) / 1000, MetricUnit.Seconds);
      metrics.put(
        'DecompressionRatio',
        verified.compressedBytes > 0 ? verified.bytes / verified.compressedBytes : 0,
        MetricUnit.None,
      );
    } catch (e: unknown) {
      await stager.abortAll();
      if (e instanceof NoDestinationHere) {
        log.info({ event: 'archive_not_for_region', src, err: e.message });
        metrics.put('SkippedObjects', e.objects, MetricUnit.Count);
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
        return undefined;
      }
      if (e instanceof ArchiveError) {
        metrics.put('FailedDecompressions', 1, MetricUnit.Count);
        log.error({ event: 'archive_invalid', src, code: e.code, err: errorMessage(e) });
      }
      throw e;
    }
    const tVerify = performance.now();
    // One EMF document per stage: `stage` is a property (Logs Insights), not a dimension.
    metrics.put('ProcessingTimeByStage', (tVerify - t0) / 1000, MetricUnit.Seconds);
    metrics.setProperty('stage', 'verify');
    await metrics.flush();

    // The archive is verified: make everything visible.
    const limit = pLimit(this.#o.putConcurrency ?? 16);
    const failures: string[] = [];
    const attempt = (started: number, writes: Promise<unknown>[]) =>
      Promise.all(writes).then(
        () => {
          metrics.put('ObjectRestoreTime', (performance.now() - started) / 1000, MetricUnit.Seconds);
        },
        (e: unknown) => {
          failures.push(errorMessage(e));
        },
      );
    let writes = 0;
    const finishing: Promise<void>[] = [];
    for (const h of held) {
      writes += destinations.length;
      const puts = destinations.map((dest) => limit(() => this.#put(h.object, dest, h.data)));
      finishing.push(attempt(h.started, puts));
    }
    for (const st of staged) {
      writes += st.uploads.length;
      finishing.push(
        attempt(
          st.started,
          st.uploads.map((up) => limit(() => stager.complete(up))),
        ),
      );
    }
    await Promise.all(finishing);
    held.length = 0;
    if (deferred.size > 0 && failures.length === 0) {
      writes += await this.#writeDeferred(bucket, key, etag, deferred, destinations, failures, signal);
    }
    if (failures.length > 0) {
      await stager.abortAll();
      metrics.put('FailedTargetUploads', failures.length, MetricUnit.Count);
      throw new BalerError(
        'TARGET_WRITE',
        `${failures.length} write(s) from ${src} failed: ${failures.slice(0, 3).join('; ')}`,
      );
    }
    metrics.put('ProcessingTimeByStage', (performance.now() - tVerify) / 1000, MetricUnit.Seconds);
    metrics.setProperty('stage', 'write');
    metrics.put('ObjectsProcessed', objects, MetricUnit.Count);
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    this.#totals.archives += 1;
    this.#totals.objects += objects;
    this.#totals.bytes += bytes;
    log.info({
      event: 'archive_restored',
      src,
      objects,
      bytes,
      archiveBytes: compressedBytes,
      writes,
      staged: staged.length,
      reread: deferred.size,
      durationMs: Math.round(performance.now() - t0),
    });
    return { archive: src, objects, bytes, writes };
  }

  /**
   * Second read of a verified archive (`If-Match` on its ETag) for the small objects that did not fit in
   * the hold budget: buffered within the same budget and written concurrently. Returns the writes issued.
   */
  async #writeDeferred(
    bucket: string,
    key: string,
    etag: string | undefined,
    deferred: ReadonlySet<number>,
    destinations: readonly TargetDestination[],
    failures: string[],
    signal: AbortSignal,
  ): Promise<number> {
    const { s3, metrics } = this.#o;
    const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }), {
      abortSignal: signal,
    });
    const limit = pLimit(this.#o.putConcurrency ?? 16);
    const budget = this.#o.holdBytes ?? 48 * MiB;
    const maxPending = 4 * (this.#o.putConcurrency ?? 16);
    let buffered = 0;
    let writes = 0;
    const pending = new Set<Promise<void>>();
    await readArchive(second.Body as Readable, {
      signal,
      onObject: async (o, body, info) => {
        if (!deferred.has(info.index)) return;
        // Bounded by bytes and by count: thousands of queued tiny writes cost more than their bytes.
        while ((buffered + o.size > budget || pending.size >= maxPending) && pending.size > 0) {
          await Promise.race(pending);
        }
        const started = performance.now();
        const data = await readAll(body);
        buffered += data.length;
        writes += destinations.length;
        const q = Promise.all(destinations.map((dest) => limit(() => this.#put(o, dest, data)))).then(
          () => {
            metrics.put('ObjectRestoreTime', (performance.now() - started) / 1000, MetricUnit.Seconds);
          },
          (e: unknown) => {
            failures.push(errorMessage(e));
          },
        );
        pending.add(q);
        void q.finally(() => {
          buffered -= data.length;
          pending.delete(q);
        });
      },
    });
    await Promise.all([...pending]);
    return writes;
  }

  /**
   * One PutObject. The body is a byte array, so the SDK signs its SHA-256 (`x-amz-content-sha256`) and S3
   * rejects a body that arrives corrupted: no separate `Content-MD5` (MD5 costs 2.5× SHA-256's CPU here).
   */
  async #put(o: ManifestObject, dest: TargetDestination, data: Buffer): Promise<void> {
    await this.#o.s3.send(
      new PutObjectCommand({
        ...putParams(o, dest),
        Body: data,
        ContentLength: data.length,
      }),
    );
  }
}
