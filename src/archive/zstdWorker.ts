import type * as ZstdBinding from 'zstd-napi/binding.js';

/**
 * The zstd half of the codec, run inside a `worker_threads` Worker so the main thread never runs zstd
 * (at level 12+ one call can block for seconds; DESIGN.md §9).
 *
 * Protocol (all messages are plain objects; byte buffers are transferred, not copied):
 * - main → worker `data` (one input chunk), `end` (no more input), `credit` (may send n more outputs);
 * - worker → main `out` (one output chunk, uses one credit), `ack` (one input chunk fully consumed),
 *   `end` (stream complete, with stats) or `error` (then the worker does nothing more).
 *
 * Backpressure both ways: main keeps at most `maxInFlightChunks` un-acked inputs; the worker stops calling
 * zstd when it has no credit, so it never holds more than one unconsumed input plus one output buffer,
 * even for a decompression bomb.
 */

/** What the codec does. */
export type ZstdMode = 'compress' | 'decompress';

/** Settings sent to the worker at start. */
export interface ZstdWorkerConfig {
  readonly mode: ZstdMode;
  /** zstd's own level (baler level 0 is already mapped to {@link STORE_ZSTD_LEVEL}). */
  readonly zstdLevel: number;
  /** zstd internal compression threads (`ZSTD_c_nbWorkers`); 0 = compress on the worker thread itself. */
  readonly nbWorkers: number;
  /** Largest window a decompressor accepts, log2 bytes (`ZSTD_d_windowLogMax`). */
  readonly maxWindowLog: number;
  /** Output chunks the worker may send before the first `credit`. */
  readonly outputCredits: number;
  /** Size of each output buffer when decompressing (compression uses zstd's `ZSTD_CStreamOutSize`). */
  readonly outputChunkBytes: number;
}

/** Messages from the main thread. */
export type ToWorkerMessage =
  | { readonly t: 'data'; readonly buf: Uint8Array }
  | { readonly t: 'end' }
  | { readonly t: 'credit'; readonly n: number };

/** Why the worker gave up. */
export type ZstdFailureKind = 'corrupt' | 'truncated' | 'internal';

/** Messages from the worker. */
export type FromWorkerMessage =
  | { readonly t: 'out'; readonly buf: Uint8Array }
  | { readonly t: 'ack' }
  | {
      readonly t: 'end';
      readonly threadId: number;
      readonly bytesIn: number;
      readonly bytesOut: number;
      /** Seconds this thread spent inside zstd calls. */
      readonly busySeconds: number;
    }
  | { readonly t: 'error'; readonly kind: ZstdFailureKind; readonly message: string };

/** The part of `MessagePort` the worker uses. */
export interface ZstdWorkerPort {
  postMessage(message: FromWorkerMessage, transfer?: ArrayBuffer[]): void;
  on(event: 'message', listener: (message: ToWorkerMessage) => void): unknown;
}

/**
 * Body of the worker. It must stay self-contained (no imports, no module-level helpers): it is shipped to
 * the Worker as source text via `Function.prototype.toString`, so that the same compiled code runs from
 * `dist/` and under vitest (which cannot hand a `.ts` file to `new Worker`).
 *
 * @example
 * // inside a worker: runZstdWorker(parentPort, require('zstd-napi/binding'), workerData.config, threadId);
 */
