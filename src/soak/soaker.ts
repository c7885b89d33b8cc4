import { createHash, type Hash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { mkdir, open, rename, rm, stat, utimes, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import {
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  type S3Client,
} from '@aws-sdk/client-s3';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Logger } from '../core/logger.js';
import { FileHashPool } from '../core/fileHashPool.js';
import { sdkObjectReader, type ObjectGetResult, type ObjectReader } from '../core/s3ObjectReader.js';
import { BalerError, errorMessage } from '../core/errors.js';
import { compileFilters, type FilterRule } from './filters.js';
import { localTarget, normalizePrefix, PARTIAL_SUFFIX, RESUME_SUFFIX } from './keyPath.js';
import {
  discardPartial,
  readResumeRecord,
  recordMatches,
  writeResumeRecord,
  type ResumeRecord,
} from './resume.js';
import { backoffMs, classifyFailure, FailureKind } from './retry.js';
import { inShard, type Shard } from './shard.js';
import { TokenBucket } from './tokenBucket.js';
import { ConcurrencyTuner, type TunerDecision } from './tuner.js';

/** Everything a run needs besides its clients. Units are in the names. */
export interface SoakOptions {
  readonly bucket: string;
  /** Key prefix, treated as a directory (`logs` lists `logs/`); '' for the whole bucket. */
  readonly prefix: string;
  readonly destDir: string;
  /** Concurrent requests at the start (env MIN_PROCESSES). */
  readonly minConcurrency: number;
  /** Concurrent requests at most (env MAX_PROCESSES). */
  readonly maxConcurrency: number;
  /** A hard rate limit over all requests (env MAX_SPEED, given in MiB/s); undefined = none. */
  readonly maxBytesPerSec?: number;
  /** How often the concurrency is re-tuned (env OPTIMIZATION_INTERVAL, given in seconds). */
  readonly optimizationIntervalMs: number;
  /** Retries per request after the first attempt (env MAX_RETRIES). */
  readonly maxRetries: number;
  /** Backoff base: the n-th retry waits a random time in [0, base × 2^n), capped at 30 s (env RETRY_DELAY). */
  readonly retryDelayMs: number;
  readonly filters: readonly FilterRule[];
  readonly shard?: Shard;
  /** Objects of at least this size are fetched as parallel ranged GETs. */
  readonly multipartThresholdBytes: number;
  /** Size of each ranged GET; also the size above which a download keeps a resume record. */
  readonly partSizeBytes: number;
  /** Ranged GETs of one object at a time (all requests still share the global limit). */
  readonly partConcurrency: number;
  /** Re-download a present file unless its MD5 matches the ETag (instead of trusting size + LastModified). */
  readonly checksum: boolean;
  /** List, filter and decide only; write nothing. */
  readonly dryRun: boolean;
}

/** One listed object. */
export interface ListedObject {
  readonly key: string;
  readonly size: number;
  /** With its quotes, as S3 returns it. */
  readonly etag: string;
  readonly lastModified: Date;
}

/** Live counters (read by the progress display; numbers are exact up to 2^53 bytes, 8 PiB). */
export interface SoakStats {
  listed: number;
  excluded: number;
  objectsTotal: number;
  bytesTotal: number;
  totalFinal: boolean;
  downloaded: number;
  /** Bytes received from the store, counted as they arrive (retried bytes count again). */
  bytesTransferred: number;
  /** Bytes already on disk from an interrupted run that did not need to be fetched again. */
  bytesResumed: number;
  upToDate: number;
  directoryMarkers: number;
  gone: number;
  unsafe: number;
  failed: number;
  retries: number;
  throttles: number;
  concurrency: number;
  peakConcurrency: number;
}

/** An object that was not delivered, and why. */
export interface SoakFailure {
  readonly key: string;
  readonly reason: string;
  readonly kind: 'failed' | 'unsafe';
}

/** What a dry run would do with one object. */
export interface SoakPlanEntry {
  readonly key: string;
  readonly path: string;
  readonly size: number;
  readonly action: 'download' | 'resume' | 'up-to-date';
}

export interface SoakSummary {
  readonly bucket: string;
  readonly prefix: string;
  readonly destDir: string;
  readonly dryRun: boolean;
  readonly seconds: number;
  readonly objects: number;
  readonly bytes: number;
  readonly bytesResumed: number;
  readonly mibPerSec: number;
  readonly listed: number;
  readonly excluded: number;
  readonly skipped: {
    readonly upToDate: number;
    readonly directoryMarkers: number;
    readonly gone: number;
    readonly unsafe: number;
  };
  readonly failed: number;
  readonly retries: number;
  readonly throttles: number;
  readonly peakConcurrency: number;
  /** The first {@link MAX_REPORTED_FAILURES} failures and unsafe keys (the counts above are complete). */
  readonly failures: readonly SoakFailure[];
}

/** Failures kept in the summary; the rest are counted and logged. */
export const MAX_REPORTED_FAILURES = 1000;
/** Received chunks are gathered up to this size before one positioned write… */
const WRITE_COALESCE_BYTES = 512 * 1024;
/** …and this many such writes per request may run while more bytes arrive (≤ 1.5 MiB buffered per request). */
const WRITES_IN_FLIGHT = 2;
/** Listed objects being worked on at once, per allowed request (bounds memory whatever the key count). */
const OBJECTS_PER_SLOT = 2;
const RETRY_CAP_MS = 30_000;
/** The smallest part size allowed, so the smallest object a resume record can exist for. */
const MIN_RECORD_BYTES = 1024 * 1024;
/** Objects up to this size are MD5-hashed as they arrive; larger ones by a worker thread once written. */
const IN_STREAM_HASH_MAX_BYTES = 1024 * 1024;
/** Directories known to exist are remembered up to this many (then the cache starts over). */
const MAX_CACHED_DIRS = 10_000;

/** A downloaded file did not match its object (size or MD5): the download is retried from scratch. */
export class VerifyError extends BalerError {
  constructor(message: string) {
    super('SOAK_VERIFY', message);
  }
}

/** An object failed for good (after retries, or a fatal error). */
export class ObjectFailedError extends BalerError {
  constructor(message: string, options?: ErrorOptions) {
    super('SOAK_OBJECT_FAILED', message, options);
  }
}

const PLAIN_MD5_ETAG = /^"?([0-9a-f]{32})"?$/i;

/** The MD5 an ETag states, when it is a plain (single-part, unencrypted or SSE-S3) MD5. */
export function md5FromEtag(etag: string): string | undefined {
  return PLAIN_MD5_ETAG.exec(etag)?.[1]?.toLowerCase();
}

/** Deps of a run: injected, never built here. */
export interface SoakDeps {
  /** Lists and HEADs (and GETs, unless `reader` is given). */
  readonly s3: S3Client;
  /** How objects are read. @defaultValue the SDK's GetObject ({@link sdkObjectReader}) */
  readonly reader?: ObjectReader;
  readonly log: Logger;
  /** @defaultValue Math.random (backoff jitter) */
  readonly random?: () => number;
  /** Called for each object of a dry run. */
  readonly onPlan?: (entry: SoakPlanEntry) => void;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason as Error);
      return;
    }
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Thrown inside an object's work when its version changed under us (412) or vanished (404). */
class ObjectEvent extends Error {
  constructor(
    readonly kind: 'changed' | 'gone',
    options?: ErrorOptions,
  ) {
    super(kind, options);
  }
}

