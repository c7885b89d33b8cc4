/** Value of `manifest.format`: tells a baler archive from any other JSON. */
export const ARCHIVE_FORMAT = 'baler-archive';

/**
 * Value of `manifest.formatVersion` this code writes and the only one it reads. Bump it for any change a
 * v1 reader could not safely ignore (see docs/ARCHIVE_FORMAT.md, "Versioning").
 */
export const ARCHIVE_FORMAT_VERSION = 1;

/** File name suffix of an archive object in S3 and on disk. */
export const ARCHIVE_EXTENSION = '.tar.zst';

/** First tar entry: the manifest. */
export const MANIFEST_ENTRY = 'manifest.json';

/** Last tar entry: the SHA-256 trailer. */
export const CHECKSUMS_ENTRY = 'checksums.json';

/** Directory part of object entry names: `objects/000000000007` is the object at manifest index 7. */
export const OBJECT_ENTRY_PREFIX = 'objects/';

/**
 * Decimal digits of the zero-padded index in object entry names. Fixed width makes lexical order equal
 * manifest order (`ls`, `tar -t`) and allows 10^12 entries, far above any batch.
 */
export const OBJECT_ENTRY_DIGITS = 12;

/** The only checksum algorithm of format v1. */
export const CHECKSUM_ALGORITHM = 'sha256';

/** S3's limit on a key: 1,024 bytes of UTF-8. */
export const MAX_KEY_BYTES = 1024;

/** Smallest `checksumBlockBytes` a manifest may declare (a trailer of 1 KiB blocks would be huge). */
export const MIN_CHECKSUM_BLOCK_BYTES = 64 * 1024;

/** Largest `checksumBlockBytes` (S3's largest multipart part). */
export const MAX_CHECKSUM_BLOCK_BYTES = 5 * 1024 ** 3;

/** The block size the source declares: the target's default multipart part size. */
export const DEFAULT_CHECKSUM_BLOCK_BYTES = 8 * 1024 * 1024;

/** S3's limit on one object: 5 TiB. */
export const MAX_OBJECT_BYTES = 5 * 1024 ** 4;

/**
 * Largest size the ustar header's 11 octal digits hold (8 GiB - 1). Larger objects get a pax `size`
 * record as well (POSIX.1-2001), so strict POSIX readers see the right size.
 */
export const USTAR_MAX_SIZE = 0o77777777777;

/** Lowest compression level: 0 means "store" (see {@link STORE_ZSTD_LEVEL}). */
export const MIN_COMPRESSION_LEVEL = 0;

/**
 * Highest compression level baler writes. zstd's 20..22 ("ultra") need 32-128 MiB windows per reader
 * and per worker for a percent or two; they are refused.
 */
export const MAX_COMPRESSION_LEVEL = 19;

/** Level the replication source starts from (DESIGN.md §6). */
export const DEFAULT_COMPRESSION_LEVEL = 12;

/**
 * zstd level used for baler level 0 ("store"): `--fast=100`. zstd stores incompressible blocks raw on
 * its own, so this costs about a copy plus the XXH64 checksum (~1.2 GB/s per core measured here on
 * random data, against ~0.3-1.2 GB/s at level 1) and the frame stays a normal checksummed zstd frame.
 */
export const STORE_ZSTD_LEVEL = -100;

/**
 * Largest zstd window a reader accepts (log2 bytes): 2^27 = 128 MiB, zstd's own default limit. baler
 * writes at most 2^23 (level 19), so this only bounds what a hostile or foreign archive can make us allocate.
 */
export const DEFAULT_MAX_WINDOW_LOG = 27;

/** Default cap on objects in one archive a reader accepts. */
export const DEFAULT_MAX_OBJECT_COUNT = 100_000;

/** Default cap on the size of `manifest.json` (and of `checksums.json`) a reader buffers: 64 MiB. */
export const DEFAULT_MAX_MANIFEST_BYTES = 64 * 1024 * 1024;

/**
 * Tar bytes allowed per entry on top of its data when capping the decompressed total: 512-byte header,
 * pax header (+ its 512-byte header), up to 511 bytes of padding. Foreign writers' pax records fit easily.
 */
export const TAR_OVERHEAD_PER_ENTRY_BYTES = 8 * 1024;

/** Slack for the end-of-archive marker and record padding (GNU tar pads to 10 KiB records). */
export const TAR_TRAILER_SLACK_BYTES = 64 * 1024;