export function runZstdWorker(
  port: ZstdWorkerPort,
  binding: typeof ZstdBinding,
  config: ZstdWorkerConfig,
  threadId: number,
): void {
  const compress = config.mode === 'compress';
  const outSize = compress ? binding.cStreamOutSize() : config.outputChunkBytes;
  const queue: (Uint8Array | null)[] = []; // null marks the end of input
  const empty = new Uint8Array(0);
  let current: Uint8Array | null = null;
  let ending = false;
  let done = false;
  let inFrame = false;
  let credits = config.outputCredits;
  let bytesIn = 0;
  let bytesOut = 0;
  let busyNs = 0n;
  let out = new Uint8Array(outSize);
  let cctx: ZstdBinding.CCtx | undefined;
  let dctx: ZstdBinding.DCtx | undefined;

  const fail = (kind: ZstdFailureKind, e: unknown): void => {
    done = true;
    queue.length = 0;
    const message = e instanceof Error ? e.message : String(e);
    port.postMessage({ t: 'error', kind, message });
  };

  try {
    if (compress) {
      cctx = new binding.CCtx();
      cctx.setParameter(binding.CParameter.compressionLevel, config.zstdLevel);
      if (config.zstdLevel >= 10) {
        // Bound memory whatever the level: from level 10 up zstd would use 8+ MiB windows and 32+ MiB match
        // tables per thread. Capped at a 4 MiB window and 8/16 MiB tables (measured with the zstd CLI at
        // level 12 on 76 MB of JSON logs: 83 MiB instead of 120 MiB, 1.7 s instead of 2.1 s, output +0.2%).
        cctx.setParameter(binding.CParameter.windowLog, 22);
        cctx.setParameter(binding.CParameter.hashLog, 20);
        cctx.setParameter(binding.CParameter.chainLog, 21);
      }
      // Content checksum (XXH64 of the whole content) in every frame: `zstd -d` verifies it.
      cctx.setParameter(binding.CParameter.checksumFlag, 1);
      if (config.nbWorkers > 0) {
        cctx.setParameter(binding.CParameter.nbWorkers, config.nbWorkers);
        // zstd's default job is 4 windows per thread, in and out. 4 MiB jobs, measured at level 12 with 2
        // threads on 76 MB of JSON logs: peak RSS 171 MiB instead of 193 MiB with 8 MiB jobs, and faster
        // (both threads stay busy); the output was 1% smaller.
        cctx.setParameter(binding.CParameter.jobSize, 4 * 1024 * 1024);
      }
    } else {
      dctx = new binding.DCtx();
      dctx.setParameter(binding.DParameter.windowLogMax, config.maxWindowLog);
    }
  } catch (e: unknown) {
    fail('internal', e);
    return;
  }

  /** Send the first `produced` bytes of `out` (uses one credit). */
  const emit = (produced: number): void => {
    if (produced === 0) return;
    bytesOut += produced;
    credits -= 1;
    if (produced < outSize / 4) {
      // Small output (flushes, frame ends): copy it and keep the big buffer.
      const small = out.slice(0, produced);
      port.postMessage({ t: 'out', buf: small }, [small.buffer]);
    } else {
      const buf = out.subarray(0, produced);
      port.postMessage({ t: 'out', buf }, [buf.buffer]);
      out = new Uint8Array(outSize);
    }
  };
  // Decompressed bytes waiting in `out`: a buffer is sent only when full or at the end of the input, so
  // chunks are full-size even when one input chunk decompresses to less than a buffer. (The input never
  // waits for the output: each input chunk is acknowledged once consumed.)
  let fill = 0;
  const flush = (): void => {
    emit(fill);
    fill = 0;
  };

  /** One zstd call on the current input; returns true when that input is fully consumed and flushed. */
  const step = (src: Uint8Array): [finished: boolean, rest: Uint8Array] => {
    if (cctx !== undefined) {
      const directive = ending ? binding.EndDirective.end : binding.EndDirective.continue;
      const t0 = process.hrtime.bigint();
      const [remaining, produced, consumed] = cctx.compressStream2(out, src, directive);
      busyNs += process.hrtime.bigint() - t0;
      emit(produced);
      const rest = src.subarray(consumed);
      return [rest.length === 0 && (!ending || remaining === 0), rest];
    }
    if (dctx === undefined) throw new Error('zstd context missing');
    const t0 = process.hrtime.bigint();
    const [hint, produced, consumed] = dctx.decompressStream(out.subarray(fill), src);
    busyNs += process.hrtime.bigint() - t0;
    fill += produced;
    const full = fill === out.length;
    if (full) flush();
    const rest = src.subarray(consumed);
    // hint 0 = a frame just ended. A call that moved nothing tells nothing: after a frame ends, zstd
    // answers an empty call with the next frame's header size, which must not read as "mid-frame".
    if (consumed > 0 || produced > 0) inFrame = hint !== 0;
    // A full output buffer may mean zstd holds more decoded bytes: call again before taking new input.
    return [rest.length === 0 && !full, rest];
  };

  const pump = (): void => {
    while (!done && credits > 0) {
      if (current === null) {
        const next = queue.shift();
        if (next === undefined) return;
        if (next === null) {
          ending = true;
          if (!compress) {
            flush();
            done = true;
            if (inFrame) {
              fail('truncated', new Error('zstd input ended in the middle of a frame'));
              return;
            }
            port.postMessage({ t: 'end', threadId, bytesIn, bytesOut, busySeconds: Number(busyNs) / 1e9 });
            return;
          }
          current = empty;
        } else {
          current = next;
          bytesIn += next.length;
        }
      }
      let finished: boolean;
      try {
        [finished, current] = step(current);
      } catch (e: unknown) {
        fail(compress ? 'internal' : 'corrupt', e);
        return;
      }
      if (!finished) continue;
      current = null;
      if (ending) {
        done = true;
        port.postMessage({ t: 'end', threadId, bytesIn, bytesOut, busySeconds: Number(busyNs) / 1e9 });
        return;
      }
      port.postMessage({ t: 'ack' });
    }
  };

  port.on('message', (msg: ToWorkerMessage) => {
    if (done) return;
    if (msg.t === 'data') queue.push(msg.buf);
    else if (msg.t === 'end') queue.push(null);
    else credits += msg.n;
    pump();
  });
}

/**
 * Source text of a Worker (`eval: true`) that runs {@link runZstdWorker}. `bindingPath` is the absolute
 * path of `zstd-napi/binding`, resolved by the main thread so it works from any working directory.
 * The `__name` shim covers transpilers that inject a `keepNames` helper into function bodies.
 */
export function zstdWorkerSource(): string {
  return [
    "'use strict';",
    "const { parentPort, workerData, threadId } = require('node:worker_threads');",
    'var __name = (f) => f;',
    'const binding = require(workerData.bindingPath);',
    `(${runZstdWorker.toString()})(parentPort, binding, workerData.config, threadId);`,
  ].join('\n');
}
