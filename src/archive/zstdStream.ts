import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Duplex } from 'node:stream';
import { Worker } from 'node:worker_threads';

import {
  DEFAULT_MAX_WINDOW_LOG,
  MAX_COMPRESSION_LEVEL,
  MIN_COMPRESSION_LEVEL,
  STORE_ZSTD_LEVEL,
} from './constants.js';
import {
  ArchiveIntegrityError,
  ArchiveTruncatedError,
  ArchiveUsageError,
  ZstdError,
  type ArchiveError,
} from './errors.js';
import {
  zstdWorkerSource,
  type FromWorkerMessage,
  type ToWorkerMessage,
  type ZstdMode,
  type ZstdWorkerConfig,
} from './zstdWorker.js';

/** Default bytes per message to the worker (zstd's preferred input size is 128 KiB). */
export const DEFAULT_CHUNK_BYTES = 128 * 1024;
/** Default input chunks handed to the worker and not yet consumed. */
export const DEFAULT_MAX_IN_FLIGHT_CHUNKS = 4;
/** Default output chunks the worker may send ahead of the reader when compressing (≤ 128 KiB each). */
export const DEFAULT_MAX_OUTPUT_CHUNKS = 8;
/** Default output chunks the worker may send ahead of the reader when decompressing (2 MiB in all). */
export const DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS = 4;
/**
 * Default size of each decompressed output chunk. zstd's suggested 128 KiB costs every layer above (message,
 * stream, tar parser, hashing, part assembly) one pass per chunk: restoring 512 MiB with 512 KiB chunks took
 * 0.08–0.1 CPU-s and 3–4% less time (in-process target against the local stack, 2026-12-05; ARCHITECTURE.md).
 */
export const DEFAULT_DECOMPRESS_OUTPUT_BYTES = 512 * 1024;
/** Default readable-side buffer of a codec stream, in bytes. */
export const DEFAULT_READABLE_HWM_BYTES = 128 * 1024;
/** Default zstd compression threads: the machine's cores, at most 4. */
export const DEFAULT_ZSTD_THREADS = Math.min(4, availableParallelism());

/** Options shared by both codec directions. */
export interface ZstdStreamOptions {
  /**
   * Bytes per message to the worker; writes are coalesced or split to this size.
   * @defaultValue 131072 (128 KiB)
   */
  readonly chunkBytes?: number;
  /**
   * Input chunks sent to the worker and not yet consumed. Write callbacks are held beyond this, so
   * upstream pauses. Input buffered ≤ (maxInFlightChunks + 1) × chunkBytes + one write.
   * @defaultValue 4
   */
  readonly maxInFlightChunks?: number;
  /**
   * Output chunks the worker may produce ahead of the reader (each ≤ 128 KiB when compressing, ≤
   * `outputChunkBytes` when decompressing). The worker stops calling zstd when they are used up, so a
   * decompression bomb cannot inflate memory. The reader returns them in batches of half this many.
   * @defaultValue 8 when compressing, 4 when decompressing
   */
  readonly maxOutputChunks?: number;
  /** Readable-side buffer in bytes before `push` reports backpressure. @defaultValue 131072 */
  readonly readableHighWaterMarkBytes?: number;
}

/** Options of {@link createZstdCompressStream}. */
export interface ZstdCompressOptions extends ZstdStreamOptions {
  /**
   * baler compression level: 0 = store (zstd `--fast=100`, raw blocks for incompressible data),
   * 1..19 = zstd level. 20..22 and negative levels are refused.
   */
  readonly level: number;
  /**
   * zstd's internal compression threads (`nbWorkers`), besides the worker thread. 0 compresses on the worker
   * thread itself. Ignored (0) for level 0.
   * @defaultValue min(4, availableParallelism())
   */
  readonly threads?: number;
}

/** Options of {@link createZstdDecompressStream}. */
export interface ZstdDecompressOptions extends ZstdStreamOptions {
  /**
   * Largest zstd window accepted, log2 bytes; frames asking for more fail. The decompressor allocates up to
   * 2^maxWindowLog bytes.
   * @defaultValue 27 (128 MiB, zstd's default limit)
   */
  readonly maxWindowLog?: number;
  /** Bytes of each decompressed output chunk (the last of a frame may be shorter). @defaultValue 524288 */
  readonly outputChunkBytes?: number;
}

