/**
 * baler archive format v1 (docs/ARCHIVE_FORMAT.md): tar (`manifest.json`, `objects/<index>`,
 * `checksums.json`) in one checksummed zstd frame. Pure streaming: no AWS SDK, no temp files; zstd runs
 * in a worker thread.
 */
export {
  ARCHIVE_EXTENSION,
  ARCHIVE_FORMAT,
  ARCHIVE_FORMAT_VERSION,
  CHECKSUMS_ENTRY,
  DEFAULT_CHECKSUM_BLOCK_BYTES,
  DEFAULT_COMPRESSION_LEVEL,
  DEFAULT_MAX_MANIFEST_BYTES,
  DEFAULT_MAX_OBJECT_COUNT,
  DEFAULT_MAX_WINDOW_LOG,
  MANIFEST_ENTRY,
  MAX_COMPRESSION_LEVEL,
  MAX_KEY_BYTES,
  MIN_COMPRESSION_LEVEL,
  OBJECT_ENTRY_PREFIX,
  STORE_ZSTD_LEVEL,
} from './constants.js';
export {
  ArchiveError,
  ArchiveFormatError,
  ArchiveIntegrityError,
  ArchiveLimitError,
  ArchiveOp,
  ArchiveTruncatedError,
  ArchiveUsageError,
  ObjectSizeMismatchError,
  UnsafePathError,
  ZstdError,
  type ArchiveErrorContext,
  type ArchiveIssue,
} from './errors.js';
export {
  ChecksumsSchema,
  ManifestObjectSchema,
  ManifestSchema,
  createArchiveId,
  manifestTotalBytes,
  objectEntryName,
  parseChecksums,
  parseManifest,
  parseObjectEntryName,
  serializeJson,
  type Checksums,
  type Manifest,
  type ManifestObject,
} from './manifest.js';
export { BlockHasher, blockCount } from './blocks.js';
export {
  createArchivePacker,
  type ArchivePacker,
  type ArchivePackerOptions,
  type PackResult,
  type PackedObject,
} from './pack.js';
export {
  readArchive,
  type ObjectBody,
  type ObjectDigest,
  type ObjectEntryInfo,
  type ReadArchiveOptions,
  type ReadArchiveResult,
} from './unpack.js';
export {
  checkRelativeKey,
  inspectArchive,
  unpackToDirectory,
  type ArchiveInspection,
  type InspectedEntry,
  type RejectedObject,
  type RelativeKeyCheck,
  type UnpackToDirectoryOptions,
  type UnpackToDirectoryResult,
  type WrittenObject,
} from './localFiles.js';
export {
  assertCompressionLevel,
  createZstdCompressStream,
  createZstdDecompressStream,
  type ZstdCompressOptions,
  type ZstdDecompressOptions,
  type ZstdStats,
  type ZstdStream,
  type ZstdStreamOptions,
} from './zstdStream.js';
