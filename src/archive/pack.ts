import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { pack as tarPack, type Pack } from 'tar-stream';

import { CHECKSUM_ALGORITHM, CHECKSUMS_ENTRY, MANIFEST_ENTRY, USTAR_MAX_SIZE } from './constants.js';
import { BlockHasher } from './blocks.js';
import { ArchiveUsageError, ObjectSizeMismatchError } from './errors.js';
import { objectEntryName, parseManifest, serializeJson, type Checksums, type Manifest } from './manifest.js';
import { asAsyncIterable, waitForDrain } from './tarStreams.js';
import { createZstdCompressStream, type ZstdStats, type ZstdStreamOptions } from './zstdStream.js';

/** Options of {@link createArchivePacker}. */
export interface ArchivePackerOptions {
  /**
   * The archive's manifest, validated here. Its `compressionLevel` (0 = store, 1..19) is the level used,
   * and every object it lists must then be added, in order.
   */
  readonly manifest: Manifest;
  /** zstd compression threads besides the worker thread. @defaultValue min(4, cores) */
  readonly threads?: number;
  /** Codec buffer tuning; see {@link ZstdStreamOptions}. */
  readonly codec?: ZstdStreamOptions;
  /** Aborting destroys the output and fails pending and later calls. */
  readonly signal?: AbortSignal;
}

/** What {@link ArchivePacker.addObject} wrote. */
export interface PackedObject {
  readonly index: number;
  /** Tar entry name, e.g. `objects/000000000007`. */
  readonly entry: string;
  readonly key: string;
  readonly size: number;
  /** SHA-256 (hex) of the bytes read from the body, as recorded in `checksums.json`. */
  readonly sha256: string;
  /** SHA-256 of each block, when the manifest has `checksumBlockBytes` and the object is larger. */
  readonly blocks?: readonly string[];
}

/** What {@link ArchivePacker.finalize} reports. */
export interface PackResult {
  readonly manifest: Manifest;
  readonly checksums: Checksums;
  /** Objects written. */
  readonly objects: number;
  /** Object bytes written (sum of sizes). */
  readonly bytes: number;
  /** Bytes of the `.tar.zst` output. */
  readonly compressedBytes: number;
  /** Worker-side counters of the zstd codec (its `threadId` is never the main thread's). */
  readonly zstd: ZstdStats;
}

/** Writes one archive: `manifest.json`, each object, `checksums.json`, as one zstd frame. */
export interface ArchivePacker {
  /**
   * The `.tar.zst` bytes. Consume it concurrently with `addObject` (e.g. `pipeline(packer.output, upload)`):
   * nothing advances while it is not read. It is destroyed with the error when packing fails.
   */
  readonly output: Readable;
  /** The validated manifest being written. */
  readonly manifest: Manifest;
  /**
   * Stream the object at manifest `index` into the archive, hashing it on the way. Calls must be sequential
   * (await each) and in manifest order. Resolves once the tar entry is complete.
   *
   * @throws {@link ObjectSizeMismatchError} when `body` is longer or shorter than `expectedSize`; the archive
   * is then unusable (output destroyed) — retry the batch.
   * @throws {@link ArchiveUsageError} on a wrong index, a size that disagrees with the manifest, a concurrent
   * call, or after a failure / `finalize()`.
   */
  addObject(
    index: number,
    body: Readable | AsyncIterable<Uint8Array>,
    expectedSize: number,
  ): Promise<PackedObject>;
  /**
   * Write `checksums.json`, end the tar and the zstd frame. Resolves when all output has been produced
   * (it may still sit in `output`'s buffer until read).
   */
  finalize(): Promise<PackResult>;
  /** Stop: destroy the output with `reason`; pending and later calls fail. Idempotent. */
  abort(reason?: Error): void;
}

/** Regular-file mode of every entry (readers ignore it; `tar -x` applies it). */
const ENTRY_MODE = 0o644;

function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  if (typeof chunk === 'string') return Buffer.from(chunk, 'utf8');
  throw new TypeError(`object body must yield bytes, got ${typeof chunk}`);
}

/** Race `promise` against the packer failing, so no call hangs on a dead stream. */
function orFailure<T>(promise: Promise<T>, failure: Promise<never>): Promise<T> {
  return Promise.race([promise, failure]);
}

