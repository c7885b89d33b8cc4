import { randomUUID } from 'node:crypto';

import { z } from 'zod';

import {
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  CHECKSUM_ALGORITHM,
  MAX_CHECKSUM_BLOCK_BYTES,
  MAX_COMPRESSION_LEVEL,
  MAX_KEY_BYTES,
  MAX_OBJECT_BYTES,
  MIN_CHECKSUM_BLOCK_BYTES,
  MIN_COMPRESSION_LEVEL,
  OBJECT_ENTRY_DIGITS,
  OBJECT_ENTRY_PREFIX,
} from './constants.js';
import { ArchiveFormatError, type ArchiveIssue, type ArchiveOp } from './errors.js';

/** A string map whose keys are data (`__proto__` included): parsed into a null-prototype object. */
const stringMap = z.unknown().transform((value, ctx): Record<string, string> => {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    ctx.addIssue({ code: 'custom', message: 'expected an object of string values' });
    return z.NEVER;
  }
  // zod's record() drops a "__proto__" key silently; S3 tag and metadata keys may be exactly that.
  const out = Object.create(null) as Record<string, string>;
  for (const [k, v] of Object.entries(value)) {
    if (typeof v !== 'string') {
      ctx.addIssue({ code: 'custom', message: `expected a string, got ${typeof v}`, path: [k] });
      continue;
    }
    out[k] = v;
  }
  return out;
});

/** True when `s` holds a lone UTF-16 surrogate, i.e. cannot be encoded as UTF-8 (S3 keys are UTF-8). */
const hasLoneSurrogate = (s: string): boolean => /\p{Cs}/u.test(s);

const s3Key = (what: string, minBytes: number) =>
  z.string().superRefine((s, ctx) => {
    const bytes = Buffer.byteLength(s, 'utf8');
    if (bytes < minBytes || bytes > MAX_KEY_BYTES) {
      ctx.addIssue({
        code: 'custom',
        message: `${what} must be ${minBytes}..${MAX_KEY_BYTES} bytes of UTF-8, got ${bytes}`,
      });
    }
    if (hasLoneSurrogate(s)) ctx.addIssue({ code: 'custom', message: `${what} is not valid UTF-8` });
  });

const isoDateTime = z.iso.datetime({ offset: true });

/** A label such as `eu-west-1` (locally, regions are labels on one endpoint). */
const region = z.string().regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'expected a region name like eu-west-1');

/** Zod schema of one object in `manifest.json`. */
export const ManifestObjectSchema = z.object({
  /** Full S3 key in the source bucket: data, never a path. */
  key: s3Key('key', 1),
  /** `key` with `monitoredPrefix` removed; the target writes `<destination prefix><relativeKey>`. */
  relativeKey: s3Key('relativeKey', 0),
  /** Object size in bytes; the tar entry holds exactly this many bytes. */
  size: z.int().min(0).max(MAX_OBJECT_BYTES),
  /** ETag the source read with `If-Match` (as S3 returns it, quotes included). */
  etag: z.string(),
  versionId: z.string().optional(),
  lastModified: isoDateTime,
  contentType: z.string().optional(),
  contentEncoding: z.string().optional(),
  contentLanguage: z.string().optional(),
  contentDisposition: z.string().optional(),
  cacheControl: z.string().optional(),
  /** The `Expires` header as received (HTTP-date), or ISO 8601. Kept as text: S3 stores invalid values too. */
  expires: z.string().optional(),
  /** User metadata without the `x-amz-meta-` prefix. */
  metadata: stringMap,
  tags: stringMap,
  storageClass: z.string().min(1).optional(),
});

/** Zod schema of `manifest.json`. */
export const ManifestSchema = z.object({
  format: z.literal(ARCHIVE_FORMAT),
  formatVersion: z.literal(ARCHIVE_FORMAT_VERSION),
  /** Unique id; also the S3 object name `<archiveId>.tar.zst`, hence the conservative alphabet. */
  archiveId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'expected 1..128 of [A-Za-z0-9._-]'),
  created: isoDateTime,
  sourceRegion: region,
  bucket: z.string().min(1).max(255),
  monitoredPrefix: z.string().refine((s) => Buffer.byteLength(s) <= MAX_KEY_BYTES, 'longer than a key'),
  /** baler level: 0 = store, 1..19 = zstd level. */
  compressionLevel: z.int().min(MIN_COMPRESSION_LEVEL).max(MAX_COMPRESSION_LEVEL),
  /** Regions that should apply this archive. */
  targets: z.array(region).min(1),
  /**
   * Optional (added 2026-12-04, within v1): `checksums.json` also lists the SHA-256 of every block of this
   * many bytes of each object larger than one block (`blocks`), so a reader that writes such objects in parts
   * of this size can sign each part with its block's digest instead of hashing the bytes twice.
   */
  checksumBlockBytes: z.int().min(MIN_CHECKSUM_BLOCK_BYTES).max(MAX_CHECKSUM_BLOCK_BYTES).optional(),
  objects: z.array(ManifestObjectSchema),
});

/** One object in the manifest. */
export type ManifestObject = z.output<typeof ManifestObjectSchema>;
/** The validated content of `manifest.json`. */
export type Manifest = z.output<typeof ManifestSchema>;

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');

