/**
 * Constants of the configuration layer: AWS limits, closed sets and the defaults of
 * `replication_config.json` and `settings.json`.
 *
 * Defaults are the ones the original Python system (aws-samples/sample-s3-cross-region-compressor) applied,
 * so a file written for it means the same thing here. Fields new in baler are marked as such.
 */

// ---------------------------------------------------------------------------------------------------------
// AWS limits
// ---------------------------------------------------------------------------------------------------------

/** S3 general purpose bucket names: at least 3 characters. */
export const S3_BUCKET_NAME_MIN_LENGTH = 3;
/** S3 general purpose bucket names: at most 63 characters. */
export const S3_BUCKET_NAME_MAX_LENGTH = 63;
/** S3 object keys: at most 1,024 bytes of UTF-8. Also the limit of a notification filter rule value. */
export const S3_KEY_MAX_BYTES = 1024;
/** SQS queue names: at most 80 characters of `A-Z a-z 0-9 - _`. */
export const SQS_QUEUE_NAME_MAX_LENGTH = 80;
/** SQS visibility timeout: at most 12 hours. */
export const SQS_VISIBILITY_TIMEOUT_MAX_SEC = 43_200;
/** Fargate ephemeral storage: at most 200 GiB per task. */
export const FARGATE_EPHEMERAL_STORAGE_MAX_GIB = 200;
/** Fargate ephemeral storage a task gets when none is asked for. */
export const FARGATE_EPHEMERAL_STORAGE_DEFAULT_GIB = 20;
/** Resource tags: at most 50 user tags per resource. */
export const AWS_TAGS_MAX_COUNT = 50;
/** Resource tags: keys are 1 to 128 Unicode characters. */
export const AWS_TAG_KEY_MAX_LENGTH = 128;
/** Resource tags: values are 0 to 256 Unicode characters. */
export const AWS_TAG_VALUE_MAX_LENGTH = 256;
/** VPC CIDR blocks: the netmask is between /16 and /28. */
export const VPC_CIDR_MIN_PREFIX_LENGTH = 16;
/** VPC CIDR blocks: the netmask is between /16 and /28. */
export const VPC_CIDR_MAX_PREFIX_LENGTH = 28;
/** Availability zones per region the original system accepted (`availability_zones`: 1-6). */
export const AVAILABILITY_ZONES_MAX = 6;
/** Upper bound of `scaling_limit` the original documented (1-1000 tasks). */
export const SCALING_LIMIT_MAX = 1000;

/**
 * Fargate task sizes (Linux): memory values in MiB allowed for each CPU value in CPU units
 * (1024 units = 1 vCPU). From the ECS developer guide, "Task size".
 */
export const FARGATE_MEMORY_MIB_BY_CPU: Readonly<Record<number, readonly number[]>> = Object.freeze({
  256: [512, 1024, 2048],
  512: range(1024, 4096, 1024),
  1024: range(2048, 8192, 1024),
  2048: range(4096, 16_384, 1024),
  4096: range(8192, 30_720, 1024),
  8192: range(16_384, 61_440, 4096),
  16_384: range(32_768, 122_880, 8192),
});

function range(from: number, to: number, step: number): readonly number[] {
  const out: number[] = [];
  for (let v = from; v <= to; v += step) out.push(v);
  return Object.freeze(out);
}

// ---------------------------------------------------------------------------------------------------------
// Closed sets
// ---------------------------------------------------------------------------------------------------------

/**
 * S3 storage classes a destination may override to: the classes `PutObject` accepts for a general purpose
 * bucket. The original accepted the first seven; `REDUCED_REDUNDANCY` is a valid (legacy) S3 class too.
 * `OUTPOSTS`, `SNOW`, `EXPRESS_ONEZONE` and `FSX_OPENZFS` are left out: they belong to Outposts buckets,
 * Snow devices, directory buckets and FSx access points, never to a cross-region destination bucket.
 */