/**
 * The bulk downloader: lists a prefix page by page and downloads every object it keeps into `destDir`
 * through one pool of concurrent requests whose size a {@link ConcurrencyTuner} adjusts every interval.
 *
 * Memory is bounded whatever the number of keys or object sizes: at most
 * `maxConcurrency × OBJECTS_PER_SLOT` listed objects are held, one listing page is fetched ahead, and each
 * request buffers at most 1.5 MiB (one 512 KiB batch being gathered, two being written).
 *
 * @example
 * const summary = await new Soaker({ s3, log }, options).run(signal);
 */
export class Soaker {
  readonly stats: SoakStats = {
    listed: 0,
    excluded: 0,
    objectsTotal: 0,
    bytesTotal: 0,
    totalFinal: false,
    downloaded: 0,
    bytesTransferred: 0,
    bytesResumed: 0,
    upToDate: 0,
    directoryMarkers: 0,
    gone: 0,
    unsafe: 0,
    failed: 0,
    retries: 0,
    throttles: 0,
    concurrency: 0,
    peakConcurrency: 0,
  };
  readonly #deps: SoakDeps;
  readonly #o: SoakOptions;
  readonly #prefix: string;
  readonly #keep: (relativeKey: string) => boolean;
  readonly #failures: SoakFailure[] = [];
  readonly #pool: LimitFunction;
  readonly #tuner: ConcurrencyTuner;
  readonly #bucket: TokenBucket | undefined;
  readonly #random: () => number;
  readonly #reader: ObjectReader;
  /** Created on first use (a run that verifies no MD5 starts no threads); closed when the run ends. */
  #hashes: FileHashPool | undefined;
  /** Directories created (or found) in this run: one mkdir per directory, not per object. */
  readonly #dirs = new Set<string>();

