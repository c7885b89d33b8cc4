import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, realpath, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

import { CHECKSUMS_ENTRY, MANIFEST_ENTRY } from './constants.js';
import { UnsafePathError } from './errors.js';
import type { Manifest, ManifestObject } from './manifest.js';
import {
  readArchive,
  type ObjectBody,
  type ObjectDigest,
  type ObjectEntryInfo,
  type ReadArchiveOptions,
} from './unpack.js';
import type { ZstdStreamOptions } from './zstdStream.js';

/** Longest file name most filesystems accept (NAME_MAX), in bytes. */
export const MAX_PATH_SEGMENT_BYTES = 255;

/** Result of {@link checkRelativeKey}. */
export type RelativeKeyCheck =
  | { readonly ok: true; readonly segments: readonly string[] }
  | { readonly ok: false; readonly reason: string };

/**
 * Decide whether a relative key can be written as a path below a directory, without resolving anything.
 * Refused: empty keys, NUL, a leading `/`, empty segments (`a//b`, trailing `/` of folder markers), `.` and
 * `..` segments, segments over 255 bytes, and on Windows `\` and drive letters.
 *
 * @example
 * checkRelativeKey('a/b.txt'); // { ok: true, segments: ['a', 'b.txt'] }
 * checkRelativeKey('../evil'); // { ok: false, reason: 'has a ".." segment' }
 */
export function checkRelativeKey(relativeKey: string): RelativeKeyCheck {
  if (relativeKey === '') return { ok: false, reason: 'is empty' };
  if (relativeKey.includes('\0')) return { ok: false, reason: 'contains NUL' };
  if (relativeKey.startsWith('/')) return { ok: false, reason: 'is absolute (leading "/")' };
  if (sep === '\\' && (relativeKey.includes('\\') || /^[A-Za-z]:/.test(relativeKey))) {
    return { ok: false, reason: 'contains "\\" or a drive letter' };
  }
  const segments = relativeKey.split('/');
  for (const segment of segments) {
    if (segment === '') return { ok: false, reason: 'has an empty segment ("//" or a trailing "/")' };
    if (segment === '.' || segment === '..') return { ok: false, reason: `has a "${segment}" segment` };
    if (Buffer.byteLength(segment, 'utf8') > MAX_PATH_SEGMENT_BYTES) {
      return { ok: false, reason: `has a segment longer than ${MAX_PATH_SEGMENT_BYTES} bytes` };
    }
  }
  return { ok: true, segments };
}