/** Zod schema of `checksums.json`, the trailer entry. */
export const ChecksumsSchema = z.object({
  algorithm: z.literal(CHECKSUM_ALGORITHM),
  /** SHA-256 of the exact `manifest.json` entry bytes. */
  manifest: sha256Hex,
  /** SHA-256 of each object entry's bytes, keyed by entry name (`objects/000000000007`). */
  objects: stringMap.pipe(z.record(z.string(), sha256Hex)),
  /**
   * Present when the manifest has `checksumBlockBytes`: for each object entry larger than one block, the
   * SHA-256 of each block, in order (the last block may be shorter).
   */
  blocks: z.record(z.string(), z.array(sha256Hex)).optional(),
});

/** The validated content of `checksums.json`. */
export type Checksums = z.output<typeof ChecksumsSchema>;

/** Render a zod path as JSON-path-ish text: `objects[3].metadata["a b"]`. */
function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else if (typeof p === 'string' && /^[A-Za-z_$][\w$]*$/.test(p)) out += out === '' ? p : `.${p}`;
    else out += `[${JSON.stringify(String(p))}]`;
  }
  return out === '' ? '$' : out;
}

function toIssues(error: z.ZodError): ArchiveIssue[] {
  return error.issues.map((i) => ({ path: formatPath(i.path), message: i.message }));
}

function parseJsonDocument(input: string | Uint8Array, entry: string, op: ArchiveOp): unknown {
  const text = typeof input === 'string' ? input : Buffer.from(input).toString('utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    throw new ArchiveFormatError(`${entry}: not valid JSON`, { op, entry, cause: e });
  }
}

function validate<T extends z.ZodType>(schema: T, doc: unknown, entry: string, op: ArchiveOp): z.output<T> {
  const result = schema.safeParse(doc);
  if (result.success) return result.data;
  const issues = toIssues(result.error);
  const shown = issues
    .slice(0, 5)
    .map((i) => `${i.path}: ${i.message}`)
    .join('; ');
  const more = issues.length > 5 ? ` (+${issues.length - 5} more)` : '';
  throw new ArchiveFormatError(`${entry}: ${shown}${more}`, { op, entry, issues });
}

/**
 * Validate a manifest (an object, JSON text or the raw entry bytes). Errors name the JSON path.
 *
 * @throws {@link ArchiveFormatError} with `issues` listing every problem.
 * @example
 * const manifest = parseManifest(await readFile('manifest.json'));
 * // ArchiveFormatError: manifest.json: objects[3].size: Too small: expected number to be >=0
 */
export function parseManifest(input: unknown, op: ArchiveOp = 'unpack'): Manifest {
  const doc =
    typeof input === 'string' || input instanceof Uint8Array
      ? parseJsonDocument(input, 'manifest.json', op)
      : input;
  return validate(ManifestSchema, doc, 'manifest.json', op);
}

/**
 * Validate a `checksums.json` document (object, text or bytes).
 *
 * @throws {@link ArchiveFormatError}
 * @example
 * const { objects } = parseChecksums('{"algorithm":"sha256","manifest":"…","objects":{}}');
 */
export function parseChecksums(input: unknown, op: ArchiveOp = 'unpack'): Checksums {
  const doc =
    typeof input === 'string' || input instanceof Uint8Array
      ? parseJsonDocument(input, 'checksums.json', op)
      : input;
  return validate(ChecksumsSchema, doc, 'checksums.json', op);
}

/**
 * The bytes written as a JSON entry: 2-space indented UTF-8 with a final newline, so `tar -x` users can read
 * it. Readers must not depend on the layout, only on the JSON.
 *
 * @example
 * const bytes = serializeJson(manifest);
 */
export function serializeJson(doc: Manifest | Checksums): Buffer {
  return Buffer.from(`${JSON.stringify(doc, null, 2)}\n`, 'utf8');
}

/**
 * Tar entry name of the object at manifest index `index`: `objects/000000000123`. Keys are never used as
 * entry names: they may be 1,024 bytes with `..`, `//` or a leading `/`, and `tar -x` must never write
 * outside its directory.
 *
 * @example
 * objectEntryName(123); // 'objects/000000000123'
 */
export function objectEntryName(index: number): string {
  if (!Number.isSafeInteger(index) || index < 0 || index >= 10 ** OBJECT_ENTRY_DIGITS) {
    throw new RangeError(
      `object index must be an integer in 0..${10 ** OBJECT_ENTRY_DIGITS - 1}, got ${index}`,
    );
  }
  return OBJECT_ENTRY_PREFIX + String(index).padStart(OBJECT_ENTRY_DIGITS, '0');
}

const OBJECT_ENTRY_RE = new RegExp(`^${OBJECT_ENTRY_PREFIX}(\\d{${OBJECT_ENTRY_DIGITS}})$`);

/**
 * Inverse of {@link objectEntryName}: the index, or `undefined` when `name` is not a canonical object entry.
 *
 * @example
 * parseObjectEntryName('objects/000000000123'); // 123
 * parseObjectEntryName('objects/123'); // undefined
 */
export function parseObjectEntryName(name: string): number | undefined {
  const m = OBJECT_ENTRY_RE.exec(name);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/** Sum of all object sizes in the manifest. */
export function manifestTotalBytes(manifest: Pick<Manifest, 'objects'>): number {
  let total = 0;
  for (const o of manifest.objects) total += o.size;
  return total;
}

/**
 * A fresh archive id that sorts by creation time: `20250101T120000Z-<uuid>`.
 *
 * @example
 * const archiveId = createArchiveId(); // '20250101T120000Z-1b9d6bcd-bbfd-4b2d-9b5d-ab8dfbbd4bed'
 */
export function createArchiveId(now: Date = new Date()): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z');
  return `${stamp}-${randomUUID()}`;
}