/**
 * Start writing an archive (format v1; docs/ARCHIVE_FORMAT.md). The manifest entry is queued at once; add
 * each object with {@link ArchivePacker.addObject}, then call {@link ArchivePacker.finalize}.
 *
 * Memory is bounded and independent of object sizes: the body's own buffer + one 16 KiB tar buffer + the
 * codec's (maxInFlightChunks + 2) × chunkBytes + maxOutputChunks × 128 KiB + zstd's state in the worker.
 *
 * @throws {@link ArchiveFormatError} when the manifest is invalid (errors name the JSON path).
 * @example
 * const packer = createArchivePacker({ manifest });
 * const upload = pipeline(packer.output, createWriteStream('batch.tar.zst'));
 * for (const [i, o] of manifest.objects.entries()) await packer.addObject(i, await open(o.key), o.size);
 * await packer.finalize();
 * await upload;
 */
export function createArchivePacker(options: ArchivePackerOptions): ArchivePacker {
  const manifest = parseManifest(options.manifest, 'pack');
  const manifestBytes = serializeJson(manifest);
  const created = new Date(manifest.created);
  const compressor = createZstdCompressStream({
    ...options.codec,
    level: manifest.compressionLevel,
    ...(options.threads === undefined ? {} : { threads: options.threads }),
  });
  const tar: Pack = tarPack();
  const digests: string[] = [];
  const blockDigests: Record<string, string[]> = {};
  const blockBytes = manifest.checksumBlockBytes;
  let bytes = 0;
  let busy = false;
  let finalized = false;
  let failed: Error | undefined;
  let rejectFailure: (e: unknown) => void = () => undefined;
  const failure = new Promise<never>((_resolve, reject) => {
    rejectFailure = reject;
  });
  failure.catch(() => undefined); // observed through orFailure(); never an unhandled rejection

  /** Void the archive (first cause wins) and return that first cause. */
  const fail = (e: unknown): Error => {
    if (failed !== undefined) return failed;
    const error = e instanceof Error ? e : new Error(String(e));
    failed = error;
    options.signal?.removeEventListener('abort', onAbort);
    rejectFailure(error);
    tar.destroy(error);
    compressor.destroy(error);
    return error;
  };

  tar.on('error', () => undefined); // reported through `feed` and `failure`
  tar.entry(
    { name: MANIFEST_ENTRY, size: manifestBytes.length, mtime: created, mode: ENTRY_MODE },
    manifestBytes,
  );
  const feed = pipeline(asAsyncIterable(tar), compressor);
  feed.catch((e: unknown) => {
    fail(e);
  });
  // The consumer may destroy `output` (e.g. its upload failed): fail the packer so no call hangs.
  compressor.once('close', () => {
    if (compressor.stats !== undefined) return;
    fail(
      compressor.errored ?? new ArchiveUsageError('archive output closed before finalize()', { op: 'pack' }),
    );
  });
  function onAbort(): void {
    const reason: unknown = options.signal?.reason;
    fail(reason instanceof Error ? reason : new ArchiveUsageError('archive packing aborted', { op: 'pack' }));
  }
  if (options.signal?.aborted === true) onAbort();
  options.signal?.addEventListener('abort', onAbort, { once: true });

  const assertUsable = (what: string): void => {
    if (failed !== undefined) {
      throw new ArchiveUsageError(`${what}: the packer failed earlier`, { op: 'pack', cause: failed });
    }
    if (finalized) throw new ArchiveUsageError(`${what}: the archive is already finalized`, { op: 'pack' });
    if (busy) {
      throw new ArchiveUsageError(`${what}: the previous addObject() is still running`, { op: 'pack' });
    }
  };

  const addObject = async (
    index: number,
    body: Readable | AsyncIterable<Uint8Array>,
    expectedSize: number,
  ): Promise<PackedObject> => {
    assertUsable('addObject');
    const next = digests.length;
    if (index !== next) {
      const message = `objects must be added in manifest order: expected index ${next}, got ${index}`;
      throw new ArchiveUsageError(message, { op: 'pack' });
    }
    const object = manifest.objects[index];
    if (object === undefined) {
      const message = `index ${index} is beyond the manifest's ${manifest.objects.length} objects`;
      throw new ArchiveUsageError(message, { op: 'pack' });
    }
    const entry = objectEntryName(index);
    const { key, size } = object;
    if (expectedSize !== size) {
      const message = `object ${index}: expectedSize ${expectedSize} differs from manifest size ${size}`;
      throw new ArchiveUsageError(message, { op: 'pack', entry, key });
    }
    busy = true;
    try {
      let resolveEntry: () => void = () => undefined;
      let rejectEntry: (e: Error) => void = () => undefined;
      const entryDone = new Promise<void>((resolve, reject) => {
        resolveEntry = resolve;
        rejectEntry = reject;
      });
      entryDone.catch(() => undefined);
      const sink = tar.entry(
        {
          name: entry,
          size,
          mtime: new Date(object.lastModified),
          mode: ENTRY_MODE,
          type: 'file',
          // Past 8 GiB the ustar size field overflows: add the POSIX pax `size` record.
          ...(size > USTAR_MAX_SIZE ? { pax: { size: String(size) } } : {}),
        },
        (e) => {
          if (e) rejectEntry(e);
          else resolveEntry();
        },
      );
      // Errors reach us through the entry callback and `failure`; an unheard 'error' event would crash.
      sink.on('error', () => undefined);
      const hash = createHash('sha256');
      // A second pass over the same bytes, only for objects the trailer lists block by block.
      const blockHasher =
        blockBytes !== undefined && size > blockBytes ? new BlockHasher(blockBytes) : undefined;
      let read = 0;
      const mismatch = (actual: number): ObjectSizeMismatchError =>
        new ObjectSizeMismatchError(
          `object ${index} (${entry}): body has ${actual > size ? 'more than' : 'only'} ${actual} bytes, manifest says ${size}`,
          { op: 'pack', entry, key, expectedBytes: size, actualBytes: actual },
        );
      for await (const chunk of body) {
        const buf = toBuffer(chunk);
        read += buf.length;
        if (read > size) throw mismatch(read);
        hash.update(buf);
        blockHasher?.update(buf);
        if (!sink.write(buf)) await orFailure(waitForDrain(sink, `tar entry ${entry}`), failure);
      }
      if (read !== size) throw mismatch(read);
      sink.end(undefined);
      await orFailure(entryDone, failure);
      const sha256 = hash.digest('hex');
      digests.push(sha256);
      bytes += size;
      if (blockHasher === undefined) return { index, entry, key, size, sha256 };
      const blocks = blockHasher.finish();
      blockDigests[entry] = blocks;
      return { index, entry, key, size, sha256, blocks };
    } catch (e: unknown) {
      // A half-written entry cannot be repaired: the whole archive is void. Report the first cause.
      throw fail(e);
    } finally {
      busy = false;
    }
  };

  const finalize = async (): Promise<PackResult> => {
    assertUsable('finalize');
    const missing = digests.length;
    if (missing < manifest.objects.length) {
      const object = manifest.objects[missing];
      throw new ArchiveUsageError(
        `finalize(): ${manifest.objects.length - missing} of ${manifest.objects.length} objects not added yet (next: index ${missing})`,
        { op: 'pack', entry: objectEntryName(missing), key: object?.key },
      );
    }
    finalized = true;
    const objects: Record<string, string> = {};
    digests.forEach((sha, i) => {
      objects[objectEntryName(i)] = sha;
    });
    const checksums: Checksums = {
      algorithm: CHECKSUM_ALGORITHM,
      manifest: sha256Hex(manifestBytes),
      objects,
      ...(blockBytes === undefined ? {} : { blocks: blockDigests }),
    };
    const trailer = serializeJson(checksums);
    tar.entry({ name: CHECKSUMS_ENTRY, size: trailer.length, mtime: created, mode: ENTRY_MODE }, trailer);
    tar.finalize();
    await orFailure(feed, failure);
    options.signal?.removeEventListener('abort', onAbort);
    const zstd = compressor.stats;
    if (zstd === undefined) throw new ArchiveUsageError('zstd stream ended without stats', { op: 'pack' });
    return {
      manifest,
      checksums,
      objects: digests.length,
      bytes,
      compressedBytes: zstd.bytesOut,
      zstd,
    };
  };

  return {
    output: compressor,
    manifest,
    addObject,
    finalize,
    abort: (reason?: Error) => {
      fail(reason ?? new ArchiveUsageError('archive packing aborted', { op: 'pack' }));
    },
  };
}