/** Counters of a finished codec stream. */
export interface ZstdStats {
  /** `threadId` of the thread that ran zstd (never 0, the main thread). */
  readonly threadId: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  /**
   * Seconds the worker thread spent inside zstd calls (with zstd's own threads, `nbWorkers` > 0, this is the
   * time the codec held the pipeline, not their summed CPU time).
   */
  readonly busySeconds: number;
}

/** A zstd codec stream: write input, read output; zstd runs in a worker thread. */
export interface ZstdStream extends Duplex {
  /** `threadId` of the worker running zstd. */
  readonly workerThreadId: number;
  /** Counters reported by the worker at the end; `undefined` until then. */
  readonly stats: ZstdStats | undefined;
  /** Settles once the worker thread has exited (after the end, or after destroy). Never rejects. */
  readonly workerExited: Promise<void>;
}

function checkCount(
  name: string,
  value: number | undefined,
  fallback: number,
  min: number,
  op: ZstdMode,
): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < min) {
    throw new ArchiveUsageError(`${name} must be an integer ≥ ${min}, got ${v}`, { op });
  }
  return v;
}

/**
 * Validate a baler compression level: an integer 0..19 (0 = store).
 *
 * @throws {@link ArchiveUsageError}
 * @example
 * assertCompressionLevel(12);
 */
export function assertCompressionLevel(level: number): void {
  if (!Number.isInteger(level) || level < MIN_COMPRESSION_LEVEL || level > MAX_COMPRESSION_LEVEL) {
    throw new ArchiveUsageError(
      `compression level must be an integer ${MIN_COMPRESSION_LEVEL}..${MAX_COMPRESSION_LEVEL} (0 = store), got ${level}`,
      { op: 'compress' },
    );
  }
}

let bindingPath: string | undefined;
/** Absolute path of zstd-napi's native binding, resolved (not loaded) on the main thread. */
function resolveBindingPath(): string {
  bindingPath ??= createRequire(import.meta.url).resolve('zstd-napi/binding');
  return bindingPath;
}

class ZstdCodecStream extends Duplex implements ZstdStream {
  readonly workerThreadId: number;
  readonly workerExited: Promise<void>;
  #stats: ZstdStats | undefined;
  readonly #worker: Worker;
  readonly #mode: ZstdMode;
  readonly #chunkBytes: number;
  readonly #maxInFlight: number;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #inFlight = 0;
  #heldWrite: ((error?: Error | null) => void) | null = null;
  #finalCallback: ((error?: Error | null) => void) | null = null;
  #ending = false;
  #endPosted = false;
  #owedCredits = 0;
  /**
   * Credits are returned in batches of half the window, not one message per chunk: a message port post
   * costs ~60 µs of main-thread CPU, and one per 128 KiB chunk was 0.25 s per 512 MiB restored (a tenth of the
   * target's main thread). It cannot stall the worker: while fewer than a batch are owed, the worker still
   * holds or has in flight more than half the window.
   */
  readonly #creditBatch: number;
  #closed = false;

