import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';

import { afterEach, describe, expect, it, onTestFinished, vi } from 'vitest';

import {
  ArchiveIntegrityError,
  ArchiveTruncatedError,
  ArchiveUsageError,
  createZstdCompressStream,
  createZstdDecompressStream,
  type ZstdStream,
} from '../../../src/archive/index.js';
import {
  DEFAULT_DECOMPRESS_OUTPUT_BYTES,
  DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS,
} from '../../../src/archive/zstdStream.js';
import {
  chunked,
  collect,
  flipByte,
  objectBytes,
  prng,
  randomBytesSeeded,
  runTool,
  settled,
  slowSink,
  truncated,
  zstdCompress,
} from '../../fixtures/archive/index.js';

const ZSTD_CLI = '/usr/bin/zstd';

async function compress(
  data: Buffer,
  level: number,
  source?: Readable,
): Promise<{ out: Buffer; codec: ZstdStream }> {
  const codec = createZstdCompressStream({ level, threads: 2 });
  const [out] = await Promise.all([collect(codec), pipeline(source ?? Readable.from([data]), codec)]);
  return { out, codec };
}

async function decompress(data: Buffer, source?: Readable): Promise<{ out: Buffer; codec: ZstdStream }> {
  const codec = createZstdDecompressStream();
  const [out] = await Promise.all([collect(codec), pipeline(source ?? Readable.from([data]), codec)]);
  return { out, codec };
}

function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('Function: createZstdCompressStream', () => {
  it.each([0, 1, 3, 12, 19])(
    'writes a checksummed frame at level %i that zstd -d restores',
    async (level) => {
      // Prepare
      const data = objectBytes(level, 300_000);

      // Act
      const { out } = await compress(data, level);
      const cli = await runTool(ZSTD_CLI, ['-d', '-c'], out);
      const dir = await mkdtemp(join(tmpdir(), 'baler-zstd-'));
      onTestFinished(() => rm(dir, { recursive: true, force: true }));
      const file = join(dir, 'frame.zst');
      await writeFile(file, out);
      const listing = await runTool(ZSTD_CLI, ['-lv', file], Buffer.alloc(0));

      // Assess
      expect(cli.code).toBe(0);
      expect(cli.stdout.equals(data)).toBe(true);
      expect(out.readUInt32LE(0)).toBe(0xfd2fb528); // zstd frame magic
      expect(out.readUInt8(4) & 0x04).toBe(0x04); // frame header descriptor: Content_Checksum_flag
      expect(listing.stdout.toString() + listing.stderr).toMatch(/XXH64/);
      if (level > 0) expect(out.length).toBeLessThan(data.length / 2);
    },
  );

  it('stores incompressible data at level 0 with almost no overhead', async () => {
    // Prepare
    const data = randomBytesSeeded(1, 1_000_000);

    // Act
    const { out } = await compress(data, 0);

    // Assess
    expect(out.length).toBeGreaterThanOrEqual(data.length);
    expect(out.length).toBeLessThan(data.length + 1024);
    expect((await decompress(out)).out.equals(data)).toBe(true);
  });

  it.each([-1, 20, 22, 1.5, Number.NaN])('refuses level %s', (level) => {
    // Assess
    expect(() => createZstdCompressStream({ level })).toThrow(ArchiveUsageError);
  });

  it('refuses nonsensical buffer options', () => {
    // Assess
    expect(() => createZstdCompressStream({ level: 3, chunkBytes: 0 })).toThrow(
      /chunkBytes must be an integer ≥ 1/,
    );
    expect(() => createZstdCompressStream({ level: 3, maxInFlightChunks: 0 })).toThrow(ArchiveUsageError);
    expect(() => createZstdDecompressStream({ maxWindowLog: 40 })).toThrow(ArchiveUsageError);
  });

  it('runs zstd in a worker thread and never loads zstd-napi on this thread', async () => {
    // Prepare
    const dlopen = vi.spyOn(process, 'dlopen');
    const data = objectBytes(5, 2_000_000);

    // Act
    const { codec } = await compress(data, 12);
    await codec.workerExited;

    // Assess
    expect(codec.stats?.threadId).toBe(codec.workerThreadId);
    expect(codec.stats?.threadId).not.toBe(threadId);
    expect(codec.stats?.threadId).not.toBe(0);
    expect(codec.stats?.bytesIn).toBe(data.length);
    const loaded = Object.keys(createRequire(import.meta.url).cache).filter((p) => p.includes('zstd-napi'));
    expect(loaded).toEqual([]);
    expect(dlopen.mock.calls.filter((c) => c[1].includes('zstd'))).toEqual([]);
  });

  it('gives the same frame content when fed 1 byte at a time and in random chunks', async () => {
    // Prepare
    const data = objectBytes(9, 20_000);
    const big = objectBytes(10, 3_000_000);

    // Act
    const bytewise = await compress(data, 3, chunked(data, 1));
    const random = await compress(big, 3, chunked(big, 'random', 3, 300_000));

    // Assess
    expect((await decompress(bytewise.out)).out.equals(data)).toBe(true);
    expect((await decompress(random.out)).out.equals(big)).toBe(true);
  });

  it('holds writes back while the reader is slow (bounded in-flight input)', async () => {
    // Prepare: level 0 keeps output ≈ input, so produced-minus-consumed measures what is buffered.
    const total = 16 * 1024 * 1024;
    let produced = 0;
    let consumed = 0;
    let maxAhead = 0;
    const source = new Readable({
      highWaterMark: 16 * 1024,
      read() {
        if (produced >= total) {
          this.push(null);
          return;
        }
        const chunk = randomBytesSeeded(produced, 64 * 1024);
        produced += chunk.length;
        this.push(chunk);
      },
    });
    const codec = createZstdCompressStream({ level: 0, readableHighWaterMarkBytes: 64 * 1024 });

    // Act
    await pipeline(
      source,
      codec,
      slowSink(2, (chunk) => {
        consumed += chunk.length;
        maxAhead = Math.max(maxAhead, produced - consumed);
      }),
    );

    // Assess: chunks in flight (4 × 128 KiB) + outputs (4 × 128 KiB) + stream buffers, far below 16 MiB.
    expect(consumed).toBeGreaterThanOrEqual(total);
    expect(maxAhead).toBeLessThan(3 * 1024 * 1024);
  });

  it('destroys the worker when the pipeline fails upstream', async () => {
    // Prepare
    const codec = createZstdCompressStream({ level: 3 });
    const failing = new Readable({
      read() {
        this.destroy(new Error('source broke'));
      },
    });

    // Act
    const result = pipeline(failing, codec, discard());

    // Assess
    await expect(result).rejects.toThrow('source broke');
    await codec.workerExited;
    expect(codec.destroyed).toBe(true);
  });

  it('errors upstream writers when the reader destroys it', async () => {
    // Prepare
    const codec = createZstdCompressStream({ level: 3 });
    const source = Readable.from(
      (function* () {
        for (;;) yield objectBytes(1, 64 * 1024);
      })(),
    );

    // Act
    const result = pipeline(source, codec, slowSink(1));
    await sleep(50);
    codec.destroy(new Error('reader gone'));

    // Assess
    await expect(result).rejects.toThrow('reader gone');
    await codec.workerExited;
    expect(source.destroyed).toBe(true);
  });
});

