/**
 * Event-loop responsiveness while compressing: baler's worker-thread codec against zstd-napi's own
 * CompressStream on the main thread (the named baseline). Prints throughput and the longest event-loop
 * stall. Timing belongs here, not in unit tests.
 *
 * Run: npx vitest bench --run --project unit bench/archive.bench.ts
 */
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { Readable, Writable, type Duplex } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { bench, describe } from 'vitest';
import { CompressStream } from 'zstd-napi';

import { createZstdCompressStream } from '../src/archive/index.js';

const TOTAL_BYTES = 64 * 1024 * 1024;
const CHUNK_BYTES = 1024 * 1024;
const LEVEL = 12;

/** 64 distinct MiB of CSV-like text with pseudo-random values (compresses to roughly a quarter), made up front. */
const chunks = (() => {
  let seed = 42;
  const rand = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed / 4294967296;
  };
  const out: Buffer[] = [];
  for (let c = 0; c < TOTAL_BYTES / CHUNK_BYTES; c += 1) {
    const lines: string[] = [];
    let size = 0;
    for (let i = 0; size < CHUNK_BYTES; i += 1) {
      const line = `${c * 100000 + i},user-${Math.floor(rand() * 5000)},${Math.floor(rand() * 1e6)},2025-01-${String(1 + Math.floor(rand() * 28)).padStart(2, '0')},${rand() < 0.9 ? 'ok' : 'retry'}\n`;
      lines.push(line);
      size += line.length;
    }
    out.push(Buffer.from(lines.join('')).subarray(0, CHUNK_BYTES));
  }
  return out;
})();

async function measure(name: string, codec: Duplex): Promise<void> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  // The histogram records nothing while the loop is blocked outright; timestamps of a 5 ms interval show it.
  let ticks = 0;
  let last = performance.now();
  let maxGapMs = 0;
  const timer = setInterval(() => {
    const now = performance.now();
    maxGapMs = Math.max(maxGapMs, now - last);
    last = now;
    ticks += 1;
  }, 5);
  histogram.enable();
  let out = 0;
  const started = process.hrtime.bigint();
  await pipeline(
    Readable.from(
      (function* () {
        yield* chunks;
      })(),
    ),
    codec,
    new Writable({
      write(data: Buffer, _encoding, callback) {
        out += data.length;
        callback();
      },
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  maxGapMs = Math.max(maxGapMs, performance.now() - last);
  histogram.disable();
  clearInterval(timer);
  console.log(
    JSON.stringify({
      event: 'archive_bench',
      codec: name,
      level: LEVEL,
      inputMiB: TOTAL_BYTES / 2 ** 20,
      ratio: Number((out / TOTAL_BYTES).toFixed(4)),
      mbPerSec: Number((TOTAL_BYTES / 1e6 / seconds).toFixed(1)),
      maxEventLoopDelayMs: Number((histogram.max / 1e6).toFixed(1)),
      p99EventLoopDelayMs: Number((histogram.percentile(99) / 1e6).toFixed(1)),
      maxIntervalGapMs: Number(maxGapMs.toFixed(1)),
      intervalTicks: ticks,
    }),
  );
}

const once = { iterations: 1, warmupIterations: 0, time: 0, warmupTime: 0 };

describe('zstd level 12, 64 MiB', () => {
  bench(
    'baler worker-thread codec (2 zstd threads)',
    async () => {
      await measure('worker', createZstdCompressStream({ level: LEVEL, threads: 2 }));
    },
    once,
  );
  bench(
    'baseline: zstd-napi CompressStream on the main thread (2 zstd threads)',
    async () => {
      await measure(
        'main-thread',
        new CompressStream({ compressionLevel: LEVEL, checksumFlag: true, nbWorkers: 2 }),
      );
    },
    once,
  );
});