export const StorageClass = {
  STANDARD: 'STANDARD',
  INTELLIGENT_TIERING: 'INTELLIGENT_TIERING',
  STANDARD_IA: 'STANDARD_IA',
  ONEZONE_IA: 'ONEZONE_IA',
  GLACIER_IR: 'GLACIER_IR',
  GLACIER: 'GLACIER',
  DEEP_ARCHIVE: 'DEEP_ARCHIVE',
  REDUCED_REDUNDANCY: 'REDUCED_REDUNDANCY',
} as const;
/** One of {@link StorageClass}. */
export type StorageClass = (typeof StorageClass)[keyof typeof StorageClass];
/** The values of {@link StorageClass}, in documentation order. */
export const STORAGE_CLASSES: readonly StorageClass[] = Object.freeze(Object.values(StorageClass));

/** What a region of `settings.json` runs: source workers, target workers or both (`source_target`). */
export const RegionRole = {
  SOURCE: 'source',
  TARGET: 'target',
} as const;
/** One of {@link RegionRole}. */
export type RegionRole = (typeof RegionRole)[keyof typeof RegionRole];

/** Direction of a staging bucket: the source region writes `outbound`, S3 replication fills `inbound`. */
export const StagingDirection = {
  OUTBOUND: 'outbound',
  INBOUND: 'inbound',
} as const;
/** One of {@link StagingDirection}. */
export type StagingDirection = (typeof StagingDirection)[keyof typeof StagingDirection];

// ---------------------------------------------------------------------------------------------------------
// Defaults
// ---------------------------------------------------------------------------------------------------------

/** 1 MiB in bytes. */
export const MIB = 1024 * 1024;

/**
 * Defaults of the optional `source` fields of `replication_config.json`.
 * The first seven are the original system's (CDK props and `SourceServiceStack`); the `maxBatch*` ones are
 * new in baler.
 */
export const SOURCE_DEFAULTS = Object.freeze({
  /** `scaling_limit`: maximum number of source worker tasks. */
  scalingLimit: 20,
  /** `min_capacity`: minimum number of source worker tasks (0 = scale to zero). */
  minCapacity: 0,
  /** `cpu`: Fargate CPU units of a source task (1024 = 1 vCPU). */
  cpuUnits: 2048,
  /** `memory`: Fargate memory of a source task, MiB. */
  memoryMiB: 4096,
  /** `ephemeral_storage`: Fargate ephemeral storage of a source task, GiB. */
  ephemeralStorageGiB: FARGATE_EPHEMERAL_STORAGE_DEFAULT_GIB,
  /** `scaling_target_backlog_per_task`: queued messages per task the autoscaler aims for. */
  scalingTargetBacklogPerTask: 60,
  /** `visibility_timeout`: SQS visibility timeout of the source queue, seconds. */
  visibilityTimeoutSec: 300,
  /** `max_batch_objects` (new in baler): most objects in one archive. */
  maxBatchObjects: 1000,
  /** `max_batch_bytes` (new in baler): most uncompressed bytes in one archive (256 MiB). */
  maxBatchBytes: 256 * MIB,
  /** `max_batch_wait_seconds` (new in baler): longest time a batch stays open collecting messages. */
  maxBatchWaitSec: 20,
});

/** Upper bound of `max_batch_objects`: keeps one archive's manifest (about 1 KiB per object) small. */
export const MAX_BATCH_OBJECTS_LIMIT = 100_000;
/** Upper bound of `max_batch_bytes`: 5 TiB, the largest S3 object. */
export const MAX_BATCH_BYTES_LIMIT = 5 * 1024 * 1024 * MIB;
/**
 * Upper bound of `max_batch_wait_seconds`: 15 minutes. A longer window only delays replication and keeps
 * messages in flight longer.
 */
export const MAX_BATCH_WAIT_SEC_LIMIT = 900;
