import { createHash } from 'node:crypto';
import { PassThrough, Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
  type StorageClass,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import type { Message } from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { ArchiveError, readArchive, type Manifest, type ManifestObject } from '../archive/index.js';
import { BalerError, errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { MetricUnit, type Metrics } from '../core/metrics.js';
import { parseS3EventMessage, type ObjectEvent } from '../core/s3Events.js';
import type { Queue } from '../core/sqsQueue.js';
import { isNotFound } from './s3Errors.js';

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
  /** Small objects written concurrently. @defaultValue 16 */
  readonly putConcurrency?: number;
  /**
   * Objects up to this size are buffered and written concurrently (bytes); larger ones are streamed from the
   * archive to their destinations one at a time (a tar is sequential). @defaultValue 16 MiB
   */
  readonly smallObjectBytes?: number;
  /** Most bytes of buffered objects at once: memory ≈ bufferBytes + the codec's buffers. @defaultValue 96 MiB */
  readonly bufferBytes?: number;
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
/** Largest single PutObject (AWS limit); larger objects go multipart. */
const MAX_SINGLE_PUT_BYTES = 5 * 1024 * MiB;

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

/** Drain a stream, returning its MD5 (base64, for Content-MD5). */
async function md5Of(body: Readable): Promise<string> {
  const h = createHash('md5');
  await pipeline(
    body,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        h.update(chunk);
        cb();
      },
    }),
  );
  return h.digest('base64');
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
 * Two passes over each archive. Pass 1 reads it whole and verifies it (zstd frame checksum, tar structure,
 * every entry against the manifest, sizes, SHA-256 trailer) while computing each object's MD5; a bad archive
 * writes nothing. Pass 2 reads it again (`If-Match` on the ETag of pass 1) and writes every object to every
 * destination of this region with its tags (same request), metadata, content headers, storage class and KMS
 * key, sending Content-MD5 so S3 itself rejects a corrupted body. The archive and the message are deleted
 * only after every write succeeded; otherwise the message is released for retry (DLQ after maxReceiveCount).
 */
export class TargetWorker {
  readonly #o: TargetWorkerOptions;
  readonly #totals = { archives: 0, objects: 0, bytes: 0, failed: 0 };

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