  constructor(deps: SoakDeps, options: SoakOptions) {
    this.#deps = deps;
    this.#reader = deps.reader ?? sdkObjectReader(deps.s3);
    this.#o = options;
    this.#prefix = normalizePrefix(options.prefix);
    this.#keep = compileFilters(options.filters);
    this.#tuner = new ConcurrencyTuner({
      min: options.minConcurrency,
      max: options.maxConcurrency,
      ...(options.maxBytesPerSec !== undefined ? { maxBytesPerSec: options.maxBytesPerSec } : {}),
    });
    this.#pool = pLimit(this.#tuner.limit);
    this.#bucket = options.maxBytesPerSec !== undefined ? new TokenBucket(options.maxBytesPerSec) : undefined;
    this.#random = deps.random ?? Math.random;
    this.stats.concurrency = this.#tuner.limit;
    this.stats.peakConcurrency = this.#tuner.limit;
  }

  #hashPool(): FileHashPool {
    return (this.#hashes ??= new FileHashPool());
  }

  /** Objects finished one way or another (for progress). */
  get objectsDone(): number {
    const s = this.stats;
    return s.downloaded + s.upToDate + s.directoryMarkers + s.gone + s.unsafe + s.failed;
  }

  /** Run to the end (or until `signal` aborts, which rejects with its reason once in-flight work stopped). */
  async run(outer: AbortSignal): Promise<SoakSummary> {
    const started = performance.now();
    // One internal signal for every request of the run: each SDK call and backoff adds a listener to it.
    const controller = new AbortController();
    setMaxListeners(0, controller.signal);
    const onAbort = () => {
      controller.abort(outer.reason);
    };
    if (outer.aborted) onAbort();
    outer.addEventListener('abort', onAbort, { once: true });
    const signal = controller.signal;
    const tuning = this.#startTuning();
    const inFlight = new Set<Promise<void>>();
    const cap = this.#o.maxConcurrency * OBJECTS_PER_SLOT;
    try {
      for await (const object of this.#list(signal)) {
        if (signal.aborted) break;
        const work: Promise<void> = this.#handle(object, signal).finally(() => inFlight.delete(work));
        inFlight.add(work);
        if (inFlight.size >= cap) await Promise.race(inFlight);
      }
      this.stats.totalFinal = true;
      await Promise.all(inFlight);
    } finally {
      // Whatever happened, let in-flight work settle before returning (no writes after we return).
      await Promise.allSettled(inFlight);
      clearInterval(tuning);
      outer.removeEventListener('abort', onAbort);
      await this.#hashes?.close();
      this.#hashes = undefined;
    }
    signal.throwIfAborted();
    const seconds = (performance.now() - started) / 1000;
    const s = this.stats;
    return {
      bucket: this.#o.bucket,
      prefix: this.#prefix,
      destDir: path.resolve(this.#o.destDir),
      dryRun: this.#o.dryRun,
      seconds: Math.round(seconds * 1000) / 1000,
      objects: s.downloaded,
      bytes: s.bytesTransferred,
      bytesResumed: s.bytesResumed,
      mibPerSec: seconds > 0 ? Math.round((s.bytesTransferred / 1048576 / seconds) * 10) / 10 : 0,
      listed: s.listed,
      excluded: s.excluded,
      skipped: { upToDate: s.upToDate, directoryMarkers: s.directoryMarkers, gone: s.gone, unsafe: s.unsafe },
      failed: s.failed,
      retries: s.retries,
      throttles: s.throttles,
      peakConcurrency: s.peakConcurrency,
      failures: [...this.#failures],
    };
  }

  /** Re-tune the pool every interval from the bytes that arrived in it. */
  #startTuning(): NodeJS.Timeout {
    let lastBytes = 0;
    let lastThrottles = 0;
    let lastAt = performance.now();
    const timer = setInterval(() => {
      const now = performance.now();
      const bytesPerSec = ((this.stats.bytesTransferred - lastBytes) * 1000) / Math.max(1, now - lastAt);
      const throttles = this.stats.throttles - lastThrottles;
      const saturated = this.#pool.pendingCount > 0 || this.#pool.activeCount >= this.#pool.concurrency;
      const before = this.#tuner.limit;
      const decision: TunerDecision = this.#tuner.observe({ bytesPerSec, throttles, saturated });
      lastBytes = this.stats.bytesTransferred;
      lastThrottles = this.stats.throttles;
      lastAt = now;
      if (this.#tuner.limit !== before) {
        this.#pool.concurrency = this.#tuner.limit;
        this.#deps.log.debug(
          {
            event: 'concurrency_changed',
            from: before,
            to: this.#tuner.limit,
            decision,
            bytesPerSec,
            throttles,
          },
          `concurrency ${before} -> ${this.#tuner.limit} (${decision})`,
        );
      }
      this.stats.concurrency = this.#tuner.limit;
      this.stats.peakConcurrency = this.#tuner.peak;
    }, this.#o.optimizationIntervalMs);
    timer.unref();
    return timer;
  }

  /** List page by page, one page fetched ahead; yields objects that pass the filters and the shard. */
  async *#list(signal: AbortSignal): AsyncGenerator<ListedObject> {
    const fetchPage = (token: string | undefined) =>
      this.#withRetries(
        `list s3://${this.#o.bucket}/${this.#prefix}`,
        signal,
        () =>
          this.#deps.s3.send(
            new ListObjectsV2Command({
              Bucket: this.#o.bucket,
              Prefix: this.#prefix || undefined,
              ContinuationToken: token,
            }),
            { abortSignal: signal },
          ),
        false,
      );
    let next: Promise<ListObjectsV2CommandOutput> | undefined = fetchPage(undefined);
    while (next) {
      const page: ListObjectsV2CommandOutput = await next;
      next =
        page.IsTruncated && page.NextContinuationToken ? fetchPage(page.NextContinuationToken) : undefined;
      // A rejected prefetch is awaited on the next turn; keep Node from calling it unhandled meanwhile.
      next?.catch(() => undefined);
      for (const c of page.Contents ?? []) {
        if (c.Key === undefined) continue;
        this.stats.listed += 1;
        const relative = c.Key.slice(this.#prefix.length);
        if (!this.#keep(relative) || !inShard(c.Key, this.#o.shard)) {
          this.stats.excluded += 1;
          continue;
        }
        const object: ListedObject = {
          key: c.Key,
          size: c.Size ?? 0,
          etag: c.ETag ?? '',
          lastModified: c.LastModified ?? new Date(0),
        };
        this.stats.objectsTotal += 1;
        this.stats.bytesTotal += object.size;
        yield object;
      }
    }
  }

  #report(key: string, reason: string, kind: SoakFailure['kind']): void {
    if (this.#failures.length < MAX_REPORTED_FAILURES) this.#failures.push({ key, reason, kind });
    this.#deps.log.warn(
      { event: kind === 'unsafe' ? 'key_unsafe' : 'object_failed', key, reason },
      `${kind === 'unsafe' ? 'skipped unsafe key' : 'failed'} ${JSON.stringify(key)}: ${reason}`,
    );
  }

  /** One object, start to finish; never rejects except on abort. */
  async #handle(listed: ListedObject, signal: AbortSignal): Promise<void> {
    const target = localTarget(this.#o.destDir, listed.key.slice(this.#prefix.length));
    if (!target.ok) {
      if (target.marker) {
        this.stats.directoryMarkers += 1;
      } else {
        this.stats.unsafe += 1;
        this.#report(listed.key, target.reason, 'unsafe');
      }
      return;
    }
    let object = listed;
    try {
      if (await this.#upToDate(object, target.path)) {
        this.stats.upToDate += 1;
        this.#deps.onPlan?.({ key: object.key, path: target.path, size: object.size, action: 'up-to-date' });
        return;
      }
      if (this.#o.dryRun) {
        const resumable = (await readResumeRecord(target.path + RESUME_SUFFIX))?.etag === object.etag;
        this.#deps.onPlan?.({
          key: object.key,
          path: target.path,
          size: object.size,
          action: resumable ? 'resume' : 'download',
        });
        return;
      }
      for (let restarts = 0; ; restarts += 1) {
        try {
          await this.#download(object, target.path, signal);
          this.stats.downloaded += 1;
          return;
        } catch (e: unknown) {
          if (e instanceof VerifyError && !signal.aborted) {
            // The finished file did not match (size or MD5): fetch it again from scratch.
            this.stats.retries += 1;
            this.#deps.log.warn({ event: 'verify_failed', key: object.key, err: e.message }, e.message);
            if (restarts >= this.#o.maxRetries) throw e;
            continue;
          }
          if (!(e instanceof ObjectEvent)) throw e;
          if (e.kind === 'gone') {
            this.stats.gone += 1;
            this.#deps.log.info(
              { event: 'object_gone', key: object.key },
              `gone since listed: ${object.key}`,
            );
            await discardPartial(target.path + PARTIAL_SUFFIX, target.path + RESUME_SUFFIX);
            return;
          }
          // Changed since listed: start again from the current version.
          this.stats.retries += 1;
          if (restarts >= this.#o.maxRetries)
            throw new ObjectFailedError('object keeps changing', { cause: e });
          await discardPartial(target.path + PARTIAL_SUFFIX, target.path + RESUME_SUFFIX);
          const fresh = await this.#head(object.key, signal);
          if (!fresh) {
            this.stats.gone += 1;
            return;
          }
          this.#deps.log.info(
            { event: 'object_changed', key: object.key },
            `changed since listed: ${object.key}`,
          );
          object = fresh;
        }
      }
    } catch (e: unknown) {
      if (signal.aborted) return;
      this.stats.failed += 1;
      this.#report(object.key, errorMessage(e), 'failed');
    }
  }

  async #head(key: string, signal: AbortSignal): Promise<ListedObject | undefined> {
    try {
      const h = await this.#withRetries(`head ${key}`, signal, () =>
        this.#deps.s3.send(new HeadObjectCommand({ Bucket: this.#o.bucket, Key: key }), {
          abortSignal: signal,
        }),
      );
      return {
        key,
        size: h.ContentLength ?? 0,
        etag: h.ETag ?? '',
        lastModified: h.LastModified ?? new Date(0),
      };
    } catch (e: unknown) {
      if (e instanceof ObjectEvent && e.kind === 'gone') return undefined;
      throw e;
    }
  }

  /** Is the file already there: same size and modification time (and MD5 with `--checksum`)? */
  async #upToDate(object: ListedObject, file: string): Promise<boolean> {
    const st = await stat(file).catch(() => undefined);
    if (!st?.isFile() || st.size !== object.size) return false;
    if (this.#o.checksum) {
      const md5 = md5FromEtag(object.etag);
      if (md5 === undefined)
        return Math.floor(st.mtimeMs / 1000) === Math.floor(object.lastModified.getTime() / 1000);
      return (await this.#hashPool().digest(file, 'md5')) === md5;
    }
    return Math.floor(st.mtimeMs / 1000) === Math.floor(object.lastModified.getTime() / 1000);
  }

  /**
   * Run one request with retries: exponential backoff with full jitter, at most `maxRetries` retries. A 412
   * or 404 ends the object's attempt at once ({@link ObjectEvent}); fatal errors are not retried.
   */
  async #withRetries<T>(
    what: string,
    signal: AbortSignal,
    fn: () => Promise<T>,
    objectRequest = true,
  ): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await fn();
      } catch (e: unknown) {
        if (signal.aborted) throw signal.reason as Error;
        let kind = classifyFailure(e);
        // For a listing, a 404 is a missing bucket, not an object gone.
        if (!objectRequest && (kind === FailureKind.gone || kind === FailureKind.changed))
          kind = FailureKind.fatal;
        if (kind === FailureKind.changed) throw new ObjectEvent('changed', { cause: e });
        if (kind === FailureKind.gone) throw new ObjectEvent('gone', { cause: e });
        if (kind === FailureKind.throttle) this.stats.throttles += 1;
        if (kind === FailureKind.fatal || attempt >= this.#o.maxRetries) {
          const tries = attempt + 1;
          throw new ObjectFailedError(
            `${what}: ${describeFailure(e)}${kind === FailureKind.fatal ? '' : ` (after ${tries} attempts)`}`,
            { cause: e },
          );
        }
        this.stats.retries += 1;
        const delay = backoffMs(attempt, this.#o.retryDelayMs, RETRY_CAP_MS, this.#random);
        this.#deps.log.debug(
          {
            event: 'request_retry',
            op: what,
            attempt: attempt + 1,
            delayMs: delay,
            kind,
            err: errorMessage(e),
          },
          `retrying ${what} in ${delay} ms`,
        );
        await sleep(delay, signal);
      }
    }
  }

  /** Download into `NAME.partial`, verify, set the modification time, rename into place. */
  async #download(object: ListedObject, file: string, signal: AbortSignal): Promise<void> {
    const dir = path.dirname(file);
    if (!this.#dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      if (this.#dirs.size >= MAX_CACHED_DIRS) this.#dirs.clear();
      this.#dirs.add(dir);
    }
    const partial = file + PARTIAL_SUFFIX;
    const recordFile = file + RESUME_SUFFIX;
    const ranged = object.size >= this.#o.multipartThresholdBytes;
    const expectedMd5 = md5FromEtag(object.etag);
    // Small objects are hashed as they arrive (cheaper than a round trip to a worker); larger ones in a worker
    // thread from the finished file, so the main thread goes on receiving.
    const inStream = expectedMd5 !== undefined && !ranged && object.size <= IN_STREAM_HASH_MAX_BYTES;
    const hash = inStream ? createHash('md5') : undefined;
    const { encrypted } = ranged
      ? await this.#fetchRanged(object, partial, recordFile, signal)
      : await this.#fetchStream(object, partial, recordFile, signal, hash);
    const st = await stat(partial);
    if (st.size !== object.size) {
      await discardPartial(partial, recordFile);
      throw new VerifyError(`size mismatch: ${st.size} bytes on disk, ${object.size} expected`);
    }
    // An SSE-KMS/SSE-C object's ETag is not the MD5 of its content.
    // Hashed in a worker thread from the page cache: the main thread goes on receiving meanwhile.
    const md5 =
      expectedMd5 === undefined || encrypted
        ? undefined
        : (hash?.digest('hex') ?? (await this.#hashPool().digest(partial, 'md5')));
    if (md5 !== expectedMd5 && md5 !== undefined) {
      await discardPartial(partial, recordFile);
      throw new VerifyError(`MD5 mismatch: got ${md5}, the ETag says ${expectedMd5 ?? ''}`);
    }
    await utimes(partial, object.lastModified, object.lastModified);
    await rename(partial, file);
    // A record exists only for objects of at least one part (≥ 1 MiB, whatever --part-size was then).
    if (object.size >= MIN_RECORD_BYTES) await rm(recordFile, { force: true });
  }

  /**
   * Receive a body into `fh` at `cursor.at`: rate-limited, counted as it arrives, gathered into 512 KiB
   * positioned writes of which up to {@link WRITES_IN_FLIGHT} run while the next bytes arrive (the socket is not
   * paused for each write). `cursor.at` moves only over bytes whose writes completed, so a retry after a
   * failure continues exactly where the file's good bytes end. `hash`, when given, sees exactly those bytes.
   */
  async #receive(
    body: Readable,
    fh: FileHandle,
    cursor: { at: number },
    signal: AbortSignal,
    hash?: Hash,
  ): Promise<void> {
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let issuedAt = cursor.at;
    const writes = new Set<Promise<void>>();
    let failed: unknown;
    const flush = () => {
      if (pendingBytes === 0) return;
      for (const b of pending) hash?.update(b);
      const w: Promise<void> = fh.writev(pending, issuedAt).then(
        () => {
          writes.delete(w);
        },
        (e: unknown) => {
          writes.delete(w);
          failed ??= e;
        },
      );
      writes.add(w);
      issuedAt += pendingBytes;
      pending = [];
      pendingBytes = 0;
    };
    try {
      for await (const chunk of body as AsyncIterable<Buffer>) {
        signal.throwIfAborted();
        if (this.#bucket) await this.#bucket.take(chunk.length);
        this.stats.bytesTransferred += chunk.length;
        pending.push(chunk);
        pendingBytes += chunk.length;
        if (pendingBytes >= WRITE_COALESCE_BYTES) {
          flush();
          while (writes.size >= WRITES_IN_FLIGHT) await Promise.race(writes);
          if (failed !== undefined) throw failed as Error;
        }
      }
      flush();
    } finally {
      body.destroy();
      // Whatever happened, no write may still run when the caller retries, closes or renames the file.
      await Promise.all(writes);
      if (failed === undefined) cursor.at = issuedAt;
    }
    if (failed !== undefined) throw failed as Error;
  }

  #get(object: ListedObject, range: string | undefined, signal: AbortSignal): Promise<ObjectGetResult> {
    return this.#reader.get(
      {
        bucket: this.#o.bucket,
        key: object.key,
        ...(range ? { range } : {}),
        ...(object.etag ? { ifMatch: object.etag } : {}),
      },
      signal,
    );
  }

  /**
   * One sequential GET. Large objects keep a resume record so that a later run (or a retry) continues from
   * the bytes already on disk with `Range: bytes=N-` and `If-Match`.
   */
  async #fetchStream(
    object: ListedObject,
    partial: string,
    recordFile: string,
    signal: AbortSignal,
    hash?: Hash,
  ): Promise<{ encrypted: boolean }> {
    const keepRecord = object.size >= this.#o.partSizeBytes;
    let offset = 0;
    const record = keepRecord ? await readResumeRecord(recordFile) : undefined;
    if (recordMatches(record, object, 'stream', this.#o.partSizeBytes)) {
      offset = Math.min((await stat(partial).catch(() => undefined))?.size ?? 0, object.size);
      if (offset > 0) {
        this.stats.bytesResumed += offset;
        this.#deps.log.info(
          { event: 'download_resumed', key: object.key, bytes: offset },
          `resuming ${object.key}`,
        );
      }
    } else if (keepRecord) {
      await discardPartial(partial, recordFile);
      await writeResumeRecord(recordFile, this.#newRecord(object, 'stream'));
    }
    // Without a record there is nothing to resume: 'w' truncates whatever a previous run left.
    const fh = await open(partial, offset > 0 ? 'r+' : 'w');
    let encrypted = false;
    try {
      const cursor = { at: offset };
      if (object.size > 0) {
        await this.#pool(() =>
          // Each attempt continues from what the previous one wrote.
          this.#withRetries(`get ${object.key}`, signal, async () => {
            const res = await this.#get(object, cursor.at > 0 ? `bytes=${cursor.at}-` : undefined, signal);
            encrypted = isEncrypted(res);
            await this.#receive(res.body, fh, cursor, signal, hash);
            if (cursor.at !== object.size) {
              throw new VerifyError(`body ended at ${cursor.at} bytes, ${object.size} expected`);
            }
          }),
        );
      }
      return { encrypted };
    } finally {
      await fh.close();
    }
  }

  #newRecord(object: ListedObject, mode: ResumeRecord['mode']): ResumeRecord {
    return {
      v: 1,
      etag: object.etag,
      size: object.size,
      lastModified: object.lastModified.toISOString(),
      mode,
      partSizeBytes: this.#o.partSizeBytes,
      done: [],
    };
  }

  /**
   * Parallel ranged GETs written at their offsets; parts done are recorded (debounced, atomically) so a later
   * run fetches only the missing ones.
   */
  async #fetchRanged(
    object: ListedObject,
    partial: string,
    recordFile: string,
    signal: AbortSignal,
  ): Promise<{ encrypted: boolean }> {
    const partSize = this.#o.partSizeBytes;
    const parts = Math.ceil(object.size / partSize);
    const old = await readResumeRecord(recordFile);
    const record = recordMatches(old, object, 'ranged', partSize) ? old : this.#newRecord(object, 'ranged');
    const done = new Set(record.done.filter((p) => p < parts));
    const partialExists = (await stat(partial).catch(() => undefined))?.isFile() ?? false;
    if (record !== old || !partialExists) {
      done.clear();
      await discardPartial(partial, recordFile);
      await writeResumeRecord(recordFile, record);
    } else if (done.size > 0) {
      const resumed = [...done].reduce((n, p) => n + Math.min(partSize, object.size - p * partSize), 0);
      this.stats.bytesResumed += resumed;
      this.#deps.log.info(
        { event: 'download_resumed', key: object.key, bytes: resumed, parts: done.size },
        `resuming ${object.key}: ${done.size}/${parts} parts on disk`,
      );
    }
    const fh = await open(partial, partialExists && done.size > 0 ? 'r+' : 'w');
    let encrypted = false;
    let saving: Promise<void> = Promise.resolve();
    let dirty = false;
    const save = () => {
      if (dirty) return;
      dirty = true;
      saving = saving.then(async () => {
        dirty = false;
        await writeResumeRecord(recordFile, { ...record, done: [...done].sort((a, b) => a - b) });
      });
      saving.catch(() => undefined);
    };
    try {
      if (object.size === 0) return { encrypted };
      // partConcurrency workers pull the missing parts in order; the first failure stops the others.
      const stop = new AbortController();
      setMaxListeners(0, stop.signal);
      const onAbort = () => {
        stop.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      let nextPart = 0;
      const fetchPart = async (part: number) => {
        const start = part * partSize;
        const end = Math.min(object.size, start + partSize);
        await this.#withRetries(`get ${object.key} part ${part + 1}/${parts}`, stop.signal, async () => {
          const res = await this.#get(object, `bytes=${start}-${end - 1}`, stop.signal);
          encrypted ||= isEncrypted(res);
          const cursor = { at: start };
          await this.#receive(res.body, fh, cursor, stop.signal);
          if (cursor.at !== end) {
            throw new VerifyError(`part ${part + 1}: body ended at ${cursor.at} bytes, ${end} expected`);
          }
        });
        done.add(part);
        save();
      };
      const worker = async () => {
        for (;;) {
          while (nextPart < parts && done.has(nextPart)) nextPart += 1;
          if (nextPart >= parts || stop.signal.aborted) return;
          const part = nextPart;
          nextPart += 1;
          await this.#pool(async () => {
            if (!stop.signal.aborted) await fetchPart(part);
          });
        }
      };
      const workers = Array.from({ length: Math.min(this.#o.partConcurrency, parts) }, () =>
        worker().catch((e: unknown) => {
          if (!stop.signal.aborted) stop.abort(e);
          throw e;
        }),
      );
      const results = await Promise.allSettled(workers);
      signal.removeEventListener('abort', onAbort);
      if (stop.signal.aborted) {
        // The first failure is the reason; the others are its consequences.
        throw stop.signal.reason as Error;
      }
      for (const r of results) if (r.status === 'rejected') throw r.reason as Error;
      return { encrypted };
    } finally {
      await saving.catch(() => undefined);
      await fh.close();
    }
  }
}