/** True when `target` is strictly below `root` (both absolute and normalised). */
function isInside(root: string, target: string): boolean {
  const rel = relative(root, target);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** Options of {@link unpackToDirectory}. */
export interface UnpackToDirectoryOptions extends Pick<
  ReadArchiveOptions,
  'maxObjectCount' | 'maxManifestBytes' | 'maxWindowLog' | 'signal'
> {
  /** Where to write the manifest's exact bytes. @defaultValue `<dir>/manifest.json` */
  readonly manifestPath?: string;
  /** Codec buffer tuning. */
  readonly codec?: ZstdStreamOptions;
}

/** An object written to disk. */
export interface WrittenObject {
  readonly index: number;
  readonly key: string;
  /** Absolute path written. */
  readonly path: string;
  readonly size: number;
}

/** An object not written, and why (its bytes were still read and verified). */
export interface RejectedObject {
  readonly index: number;
  readonly key: string;
  readonly relativeKey: string;
  readonly error: UnsafePathError;
}

/** What {@link unpackToDirectory} did. */
export interface UnpackToDirectoryResult {
  readonly manifest: Manifest;
  readonly manifestPath: string;
  readonly written: readonly WrittenObject[];
  readonly rejected: readonly RejectedObject[];
  /** Object bytes read (written or not). */
  readonly bytes: number;
}

interface Staged {
  readonly index: number;
  readonly key: string;
  readonly relativeKey: string;
  readonly temp: string;
  readonly path: string;
  readonly size: number;
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

/** File-system conflicts that make one object unwritable without making the archive bad. */
const PATH_CONFLICT_CODES = new Set(['EEXIST', 'ENOTDIR', 'EISDIR', 'ENAMETOOLONG']);

/**
 * Unpack an archive into `dir`: each object to `dir/<relativeKey>`, plus the manifest. Keys are data: a key
 * that is not a safe relative path (see {@link checkRelativeKey}) or would land outside `dir` (also through
 * a symlink already inside it) is reported in `rejected`, never written.
 *
 * Files are written to temporary names next to their targets and renamed into place only after the whole
 * archive verified (SHA-256 and zstd checksum); on any error they are removed and nothing is renamed.
 * Directories created on the way stay. Later objects with the same relative key replace earlier ones.
 *
 * @throws the errors of {@link readArchive}.
 * @example
 * const { written, rejected } = await unpackToDirectory(createReadStream('batch.tar.zst'), './out');
 */
export async function unpackToDirectory(
  input: Readable | AsyncIterable<Uint8Array>,
  dir: string,
  options: UnpackToDirectoryOptions = {},
): Promise<UnpackToDirectoryResult> {
  const root = resolve(dir);
  await mkdir(root, { recursive: true });
  const realRoot = await realpath(root);
  const manifestPath = resolve(options.manifestPath ?? join(realRoot, MANIFEST_ENTRY));
  const manifestTemp = join(dirname(manifestPath), `.${randomUUID()}.baler-tmp`);
  const staged: Staged[] = [];
  const rejected: RejectedObject[] = [];
  // Callbacks still running when the reader fails (a tar cut inside an entry fails the reader while the body
  // is still being piped, or while the callback is still creating directories): they are awaited before the
  // clean-up, or a late open() would create a temp file after it. The whole callback is tracked, not only its
  // write: a temp file is named and opened after the callback's first awaits.
  const running = new Set<Promise<void>>();
  const tracked =
    <A extends unknown[]>(callback: (...args: A) => Promise<void>) =>
    async (...args: A): Promise<void> => {
      const run = callback(...args);
      running.add(run);
      try {
        await run;
      } finally {
        running.delete(run);
      }
    };

  const reject = (index: number, key: string, relativeKey: string, reason: string): void => {
    const error = new UnsafePathError(`object ${JSON.stringify(key)}: relative key ${reason}; not written`, {
      op: 'write',
      key,
      reason,
    });
    rejected.push({ index, key, relativeKey, error });
  };

  try {
    const result = await readArchive(input, {
      ...options,
      onManifest: tracked(async (_manifest: Manifest, raw: Buffer) => {
        await mkdir(dirname(manifestPath), { recursive: true });
        await writeFile(manifestTemp, raw, { flag: 'wx', mode: 0o644 });
      }),
      onObject: tracked(async (object: ManifestObject, body: ObjectBody, { index }: ObjectEntryInfo) => {
        const { key, relativeKey } = object;
        const check = checkRelativeKey(relativeKey);
        if (!check.ok) {
          reject(index, key, relativeKey, check.reason);
          return; // the reader drains and verifies the body
        }
        const target = resolve(realRoot, ...check.segments);
        if (!isInside(realRoot, target)) {
          reject(index, key, relativeKey, 'resolves outside the directory');
          return;
        }
        if (target === manifestPath) {
          reject(index, key, relativeKey, 'collides with the manifest file');
          return;
        }
        let parent: string;
        try {
          await mkdir(dirname(target), { recursive: true });
          // A symlink already in the tree could lead elsewhere: check where the parent really is.
          parent = await realpath(dirname(target));
        } catch (e: unknown) {
          const code = errnoCode(e);
          if (code === undefined || !PATH_CONFLICT_CODES.has(code)) throw e;
          reject(index, key, relativeKey, `conflicts with another path (${code})`);
          return;
        }
        if (parent !== realRoot && !isInside(realRoot, parent)) {
          reject(index, key, relativeKey, 'has a parent directory that resolves outside the directory');
          return;
        }
        // O_EXCL ('wx') never follows a symlink planted at the temporary name.
        const temp = join(parent, `.${randomUUID()}.baler-tmp`);
        staged.push({
          index,
          key,
          relativeKey,
          temp,
          path: join(parent, basename(target)),
          size: object.size,
        });
        await pipeline(body, createWriteStream(temp, { flags: 'wx', mode: 0o644 }));
      }),
    });

    // Verified: move everything into place, in manifest order.
    const written: WrittenObject[] = [];
    for (const s of staged) {
      try {
        await rename(s.temp, s.path);
        written.push({ index: s.index, key: s.key, path: s.path, size: s.size });
      } catch (e: unknown) {
        const code = errnoCode(e);
        if (code === undefined || !PATH_CONFLICT_CODES.has(code)) throw e;
        await rm(s.temp, { force: true });
        reject(s.index, s.key, s.relativeKey, `conflicts with another path (${code})`);
      }
    }
    await rename(manifestTemp, manifestPath);
    rejected.sort((a, b) => a.index - b.index);
    return { manifest: result.manifest, manifestPath, written, rejected, bytes: result.bytes };
  } catch (e: unknown) {
    await Promise.allSettled(running);
    await Promise.all([...staged.map((s) => rm(s.temp, { force: true })), rm(manifestTemp, { force: true })]);
    throw e;
  }
}

/** One entry of an inspected archive. */
export interface InspectedEntry {
  /** Tar entry name. */
  readonly name: string;
  /** Manifest index (objects only). */
  readonly index?: number;
  /** Object key (objects only). */
  readonly key?: string;
  /** Entry data size in bytes. */
  readonly size: number;
  /** SHA-256, verified against checksums.json (objects only). */
  readonly sha256?: string;
}

/** What {@link inspectArchive} reports. */
export interface ArchiveInspection {
  readonly manifest: Manifest;
  /** Entries in archive order: manifest, objects, checksums. */
  readonly entries: readonly InspectedEntry[];
  readonly objects: number;
  /** Object bytes. */
  readonly bytes: number;
  /** Size of the `.tar.zst` input. */
  readonly compressedBytes: number;
  /** Size of the tar stream inside. */
  readonly tarBytes: number;
}

/**
 * Read and fully verify an archive without writing anything; list its entries.
 *
 * @throws the errors of {@link readArchive}.
 * @example
 * const { manifest, entries } = await inspectArchive(createReadStream('batch.tar.zst'));
 */
export async function inspectArchive(
  input: Readable | AsyncIterable<Uint8Array>,
  options: Pick<
    ReadArchiveOptions,
    'maxObjectCount' | 'maxManifestBytes' | 'maxWindowLog' | 'signal' | 'codec'
  > = {},
): Promise<ArchiveInspection> {
  const result = await readArchive(input, {
    ...options,
    // Nothing to do per object: the reader drains, hashes and verifies each body.
    onObject: () => Promise.resolve(),
  });
  const objectEntries = result.digests.map((d: ObjectDigest): InspectedEntry => ({
    name: d.entry,
    index: d.index,
    key: d.key,
    size: d.size,
    sha256: d.sha256,
  }));
  return {
    manifest: result.manifest,
    entries: [
      { name: MANIFEST_ENTRY, size: result.jsonEntryBytes.manifest },
      ...objectEntries,
      { name: CHECKSUMS_ENTRY, size: result.jsonEntryBytes.checksums },
    ],
    objects: result.objects,
    bytes: result.bytes,
    compressedBytes: result.compressedBytes,
    tarBytes: result.tarBytes,
  };
}