  /** Verify, then restore one archive; delete it from the inbound bucket when done. */
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
    const md5 = new Map<number, string>();
    let destinations: readonly TargetDestination[] = [];
    let compressedBytes = 0;
    try {
      const verified = await readArchive(first.Body as Readable, {
        signal,
        onManifest: async (manifest) => {
          destinations = await this.#o.destinationsFor(manifest);
          if (destinations.length === 0) {
            throw new NoDestinationHere(
              `archive ${src} (source s3://${manifest.bucket}/${manifest.monitoredPrefix}) has no destination in ${region}`,
              manifest.objects.length,
            );
          }
        },
        onObject: async (_o, body, info) => {
          md5.set(info.index, await md5Of(body));
        },
      });
      compressedBytes = verified.compressedBytes;
      metrics.put('DecompressionTimeSeconds', (performance.now() - t0) / 1000, MetricUnit.Seconds);
      metrics.put(
        'DecompressionRatio',
        verified.compressedBytes > 0 ? verified.bytes / verified.compressedBytes : 0,
        MetricUnit.None,
      );
    } catch (e: unknown) {
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
    const second = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, IfMatch: etag }), {
      abortSignal: signal,
    });
    const limit = pLimit(this.#o.putConcurrency ?? 16);
    const small = this.#o.smallObjectBytes ?? 16 * MiB;
    const budget = this.#o.bufferBytes ?? 96 * MiB;
    const maxPending = 4 * (this.#o.putConcurrency ?? 16);
    let buffered = 0;
    const pending = new Set<Promise<void>>();
    const failures: string[] = [];
    let objects = 0;
    let bytes = 0;
    let writes = 0;
    const track = (p: Promise<void>) => {
      const q = p.then(
        () => undefined,
        (e: unknown) => {
          failures.push(errorMessage(e));
        },
      );
      pending.add(q);
      void q.finally(() => pending.delete(q));
    };
    const restored = await readArchive(second.Body as Readable, {
      signal,
      onObject: async (o, body, info) => {
        const contentMd5 = md5.get(info.index);
        const t1 = performance.now();
        objects += 1;
        bytes += o.size;
        if (o.size <= small) {
          // Bounded by bytes and by count: thousands of queued tiny writes cost more than their bytes.
          while ((buffered + o.size > budget || pending.size >= maxPending) && pending.size > 0) {
            await Promise.race(pending);
          }
          const data = await readAll(body);
          buffered += data.length;
          writes += destinations.length;
          const all = Promise.all(
            destinations.map((dest) => limit(() => this.#put(o, dest, data, data.length, contentMd5))),
          );
          track(
            all.then(
              () => {
                buffered -= data.length;
              },
              (e: unknown) => {
                buffered -= data.length;
                throw e;
              },
            ),
          );
        } else {
          await Promise.all(
            destinations.map((dest) => {
              writes += 1;
              return this.#put(o, dest, undefined, o.size, contentMd5, body, destinations.length);
            }),
          ).catch((e: unknown) => {
            failures.push(errorMessage(e));
            body.destroy();
          });
        }
        metrics.put('ObjectRestoreTime', (performance.now() - t1) / 1000, MetricUnit.Seconds);
      },
    });
    await Promise.all([...pending]);
    if (failures.length > 0) {
      metrics.put('FailedTargetUploads', failures.length, MetricUnit.Count);
      throw new BalerError(
        'TARGET_WRITE',
        `${failures.length} write(s) from ${src} failed: ${failures.slice(0, 3).join('; ')}`,
      );
    }
    metrics.put('ProcessingTimeByStage', (performance.now() - tVerify) / 1000, MetricUnit.Seconds);
    metrics.setProperty('stage', 'write');
    metrics.put('ObjectsProcessed', restored.objects, MetricUnit.Count);
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
      durationMs: Math.round(performance.now() - t0),
    });
    return { archive: src, objects, bytes, writes };
  }

  /** Whole-body tee for large objects: one PassThrough per destination, fed from the entry stream. */
  #tees = new WeakMap<Readable, PassThrough[]>();

  async #put(
    o: ManifestObject,
    dest: TargetDestination,
    data: Buffer | undefined,
    size: number,
    contentMd5: string | undefined,
    stream?: Readable,
    fanout = 1,
  ): Promise<void> {
    const { s3 } = this.#o;
    const params = putParams(o, dest);
    let body: Buffer | Readable;
    if (data) body = data;
    else if (stream) body = this.#tee(stream, fanout);
    else throw new Error('no body');
    if (size > MAX_SINGLE_PUT_BYTES) {
      await new Upload({
        client: s3,
        params: { ...params, Body: body },
        partSize: 64 * MiB,
        queueSize: 2,
      }).done();
      return;
    }
    await s3.send(
      new PutObjectCommand({
        ...params,
        Body: body,
        ContentLength: size,
        ...(contentMd5 ? { ContentMD5: contentMd5 } : {}),
      }),
    );
  }

  /**
   * Split `source` into `n` streams that advance together: `pipe` to several destinations pauses the source
   * while any of them is full (backpressure from the slowest writer). Errors are forwarded to every branch.
   */
  #tee(source: Readable, n: number): Readable {
    if (n === 1) return source;
    let outs = this.#tees.get(source);
    if (!outs) {
      const created = Array.from({ length: n }, () => new PassThrough({ highWaterMark: MiB }));
      outs = created;
      this.#tees.set(source, created);
      source.once('error', (e) => {
        for (const out of created) out.destroy(e);
      });
      for (const out of created) source.pipe(out);
    }
    const next = outs.shift();
    if (!next) throw new Error('tee exhausted');
    return next;
  }
}