/** An SDK or system error on one line, with its HTTP status when it has one (radosgw's 404s carry no code). */
export function describeFailure(e: unknown): string {
  const status = (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
  const text = errorMessage(e);
  return status !== undefined && !text.includes(String(status)) ? `${text} (HTTP ${status})` : text;
}

function isEncrypted(res: ObjectGetResult): boolean {
  return (
    res.sseCustomerAlgorithm !== undefined ||
    res.serverSideEncryption === 'aws:kms' ||
    res.serverSideEncryption === 'aws:kms:dsse'
  );
}

/** Feed bytes [start, end) of an open file to `hash`, 1 MiB at a time. */
async function hashRange(fh: FileHandle, start: number, end: number, hash: Hash): Promise<void> {
  const buf = Buffer.allocUnsafe(Math.min(1 << 20, Math.max(1, end - start)));
  for (let at = start; at < end;) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - at), at);
    if (bytesRead === 0) throw new VerifyError(`file ended at ${at} bytes, ${end} expected`);
    hash.update(buf.subarray(0, bytesRead));
    at += bytesRead;
  }
}

/** MD5 of a whole file (hex). */
export async function md5OfFile(file: string): Promise<string> {
  const fh = await open(file, 'r');
  try {
    const hash = createHash('md5');
    await hashRange(fh, 0, (await fh.stat()).size, hash);
    return hash.digest('hex');
  } finally {
    await fh.close();
  }
}