  constructor(mode: ZstdMode, config: ZstdWorkerConfig, options: ZstdStreamOptions) {
    const { chunkBytes: chunk, maxInFlightChunks: inFlight, readableHighWaterMarkBytes: readable } = options;
    const chunkBytes = checkCount('chunkBytes', chunk, DEFAULT_CHUNK_BYTES, 1, mode);
    const maxInFlight = checkCount('maxInFlightChunks', inFlight, DEFAULT_MAX_IN_FLIGHT_CHUNKS, 1, mode);
    const hwm = checkCount('readableHighWaterMarkBytes', readable, DEFAULT_READABLE_HWM_BYTES, 0, mode);
    super({ readableHighWaterMark: hwm, writableHighWaterMark: chunkBytes, decodeStrings: true });
    this.#mode = mode;
    this.#creditBatch = Math.ceil(config.outputCredits / 2);
    this.#chunkBytes = chunkBytes;
    this.#maxInFlight = maxInFlight;
    this.#worker = new Worker(zstdWorkerSource(), {
      eval: true,
      workerData: { bindingPath: resolveBindingPath(), config },
      // Its JS heap holds only messages; zstd's buffers are native memory, outside this limit.
      resourceLimits: { maxOldGenerationSizeMb: 64 },
    });
    this.workerThreadId = this.#worker.threadId;
    this.workerExited = new Promise<void>((resolve) => {
      this.#worker.once('exit', () => {
        resolve();
      });
    });
    this.#worker.on('message', (msg: FromWorkerMessage) => {
      this.#onMessage(msg);
    });
    this.#worker.on('error', (e: Error) => {
      this.#fail(new ZstdError(`zstd worker crashed: ${e.message}`, { op: this.#mode, cause: e }));
    });
    this.#worker.on('exit', (code) => {
      if (this.#closed) return;
      this.#fail(new ZstdError(`zstd worker exited early (code ${code})`, { op: this.#mode }));
    });
  }

  get stats(): ZstdStats | undefined {
    return this.#stats;
  }

  #post(msg: ToWorkerMessage, transfer?: ArrayBuffer[]): void {
    this.#worker.postMessage(msg, transfer);
  }

  #fail(error: ArchiveError): void {
    if (this.#closed) return;
    this.destroy(error);
  }

  #onMessage(msg: FromWorkerMessage): void {
    if (this.#closed) return;
    switch (msg.t) {
      case 'out': {
        const chunk = Buffer.from(msg.buf.buffer, msg.buf.byteOffset, msg.buf.byteLength);
        // Owed until the reader keeps up (push() true) or next calls _read; returned a batch at a time.
        this.#owedCredits += 1;
        if (this.push(chunk)) this.#returnCredits();
        return;
      }
      case 'ack':
        this.#inFlight -= 1;
        this.#pump();
        return;
      case 'end': {
        this.#stats = {
          threadId: msg.threadId,
          bytesIn: msg.bytesIn,
          bytesOut: msg.bytesOut,
          busySeconds: msg.busySeconds,
        };
        this.#closed = true;
        void this.#worker.terminate();
        this.push(null);
        const cb = this.#finalCallback;
        this.#finalCallback = null;
        cb?.();
        return;
      }
      case 'error': {
        const message = `zstd: ${msg.message}`;
        const context = { op: this.#mode };
        if (msg.kind === 'truncated') this.#fail(new ArchiveTruncatedError(message, context));
        else if (msg.kind === 'corrupt') this.#fail(new ArchiveIntegrityError(message, context));
        else this.#fail(new ZstdError(message, context));
        return;
      }
    }
  }

  /** Take up to `max` pending bytes as one fresh transferable buffer. */
  #take(max: number): Uint8Array<ArrayBuffer> {
    const size = Math.min(max, this.#pendingBytes);
    const out = new Uint8Array(size);
    let filled = 0;
    let used = 0; // whole pieces consumed; removed with one splice (shift() per piece is quadratic)
    while (filled < size) {
      const head = this.#pending[used];
      if (head === undefined) break;
      const n = Math.min(head.length, size - filled);
      out.set(head.subarray(0, n), filled);
      filled += n;
      if (n === head.length) used += 1;
      else this.#pending[used] = head.subarray(n);
    }
    this.#pending.splice(0, used);
    this.#pendingBytes -= size;
    return out;
  }

  /** Send what may be sent; release the held write once the backlog is below one chunk. */
  #pump(): void {
    if (this.#closed) return;
    while (
      this.#inFlight < this.#maxInFlight &&
      (this.#pendingBytes >= this.#chunkBytes || (this.#ending && this.#pendingBytes > 0))
    ) {
      const buf = this.#take(this.#chunkBytes);
      this.#inFlight += 1;
      this.#post({ t: 'data', buf }, [buf.buffer]);
    }
    if (this.#ending && !this.#endPosted && this.#pendingBytes === 0) {
      this.#endPosted = true;
      this.#post({ t: 'end' });
    }
    if (this.#heldWrite !== null && this.#pendingBytes < this.#chunkBytes) {
      const cb = this.#heldWrite;
      this.#heldWrite = null;
      cb();
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (chunk.length > 0) {
      this.#pending.push(chunk);
      this.#pendingBytes += chunk.length;
    }
    this.#heldWrite = callback;
    this.#pump();
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#finalCallback = callback;
    this.#ending = true;
    this.#pump();
  }

  override _read(): void {
    this.#returnCredits();
  }

  #returnCredits(): void {
    if (this.#owedCredits >= this.#creditBatch && !this.#closed) {
      this.#post({ t: 'credit', n: this.#owedCredits });
      this.#owedCredits = 0;
    }
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.#closed = true;
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#worker.removeAllListeners('message');
    void this.#worker.terminate();
    callback(error);
  }
}

