import { BalerError } from '../core/errors.js';

/** What the archive code was doing when it failed. */
export const ArchiveOp = {
  pack: 'pack',
  unpack: 'unpack',
  compress: 'compress',
  decompress: 'decompress',
  write: 'write',
} as const;
export type ArchiveOp = (typeof ArchiveOp)[keyof typeof ArchiveOp];

/** Where in an archive an error happened, when that is known. */
export interface ArchiveErrorContext {
  /** The operation that failed. */
  readonly op: ArchiveOp;
  /** The tar entry name, e.g. `objects/000000000007` or `manifest.json`. */
  readonly entry?: string | undefined;
  /** The S3 key of the object concerned (data, never a path). */
  readonly key?: string | undefined;
  /** The underlying error. */
  readonly cause?: unknown;
}

/**
 * Base class of every error `archive/` throws: carries the operation, the entry and the object key.
 * Catch this to tell "this archive is bad" (do not retry forever) from transient I/O errors.
 *
 * @example
 * try { await readArchive(body, { onObject }); }
 * catch (e: unknown) { if (e instanceof ArchiveError) log.error({ event: 'archive_rejected', op: e.op, entry: e.entry }); }
 */
export class ArchiveError extends BalerError {
  /** The operation that failed. */
  readonly op: ArchiveOp;
  /** The tar entry concerned, when known. */
  readonly entry: string | undefined;
  /** The object key concerned, when known. */
  readonly key: string | undefined;

  protected constructor(code: string, message: string, context: ArchiveErrorContext) {
    super(code, message, context.cause === undefined ? undefined : { cause: context.cause });
    this.op = context.op;
    this.entry = context.entry;
    this.key = context.key;
  }
}

/** One schema problem, with the JSON path it is at (e.g. `objects[3].size`). */
export interface ArchiveIssue {
  /** JSON path inside the document, `$` for the root. */
  readonly path: string;
  /** What is wrong there. */
  readonly message: string;
}

/**
 * The archive is not a well-formed baler archive v1: bad or misplaced `manifest.json`, an unknown, duplicate,
 * out-of-order or missing entry, an entry whose size differs from the manifest, or a bad `checksums.json`.
 *
 * @example
 * throw new ArchiveFormatError('archive must start with manifest.json, found "objects/000000000000"', {
 *   op: 'unpack', entry: 'objects/000000000000',
 * });
 */
export class ArchiveFormatError extends ArchiveError {
  /** Schema problems, when the error comes from validating a JSON document. */
  readonly issues: readonly ArchiveIssue[];

  constructor(message: string, context: ArchiveErrorContext & { readonly issues?: readonly ArchiveIssue[] }) {
    super('ARCHIVE_FORMAT', message, context);
    this.issues = context.issues ?? [];
  }
}

/** The archive ended early: the zstd frame, the tar stream or the entry sequence is incomplete. */
export class ArchiveTruncatedError extends ArchiveError {
  constructor(message: string, context: ArchiveErrorContext) {
    super('ARCHIVE_TRUNCATED', message, context);
  }
}

/**
 * The bytes are damaged: zstd found corrupt data or a wrong content checksum, or an object's (or the
 * manifest's) SHA-256 differs from `checksums.json`. `key` names the object when the damage is attributable.
 */
export class ArchiveIntegrityError extends ArchiveError {
  constructor(message: string, context: ArchiveErrorContext) {
    super('ARCHIVE_INTEGRITY', message, context);
  }
}

/** The archive exceeds a configured reader limit (object count, manifest size, decompressed bytes). */
export class ArchiveLimitError extends ArchiveError {
  constructor(message: string, context: ArchiveErrorContext) {
    super('ARCHIVE_LIMIT', message, context);
  }
}

/** The archive API was used wrongly: bad option, objects added out of order, `finalize()` too early. */
export class ArchiveUsageError extends ArchiveError {
  constructor(message: string, context: ArchiveErrorContext) {
    super('ARCHIVE_USAGE', message, context);
  }
}

/**
 * An object body handed to the packer has a different length than the manifest says: the object changed
 * or the read was cut short. The archive being written is unusable; retry the batch.
 */
export class ObjectSizeMismatchError extends ArchiveError {
  /** Bytes the manifest promised. */
  readonly expectedBytes: number;
  /** Bytes the body delivered (so far, when it was too long). */
  readonly actualBytes: number;

  constructor(
    message: string,
    context: ArchiveErrorContext & { readonly expectedBytes: number; readonly actualBytes: number },
  ) {
    super('ARCHIVE_OBJECT_SIZE', message, context);
    this.expectedBytes = context.expectedBytes;
    this.actualBytes = context.actualBytes;
  }
}

/** The zstd worker failed for a reason other than bad input: it crashed, exited or rejected a parameter. */
export class ZstdError extends ArchiveError {
  constructor(message: string, context: ArchiveErrorContext) {
    super('ZSTD', message, context);
  }
}

/** An object's relative key cannot be written safely below the target directory; nothing was written. */
export class UnsafePathError extends ArchiveError {
  /** Why the key was refused. */
  readonly reason: string;

  constructor(message: string, context: ArchiveErrorContext & { readonly reason: string }) {
    super('ARCHIVE_UNSAFE_PATH', message, context);
    this.reason = context.reason;
  }
}