describe('Function: createZstdDecompressStream', () => {
  it('reads frames written by the zstd CLI, including several concatenated frames', async () => {
    // Prepare
    const a = objectBytes(1, 100_000);
    const b = objectBytes(2, 50_000);
    const frameA = (await runTool(ZSTD_CLI, ['-19', '--check', '-c'], a)).stdout;
    const frameB = (await runTool(ZSTD_CLI, ['-1', '--no-check', '-c'], b)).stdout;

    // Act
    const { out, codec } = await decompress(Buffer.concat([frameA, frameB]));

    // Assess
    expect(out.equals(Buffer.concat([a, b]))).toBe(true);
    expect(codec.stats?.bytesIn).toBe(frameA.length + frameB.length);
  });

  it('ends cleanly when the output is an exact multiple of its output buffers', async () => {
    // Prepare
    const data = objectBytes(8, 3 * DEFAULT_DECOMPRESS_OUTPUT_BYTES);
    const frame = (await runTool(ZSTD_CLI, ['-3', '--check', '-c'], data)).stdout;

    // Act
    const { out } = await decompress(frame);

    // Assess
    expect(out.equals(data)).toBe(true);
  });

  it.each([1024, 100_000, 2 * 1024 * 1024])(
    'hands out decompressed chunks of at most outputChunkBytes = %i',
    async (outputChunkBytes) => {
      // Prepare
      const data = objectBytes(12, 3 * 1024 * 1024 + 17);
      const frame = await zstdCompress(data, 3);
      const codec = createZstdDecompressStream({ outputChunkBytes });
      const sizes: number[] = [];

      // Act
      codec.end(frame);
      for await (const chunk of codec) sizes.push((chunk as Buffer).length);

      // Assess: full-size chunks but for the frame's last, and nothing lost
      expect(Math.max(...sizes)).toBe(outputChunkBytes);
      expect(sizes.filter((n) => n < outputChunkBytes)).toHaveLength(1);
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(data.length);
    },
  );

  it('refuses an output chunk under 1 KiB', () => {
    // Assess
    expect(() => createZstdDecompressStream({ outputChunkBytes: 1023 })).toThrow(
      /outputChunkBytes must be an integer ≥ 1024/,
    );
  });

  it('gives the same output fed 1 byte at a time and in random chunks', async () => {
    // Prepare
    const data = objectBytes(4, 500_000);
    const frame = await zstdCompress(data, 5);

    // Act
    const bytewise = await decompress(frame, chunked(frame, 1));
    const random = await decompress(frame, chunked(frame, 'random', 11, 777));

    // Assess
    expect(bytewise.out.equals(data)).toBe(true);
    expect(random.out.equals(data)).toBe(true);
  });

  it.each([1, 2, 3, 8])(
    'never stalls with %i output chunk(s) ahead, credits returned in batches, with a slow reader',
    async (maxOutputChunks) => {
      // Prepare: 3 MiB that decompress to many 128 KiB chunks
      const data = objectBytes(11, 3 * 1024 * 1024);
      const { out: frame } = await compress(data, 1);
      const codec = createZstdDecompressStream({ maxOutputChunks, readableHighWaterMarkBytes: 1 });
      const got: Buffer[] = [];

      // Act: read one chunk at a time, pausing between reads
      codec.end(frame);
      for await (const chunk of codec) {
        got.push(chunk as Buffer);
        await sleep(1);
      }

      // Assess
      expect(Buffer.concat(got).equals(data)).toBe(true);
    },
  );

  it('does not inflate a decompression bomb while nobody reads', async () => {
    // Prepare: 64 MiB of zeros compress to a few KiB.
    const zeros = Buffer.alloc(1024 * 1024);
    const zeroSource = Readable.from(
      (function* () {
        for (let i = 0; i < 64; i += 1) yield zeros;
      })(),
    );
    const { out: bomb } = await compress(Buffer.alloc(0), 1, zeroSource);
    const codec = createZstdDecompressStream();

    // Act
    codec.end(bomb);
    const buffered = await settled(() => codec.readableLength);
    const all = await collect(codec);

    // Assess
    expect(bomb.length).toBeLessThan(64 * 1024);
    expect(buffered).toBeGreaterThan(0);
    // The readable side's high-water mark plus the chunks the worker may send ahead (its credits).
    expect(buffered).toBeLessThanOrEqual(
      128 * 1024 + DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS * DEFAULT_DECOMPRESS_OUTPUT_BYTES,
    );
    expect(all.length).toBe(64 * 1024 * 1024);
  });

  it('reports a flipped byte as ArchiveIntegrityError', async () => {
    // Prepare: a stored (level 0) frame keeps the data bytes verbatim, so only the checksum can notice.
    const data = randomBytesSeeded(3, 200_000);
    const frame = await zstdCompress(data, 0);
    const damaged = flipByte(frame, Math.floor(frame.length / 2));

    // Act
    const result = decompress(damaged);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveIntegrityError);
    await expect(result).rejects.toThrow(/checksum|corrupt/i);
  });

  it('reports input cut inside a frame as ArchiveTruncatedError', async () => {
    // Prepare
    const frame = await zstdCompress(objectBytes(6, 100_000), 3);

    // Act
    const result = decompress(truncated(frame, frame.length - 3));

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveTruncatedError);
  });

  it('reports garbage as ArchiveIntegrityError and stops its worker', async () => {
    // Prepare
    const garbage = Buffer.from('this is not zstd at all');
    const codec = createZstdDecompressStream();

    // Act
    const result = pipeline(Readable.from([garbage]), codec, discard());

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveIntegrityError);
    await codec.workerExited;
  });

  it('round-trips random data in random chunks through both directions at once', async () => {
    // Prepare
    const rand = prng(99);
    const data = objectBytes(77, 2_000_000 + Math.floor(rand() * 1000));

    const decoder = createZstdDecompressStream({ chunkBytes: 777, maxOutputChunks: 1 });

    // Act
    const [out] = await Promise.all([
      collect(decoder),
      pipeline(
        chunked(data, 'random', 5, 50_000),
        createZstdCompressStream({ level: 6, chunkBytes: 10_000, maxInFlightChunks: 1 }),
        decoder,
      ),
    ]);

    // Assess
    expect(out.equals(data)).toBe(true);
  });
});
