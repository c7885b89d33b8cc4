import path from 'node:path';

/** Longest file name most filesystems take (ext4, xfs, btrfs, APFS: 255 bytes). */
export const NAME_MAX_BYTES = 255;
/** Longest path Linux takes in one system call. */
export const PATH_MAX_BYTES = 4096;
/** Appended to a file's name while it downloads (plus `.json` for its resume record). */
export const PARTIAL_SUFFIX = '.partial';
export const RESUME_SUFFIX = '.partial.json';
/** The resume record is written to this name first, then renamed (the longest name baler creates). */
export const RESUME_TMP_SUFFIX = '.partial.json.tmp';

/** Where an object goes, or why it cannot go anywhere. */
export type LocalTarget =
  | { readonly ok: true; readonly path: string }
  | { readonly ok: false; readonly reason: string; readonly marker?: boolean };

/**
 * Map a key, relative to the source prefix, to a path under `destDir`, or refuse it. Keys are data, not
 * paths: a key is refused (reported and skipped, never written) when any segment is empty (leading `/`, `//`),
 * `.` or `..`, contains NUL, or is longer than {@link NAME_MAX_BYTES} with baler's `.partial.json.tmp` suffix,
 * or when the whole path exceeds {@link PATH_MAX_BYTES}, or when the name ends with one of baler's working-file
 * suffixes (`.partial`, `.partial.json`, `.partial.json.tmp`). A key ending in `/` is a "directory marker" and is
 * skipped (as the AWS CLI does). The result is always inside `destDir`.
 *
 * @example
 * localTarget('/data', 'logs/a b.json') // { ok: true, path: '/data/logs/a b.json' }
 * localTarget('/data', '../etc/passwd') // { ok: false, reason: 'segment ".." ...' }
 */
export function localTarget(destDir: string, relativeKey: string): LocalTarget {
  if (relativeKey === '' || relativeKey.endsWith('/')) {
    return { ok: false, reason: 'directory marker (key ends with "/")', marker: true };
  }
  if (relativeKey.includes('\0')) return { ok: false, reason: 'key contains a NUL character' };
  const segments = relativeKey.split('/');
  for (const s of segments) {
    if (s === '') return { ok: false, reason: 'empty path segment (leading "/" or "//")' };
    if (s === '.' || s === '..') return { ok: false, reason: `path segment ${JSON.stringify(s)}` };
  }
  const last = segments[segments.length - 1] as string;
  // NAME.partial etc. are baler's working files for NAME: an object with such a name could be overwritten by
  // (or overwrite) another object's download in progress.
  for (const suffix of [PARTIAL_SUFFIX, RESUME_SUFFIX, RESUME_TMP_SUFFIX]) {
    if (last.endsWith(suffix)) {
      return {
        ok: false,
        reason: `name ends with ${JSON.stringify(suffix)}, reserved for downloads in progress`,
      };
    }
  }
  const maxName = NAME_MAX_BYTES - Buffer.byteLength(RESUME_TMP_SUFFIX);
  for (const s of segments) {
    const bytes = Buffer.byteLength(s);
    const limit = s === last ? maxName : NAME_MAX_BYTES;
    if (bytes > limit)
      return { ok: false, reason: `name too long for the filesystem (${bytes} bytes > ${limit})` };
  }
  const root = path.resolve(destDir);
  const target = path.join(root, ...segments);
  // PATH_MAX counts the terminating NUL.
  if (Buffer.byteLength(target) + Buffer.byteLength(RESUME_TMP_SUFFIX) >= PATH_MAX_BYTES) {
    return { ok: false, reason: `path too long for the filesystem (over ${PATH_MAX_BYTES} bytes)` };
  }
  // Belt and braces: with the checks above this cannot fail, but the invariant is what matters.
  if (!target.startsWith(root.endsWith(path.sep) ? root : root + path.sep))
    return { ok: false, reason: 'path escapes the destination' };
  return { ok: true, path: target };
}

/**
 * The key relative to the source prefix (which is treated as a directory: `s3://b/logs` lists `logs/`).
 */
export function normalizePrefix(prefix: string): string {
  return prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
}