/**
 * A Duplex that zstd-compresses what is written to it into one standard zstd frame with a content checksum
 * (readable by `zstd -d`). zstd runs in a worker thread; the main thread only copies buffers.
 *
 * Memory ≈ (maxInFlightChunks + 2) × chunkBytes + maxOutputChunks × 128 KiB + readable high-water mark,
 * plus zstd's own state in the worker (window 2^windowLog of the level, ×(threads + 1) jobs in MT mode).
 * The worker ends with the stream; destroy the stream to stop it early.
 *
 * @throws {@link ArchiveUsageError} for a level outside 0..19 or bad options.
 * @example
 * await pipeline(createReadStream('a.tar'), createZstdCompressStream({ level: 12 }), createWriteStream('a.tar.zst'));
 */
export function createZstdCompressStream(options: ZstdCompressOptions): ZstdStream {
  assertCompressionLevel(options.level);
  const threads = checkCount('threads', options.threads, DEFAULT_ZSTD_THREADS, 0, 'compress');
  const outputCredits = checkCount(
    'maxOutputChunks',
    options.maxOutputChunks,
    DEFAULT_MAX_OUTPUT_CHUNKS,
    1,
    'compress',
  );
  const store = options.level === 0;
  return new ZstdCodecStream(
    'compress',
    {
      mode: 'compress',
      zstdLevel: store ? STORE_ZSTD_LEVEL : options.level,
      nbWorkers: store ? 0 : threads,
      maxWindowLog: DEFAULT_MAX_WINDOW_LOG,
      outputCredits,
      outputChunkBytes: 0,
    },
    options,
  );
}

/**
 * A Duplex that decompresses zstd frames (any number, concatenated) in a worker thread, verifying each
 * frame's content checksum when present.
 *
 * Errors: corrupt data or checksum mismatch → {@link ArchiveIntegrityError}; input ending inside a frame →
 * {@link ArchiveTruncatedError}; worker failure → {@link ZstdError}.
 * Memory ≈ (maxInFlightChunks + 2) × chunkBytes + maxOutputChunks × outputChunkBytes + readable high-water mark +
 * the frame's window (≤ 2^maxWindowLog).
 *
 * @example
 * await pipeline(s3Body, createZstdDecompressStream(), tarExtractor);
 */
export function createZstdDecompressStream(options: ZstdDecompressOptions = {}): ZstdStream {
  const maxWindowLog = checkCount(
    'maxWindowLog',
    options.maxWindowLog,
    DEFAULT_MAX_WINDOW_LOG,
    10,
    'decompress',
  );
  if (maxWindowLog > 31) {
    throw new ArchiveUsageError(`maxWindowLog must be 10..31, got ${maxWindowLog}`, { op: 'decompress' });
  }
  const outputCredits = checkCount(
    'maxOutputChunks',
    options.maxOutputChunks,
    DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS,
    1,
    'decompress',
  );
  return new ZstdCodecStream(
    'decompress',
    {
      mode: 'decompress',
      zstdLevel: 0,
      nbWorkers: 0,
      maxWindowLog,
      outputCredits,
      outputChunkBytes: checkCount(
        'outputChunkBytes',
        options.outputChunkBytes,
        DEFAULT_DECOMPRESS_OUTPUT_BYTES,
        1024,
        'decompress',
      ),
    },
    options,
  );
}
