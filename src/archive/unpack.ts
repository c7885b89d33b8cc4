import { createHash, type Hash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { extract as tarExtract, type Extract, type Header } from 'tar-stream';

import {
  CHECKSUMS_ENTRY,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_MAX_OBJECT_COUNT,
  MANIFEST_ENTRY,
  TAR_OVERHEAD_PER_ENTRY_BYTES,
  TAR_TRAILER_SLACK_BYTES,
} from './constants.js';
import {
  ArchiveError,
  ArchiveFormatError,
  ArchiveIntegrityError,
  ArchiveLimitError,
  ArchiveTruncatedError,
  ArchiveUsageError,
} from './errors.js';
import {
  manifestTotalBytes,
  objectEntryName,
  parseChecksums,
  parseManifest,
  parseObjectEntryName,
  type Checksums,
  type Manifest,
  type ManifestObject,
} from './manifest.js';
import { BlockHasher } from './blocks.js';
import { endAndWaitForFinish, waitForDrain } from './tarStreams.js';
import { createZstdDecompressStream, type ZstdStreamOptions } from './zstdStream.js';

/** Where an object sits in the archive. */
export interface ObjectEntryInfo {
  /** Index in `manifest.objects`. */
  readonly index: number;
  /** Tar entry name, e.g. `objects/000000000007`. */
  readonly entry: string;
}

/**
 * An object's body as handed to {@link ReadArchiveOptions.onObject}: its bytes, and, in `verifyBlocks` mode for
 * an object larger than the manifest's `checksumBlockBytes`, the SHA-256 of each block read so far.
 */
export interface ObjectBody extends Readable {
  /** The block size the body is hashed by, or `undefined` when it is hashed whole. */
  readonly blockBytes: number | undefined;
  /**
   * Hex SHA-256 of block `index` (0-based) once the body has been read past its end, else `undefined`. Not
   * verified yet: the trailer is checked when the archive ends.
   */
  blockSha256(index: number): string | undefined;
}

/** Options of {@link readArchive}. */
export interface ReadArchiveOptions {
  /**
   * Called once per object, in manifest order, with its body. Resolve when done with it. The body may be
   * left unread or destroyed (to skip the object): the reader drains and hashes the rest itself.
   * Objects are verified against `checksums.json` only at the end: when `readArchive` rejects, treat
   * everything already delivered as unverified (an {@link ArchiveIntegrityError} names the key).
   */
  onObject(object: ManifestObject, body: ObjectBody, info: ObjectEntryInfo): Promise<void>;
  /**
   * Called with the validated manifest (and its exact bytes) before any object. Throw to refuse the
   * archive early (e.g. this region is not in `targets`).
   */
  onManifest?(manifest: Manifest, raw: Buffer): void | Promise<void>;
  /** Refuse manifests listing more objects than this. @defaultValue 100000 */
  readonly maxObjectCount?: number;
  /** Refuse `manifest.json` / `checksums.json` entries larger than this (bytes; buffered). @defaultValue 64 MiB */
  readonly maxManifestBytes?: number;
  /** Largest zstd window accepted, log2 bytes. @defaultValue 27 (128 MiB) */
  readonly maxWindowLog?: number;
  /** Codec buffer tuning; see {@link ZstdStreamOptions}. */
  readonly codec?: ZstdStreamOptions;
  /**
   * When the manifest declares `checksumBlockBytes`, hash each object larger than one block by block (not
   * whole) and verify the blocks against the trailer's `blocks`; the body exposes each block's digest
   * ({@link ObjectBody.blockSha256}) so a consumer writing the object in parts of that size need not hash
   * it again. Every byte is still verified by SHA-256; the whole-object digest reported is then the trailer's.
   * An archive that declares blocks but whose trailer lacks them for such an object is refused.
   * @defaultValue false
   */
  readonly verifyBlocks?: boolean;
  /** Aborting stops reading; the call rejects with an `AbortError` whose `cause` is the signal's reason. */
  readonly signal?: AbortSignal;
}

/** One verified object. */
export interface ObjectDigest {
  readonly index: number;
  readonly entry: string;
  readonly key: string;
  readonly size: number;
  /**
   * SHA-256 (hex) of the entry bytes, equal to `checksums.json`'s (in `verifyBlocks` mode, for an object
   * verified block by block, the trailer's value).
   */
  readonly sha256: string;
  /** Verified SHA-256 of each block, for an object verified block by block. */
  readonly blocks?: readonly string[];
}

/** What {@link readArchive} found; everything in it is verified. */
export interface ReadArchiveResult {
  readonly manifest: Manifest;
  /** Objects read. */
  readonly objects: number;
  /** Object bytes read (sum of sizes). */
  readonly bytes: number;
  /** Compressed bytes consumed. */
  readonly compressedBytes: number;
  /** Decompressed tar bytes (headers, padding and JSON entries included). */
  readonly tarBytes: number;
  /** Per-object digests, in manifest order. */
  readonly digests: readonly ObjectDigest[];
  /** The verified trailer. */
  readonly checksums: Checksums;
  /** Sizes of the `manifest.json` and `checksums.json` entries, in bytes. */
  readonly jsonEntryBytes: { readonly manifest: number; readonly checksums: number };
}

/** Decompressed bytes the reader may see beyond manifest.json before it knows the archive's size. */
const PRE_MANIFEST_SLACK_BYTES = 4 * 1024 * 1024;

/** Shorten and quote a key for an error message (the full key is in `error.key`). */
function quote(text: string): string {
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

function checkLimit(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 0) {
    throw new ArchiveUsageError(`${name} must be an integer ≥ 0, got ${v}`, { op: 'unpack' });
  }
  return v;
}

/** Map tar-stream's plain errors to typed ones. */
function tarError(e: unknown): unknown {
  if (e instanceof ArchiveError || !(e instanceof Error)) return e;
  if (e.message === 'Unexpected end of data') {
    return new ArchiveTruncatedError('tar stream ended in the middle of an entry', {
      op: 'unpack',
      cause: e,
    });
  }
  if (/tar header|Invalid header|Header exceeds max size/.test(e.message)) {
    return new ArchiveFormatError(`tar: ${e.message}`, { op: 'unpack', cause: e });
  }
  return e;
}

/**
 * The codec runs ahead of the tar parser, so zstd's errors cannot name the damaged object; say where the
 * parser was (the damage is there or later).
 */
function withPosition(e: unknown, sequence: ArchiveSequence): unknown {
  if (!(e instanceof ArchiveError) || e.op !== 'decompress') return e;
  const message = `${e.message} (reader at ${sequence.position()})`;
  const context = { op: 'unpack' as const, cause: e };
  if (e instanceof ArchiveIntegrityError) return new ArchiveIntegrityError(message, context);
  if (e instanceof ArchiveTruncatedError) return new ArchiveTruncatedError(message, context);
  return e;
}

/** Buffer a small entry whose size was checked beforehand. */
async function collectEntry(stream: AsyncIterable<unknown>, size: number): Promise<Buffer> {
  const out = Buffer.allocUnsafe(size);
  let filled = 0;
  for await (const chunk of stream) {
    const buf = chunk as Buffer;
    buf.copy(out, filled);
    filled += buf.length;
  }
  return out.subarray(0, filled);
}

/**
 * An object's body as a Node stream, pulled from the tar entry with backpressure and hashed on the way.
 * Only one pull runs at a time. Destroying it does not disturb the archive: {@link EntryBody.complete}
 * drains and hashes whatever the consumer left.
 */
class EntryBody extends Readable implements ObjectBody {
  readonly blockBytes: number | undefined;
  readonly #source: AsyncIterator<unknown>;
  /** Whole-entry hash, or per-block hashes when `blockBytes` is set (never both: each byte is hashed once). */
  readonly #hash: Hash | undefined;
  readonly #blocks: BlockHasher | undefined;
  readonly #expected: number;
  #bytes = 0;
  #sourceDone = false;
  #endPushed = false;
  #completing = false;
  #reading: Promise<Buffer | null> | null = null;

  constructor(source: AsyncIterable<unknown>, expected: number, blockBytes?: number) {
    super({ highWaterMark: 64 * 1024 });
    this.#source = source[Symbol.asyncIterator]();
    this.#expected = expected;
    this.blockBytes = blockBytes;
    this.#blocks = blockBytes === undefined ? undefined : new BlockHasher(blockBytes);
    this.#hash = blockBytes === undefined ? createHash('sha256') : undefined;
  }

  blockSha256(index: number): string | undefined {
    return this.#blocks?.digests[index];
  }

  async #next(): Promise<Buffer | null> {
    const r = await this.#source.next();
    if (r.done === true) {
      this.#sourceDone = true;
      this.#blocks?.finish(); // the last, short block's digest is known before the consumer sees the end
      return null;
    }
    const buf = r.value as Buffer;
    this.#bytes += buf.length;
    if (this.#blocks) this.#blocks.update(buf);
    else this.#hash?.update(buf);
    return buf;
  }

  override _read(): void {
    if (this.#reading !== null || this.#completing) return;
    const reading = this.#next();
    this.#reading = reading;
    reading.then(
      (buf) => {
        this.#reading = null;
        if (this.destroyed) return;
        if (buf === null) this.#endPushed = true;
        this.push(buf);
      },
      (e: unknown) => {
        this.#reading = null;
        this.destroy(e instanceof Error ? e : new Error(String(e)));
      },
    );
  }

  /**
   * Once the consumer is done: read the rest of the entry, check its length and return its SHA-256. A body
   * the consumer did not read to the end is destroyed (a late reader gets a premature close, never a short
   * body that looks complete).
   */
  async complete(): Promise<{ sha256?: string; blocks?: string[] }> {
    this.#completing = true;
    if (this.#reading !== null) await this.#reading;
    while (!this.#sourceDone) await this.#next();
    if (!this.#endPushed && !this.destroyed) this.destroy();
    if (this.#bytes !== this.#expected) {
      throw new ArchiveTruncatedError(`entry ended after ${this.#bytes} of ${this.#expected} bytes`, {
        op: 'unpack',
      });
    }
    if (this.#blocks) return { blocks: this.#blocks.finish() };
    return { sha256: this.#hash?.digest('hex') ?? '' };
  }
}

/** The v1 entry-sequence state machine: manifest, objects in order, checksums, nothing else. */
class ArchiveSequence {
  manifest: Manifest | undefined;
  manifestSha256 = '';
  readonly digests: { -readonly [K in keyof ObjectDigest]: ObjectDigest[K] }[] = [];
  bytes = 0;
  checksums: Checksums | undefined;
  manifestEntryBytes = 0;
  checksumsEntryBytes = 0;
  /** Cap on decompressed tar bytes; grows once the manifest is known. */
  tarByteLimit: number;

  constructor(
    private readonly options: ReadArchiveOptions & { maxObjectCount: number; maxManifestBytes: number },
  ) {
    // Before the manifest is parsed the feed may run up to a few codec chunks ahead of the parser.
    this.tarByteLimit = options.maxManifestBytes + TAR_OVERHEAD_PER_ENTRY_BYTES + PRE_MANIFEST_SLACK_BYTES;
  }

  /** Entry being handled; left set when handling it failed. */
  #current: string | undefined;

  /** Where the parser is, for errors the codec raises ahead of it. */
  position(): string {
    const count = this.manifest?.objects.length;
    if (this.#current !== undefined) {
      return `entry ${quote(this.#current)}, ${this.digests.length} objects read before it`;
    }
    return count === undefined ? 'the start' : `${this.digests.length} of ${count} objects read`;
  }

  async handle(header: Header, stream: AsyncIterable<unknown>): Promise<void> {
    this.#current = header.name;
    await this.#handle(header, stream);
    this.#current = undefined;
  }

  async #handle(header: Header, stream: AsyncIterable<unknown>): Promise<void> {
    const name = header.name;
    if (header.type !== 'file') {
      throw new ArchiveFormatError(
        `entry ${quote(name)} has type ${header.type}; only regular files are allowed`,
        {
          op: 'unpack',
          entry: name,
        },
      );
    }
    if (this.manifest === undefined) {
      await this.#readManifest(header, stream);
      return;
    }
    if (this.checksums !== undefined) {
      throw new ArchiveFormatError(`unexpected entry ${quote(name)} after ${CHECKSUMS_ENTRY}`, {
        op: 'unpack',
        entry: name,
      });
    }
    const index = this.digests.length;
    if (index < this.manifest.objects.length) {
      await this.#readObject(this.manifest, index, header, stream);
      return;
    }
    if (name !== CHECKSUMS_ENTRY) throw this.#unexpected(this.manifest, name);
    await this.#readChecksums(header, stream);
  }

  async #readManifest(header: Header, stream: AsyncIterable<unknown>): Promise<void> {
    const name = header.name;
    if (name !== MANIFEST_ENTRY) {
      throw new ArchiveFormatError(`archive must start with ${MANIFEST_ENTRY}, found ${quote(name)}`, {
        op: 'unpack',
        entry: name,
      });
    }
    if (header.size > this.options.maxManifestBytes) {
      throw new ArchiveLimitError(
        `${MANIFEST_ENTRY} is ${header.size} bytes, over the limit of ${this.options.maxManifestBytes}`,
        { op: 'unpack', entry: name },
      );
    }
    const raw = await collectEntry(stream, header.size);
    const manifest = parseManifest(raw, 'unpack');
    const count = manifest.objects.length;
    if (count > this.options.maxObjectCount) {
      throw new ArchiveLimitError(
        `manifest lists ${count} objects, over the limit of ${this.options.maxObjectCount}`,
        {
          op: 'unpack',
          entry: name,
        },
      );
    }
    this.manifestEntryBytes = raw.length;
    this.manifestSha256 = createHash('sha256').update(raw).digest('hex');
    // Everything the tar may decompress to: entries' data, their headers/padding, both JSON entries, the end.
    this.tarByteLimit =
      raw.length +
      manifestTotalBytes(manifest) +
      this.options.maxManifestBytes +
      (count + 2) * TAR_OVERHEAD_PER_ENTRY_BYTES +
      TAR_TRAILER_SLACK_BYTES;
    await this.options.onManifest?.(manifest, raw);
    this.manifest = manifest;
  }

  #unexpected(manifest: Manifest, name: string): ArchiveError {
    const index = this.digests.length;
    const count = manifest.objects.length;
    const expected = index < count ? objectEntryName(index) : CHECKSUMS_ENTRY;
    const key = manifest.objects[index]?.key;
    const context = { op: 'unpack' as const, entry: name, key };
    const found = parseObjectEntryName(name);
    if (name === MANIFEST_ENTRY) return new ArchiveFormatError(`duplicate ${MANIFEST_ENTRY}`, context);
    if (name === CHECKSUMS_ENTRY) {
      return new ArchiveFormatError(
        `missing entries: ${CHECKSUMS_ENTRY} after ${index} of ${count} objects; first missing ${quote(expected)} (key ${quote(key ?? '')})`,
        context,
      );
    }
    if (found !== undefined && found < index) {
      return new ArchiveFormatError(
        `duplicate or out-of-order entry ${quote(name)}, expected ${quote(expected)}`,
        context,
      );
    }
    if (found !== undefined && found < count) {
      return new ArchiveFormatError(
        `out-of-order entry ${quote(name)}: ${quote(expected)} (key ${quote(key ?? '')}) is missing before it`,
        context,
      );
    }
    return new ArchiveFormatError(`unknown entry ${quote(name)}, expected ${quote(expected)}`, context);
  }

  async #readObject(
    manifest: Manifest,
    index: number,
    header: Header,
    stream: AsyncIterable<unknown>,
  ): Promise<void> {
    const entry = objectEntryName(index);
    if (header.name !== entry) throw this.#unexpected(manifest, header.name);
    const object = manifest.objects[index];
    if (object === undefined) throw this.#unexpected(manifest, header.name);
    if (header.size !== object.size) {
      throw new ArchiveFormatError(
        `entry ${quote(entry)} is ${header.size} bytes, manifest says ${object.size} (key ${quote(object.key)})`,
        { op: 'unpack', entry, key: object.key },
      );
    }
    const bb = manifest.checksumBlockBytes;
    const byBlocks = this.options.verifyBlocks === true && bb !== undefined && object.size > bb;
    const body = new EntryBody(stream, object.size, byBlocks ? bb : undefined);
    try {
      await this.options.onObject(object, body, { index, entry });
    } catch (e: unknown) {
      body.destroy();
      throw e;
    }
    // Whatever onObject did with the body, the entry is read to its end and hashed here.
    const { sha256 = '', blocks } = await body.complete();
    this.digests.push({
      index,
      entry,
      key: object.key,
      size: object.size,
      sha256,
      ...(blocks ? { blocks } : {}),
    });
    this.bytes += object.size;
  }

  async #readChecksums(header: Header, stream: AsyncIterable<unknown>): Promise<void> {
    if (header.size > this.options.maxManifestBytes) {
      throw new ArchiveLimitError(
        `${CHECKSUMS_ENTRY} is ${header.size} bytes, over the limit of ${this.options.maxManifestBytes}`,
        { op: 'unpack', entry: CHECKSUMS_ENTRY },
      );
    }
    const checksums = parseChecksums(await collectEntry(stream, header.size), 'unpack');
    const listed = new Set(Object.keys(checksums.objects));
    if (checksums.manifest !== this.manifestSha256) {
      throw new ArchiveIntegrityError(`${MANIFEST_ENTRY}: SHA-256 differs from ${CHECKSUMS_ENTRY}`, {
        op: 'unpack',
        entry: MANIFEST_ENTRY,
      });
    }
    for (const d of this.digests) {
      const expected = checksums.objects[d.entry];
      if (expected === undefined) {
        throw new ArchiveFormatError(
          `${CHECKSUMS_ENTRY} has no checksum for ${quote(d.entry)} (key ${quote(d.key)})`,
          {
            op: 'unpack',
            entry: d.entry,
            key: d.key,
          },
        );
      }
      if (d.blocks !== undefined) {
        this.#checkBlocks(d.entry, d.key, d.blocks, checksums.blocks?.[d.entry]);
        d.sha256 = expected;
      } else if (expected !== d.sha256) {
        throw new ArchiveIntegrityError(
          `object ${quote(d.key)} (${d.entry}): SHA-256 ${d.sha256} differs from ${CHECKSUMS_ENTRY}'s ${expected}`,
          { op: 'unpack', entry: d.entry, key: d.key },
        );
      }
      listed.delete(d.entry);
    }
    const extra = listed.values().next();
    if (extra.done !== true) {
      throw new ArchiveFormatError(
        `${CHECKSUMS_ENTRY} lists ${quote(extra.value)}, which is not in the archive`,
        {
          op: 'unpack',
          entry: CHECKSUMS_ENTRY,
        },
      );
    }
    this.checksums = checksums;
    this.checksumsEntryBytes = header.size;
  }

  #checkBlocks(
    entry: string,
    key: string,
    actual: readonly string[],
    expected: readonly string[] | undefined,
  ): void {
    const context = { op: 'unpack' as const, entry, key };
    if (expected === undefined) {
      throw new ArchiveFormatError(
        `${CHECKSUMS_ENTRY} has no block checksums for ${quote(entry)} (key ${quote(key)}), which the manifest's checksumBlockBytes requires`,
        context,
      );
    }
    if (expected.length !== actual.length) {
      throw new ArchiveFormatError(
        `${CHECKSUMS_ENTRY} lists ${expected.length} block checksums for ${quote(entry)} (key ${quote(key)}); its size makes ${actual.length}`,
        context,
      );
    }
    actual.forEach((digest, i) => {
      if (digest !== expected[i]) {
        throw new ArchiveIntegrityError(
          `object ${quote(key)} (${entry}): SHA-256 of block ${i} is ${digest}, ${CHECKSUMS_ENTRY} says ${expected[i] ?? ''}`,
          context,
        );
      }
    });
  }

  /** The error for an archive that ended before its sequence was complete, if it did. */
  incomplete(): ArchiveError | undefined {
    const manifest = this.manifest;
    if (manifest === undefined) {
      return new ArchiveTruncatedError(`archive has no ${MANIFEST_ENTRY} (empty or truncated)`, {
        op: 'unpack',
      });
    }
    const index = this.digests.length;
    const object = manifest.objects[index];
    if (object !== undefined) {
      const entry = objectEntryName(index);
      return new ArchiveTruncatedError(
        `archive ended after ${index} of ${manifest.objects.length} objects; missing ${quote(entry)} (key ${quote(object.key)})`,
        { op: 'unpack', entry, key: object.key },
      );
    }
    if (this.checksums === undefined) {
      return new ArchiveTruncatedError(`archive ended before ${CHECKSUMS_ENTRY}`, {
        op: 'unpack',
        entry: CHECKSUMS_ENTRY,
      });
    }
    return undefined;
  }
}

/**
 * Read and verify an archive (format v1) from a stream of `.tar.zst` bytes, handing each object to
 * `onObject` as it streams past. Never touches the filesystem and never uses an entry name as a path.
 *
 * Checks: `manifest.json` first and valid; then exactly the manifest's objects, in order, each entry the
 * manifest's size; then `checksums.json` matching every SHA-256 (and the manifest's); nothing after; the
 * decompressed total capped by the manifest; the zstd content checksum.
 *
 * Memory: the codec's buffers (see {@link createZstdDecompressStream}), ~16 KiB in the tar parser, 64 KiB
 * per object body, and the two JSON entries (≤ maxManifestBytes each).
 *
 * @throws {@link ArchiveFormatError} (structure), {@link ArchiveTruncatedError}, {@link ArchiveIntegrityError}
 * (zstd or SHA-256), {@link ArchiveLimitError}; an error thrown by `onObject`/`onManifest` is rethrown as is.
 * @example
 * const { manifest, objects, bytes } = await readArchive(s3Body, {
 *   onObject: async (object, body) => { await putObject(object, body); },
 * });
 */
export async function readArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  options: ReadArchiveOptions,
): Promise<ReadArchiveResult> {
  const maxObjectCount = checkLimit('maxObjectCount', options.maxObjectCount, DEFAULT_MAX_OBJECT_COUNT);
  const maxManifestBytes = checkLimit(
    'maxManifestBytes',
    options.maxManifestBytes,
    DEFAULT_MAX_MANIFEST_BYTES,
  );
  const sequence = new ArchiveSequence({ ...options, maxObjectCount, maxManifestBytes });
  const decompressor = createZstdDecompressStream({
    ...options.codec,
    ...(options.maxWindowLog === undefined ? {} : { maxWindowLog: options.maxWindowLog }),
  });
  const extract: Extract = tarExtract();
  const internal = new AbortController();
  const signal =
    options.signal === undefined ? internal.signal : AbortSignal.any([options.signal, internal.signal]);
  let firstError: unknown;
  const record = (e: unknown): void => {
    firstError ??= withPosition(e, sequence);
  };
  let tarBytes = 0;

  const feed = pipeline(
    input,
    decompressor,
    async (source: AsyncIterable<Buffer>) => {
      try {
        for await (const chunk of source) {
          tarBytes += chunk.length;
          if (tarBytes > sequence.tarByteLimit) {
            throw new ArchiveLimitError(
              `archive decompresses to more than ${sequence.tarByteLimit} bytes, more than its manifest allows`,
              { op: 'unpack' },
            );
          }
          if (!extract.write(chunk)) await waitForDrain(extract, 'tar extractor');
        }
        await endAndWaitForFinish(extract, 'tar extractor');
      } catch (e: unknown) {
        // Record before rethrowing: leaving the loop destroys the codec with an AbortError, which
        // pipeline() would otherwise report instead of this cause.
        record(tarError(e));
        throw e;
      }
    },
    { signal },
  ).catch((e: unknown) => {
    record(tarError(e));
    extract.destroy(e instanceof Error ? e : new Error(String(e)));
  });

  const consume = (async () => {
    for await (const entry of extract) {
      try {
        await sequence.handle(entry.header, entry);
      } catch (e: unknown) {
        record(tarError(e));
        entry.destroy(e instanceof Error ? e : undefined);
        throw e;
      }
    }
  })().catch((e: unknown) => {
    record(tarError(e));
    internal.abort(e);
  });

  await Promise.all([feed, consume]);
  if (firstError !== undefined) {
    throw firstError instanceof Error ? firstError : new Error('archive read failed', { cause: firstError });
  }
  const incomplete = sequence.incomplete();
  if (incomplete !== undefined) throw incomplete;
  const { manifest, checksums } = sequence;
  if (manifest === undefined || checksums === undefined) {
    throw new ArchiveTruncatedError('archive is incomplete', { op: 'unpack' });
  }
  return {
    manifest,
    objects: sequence.digests.length,
    bytes: sequence.bytes,
    compressedBytes: decompressor.stats?.bytesIn ?? 0,
    tarBytes,
    digests: sequence.digests,
    checksums,
    jsonEntryBytes: { manifest: sequence.manifestEntryBytes, checksums: sequence.checksumsEntryBytes },
  };
}
