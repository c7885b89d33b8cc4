/**
 * Validated, typed forms of `replication_config.json` and `settings.json`.
 *
 * The files keep the original system's snake_case names; these types use camelCase with the unit in every
 * numeric name (STYLE.md §2). docs/CONFIGURATION.md maps each JSON field to its property.
 */
import type { RegionRole, StorageClass } from './constants.js';

/** One destination of a source: where the target worker of `region` writes each object. */
export interface DestinationConfig {
  /** AWS region of the destination bucket (JSON `region`). */
  readonly region: string;
  /** Destination bucket name (JSON `bucket`). */
  readonly bucket: string;
  /** SSE-KMS key for writes; `undefined` = the bucket's default encryption (JSON `kms_key_arn`, `""` = unset). */
  readonly kmsKeyArn: string | undefined;
  /** Storage class override; `undefined` = keep each object's source storage class (JSON `storage_class`). */
  readonly storageClass: StorageClass | undefined;
  /** Backup mode: store the archives rather than the objects (JSON `backup`). @defaultValue `false` */
  readonly backup: boolean;
}

/**
 * One monitored source (bucket + prefix) with its destinations: one entry of the JSON
 * `replication_configuration` array, its `source` object flattened and its `destinations` attached.
 */
export interface SourceConfig {
  /** Position in `replication_configuration`, for messages. */
  readonly index: number;
  /** AWS region of the source bucket (JSON `source.region`). */
  readonly region: string;
  /** Source bucket name (JSON `source.bucket`). */
  readonly bucket: string;
  /** SSE-KMS key of the source objects, for decrypting reads (JSON `source.kms_key_arn`, `""` = unset). */
  readonly kmsKeyArn: string | undefined;
  /** Literal key prefix monitored; `""` = the whole bucket (JSON `source.prefix_filter`). */
  readonly prefixFilter: string;
  /** Literal key suffix monitored; `""` = any (JSON `source.suffix_filter`). */
  readonly suffixFilter: string;
  /** Maximum number of worker tasks (JSON `source.scaling_limit`). @defaultValue 20 */
  readonly scalingLimit: number;
  /** Minimum number of worker tasks (JSON `source.min_capacity`). @defaultValue 0 */
  readonly minCapacity: number;
  /** Fargate CPU units per task, 1024 = 1 vCPU (JSON `source.cpu`). @defaultValue 2048 */
  readonly cpuUnits: number;
  /** Fargate memory per task, MiB (JSON `source.memory`). @defaultValue 4096 */
  readonly memoryMiB: number;
  /** Fargate ephemeral storage per task, GiB (JSON `source.ephemeral_storage`). @defaultValue 20 */
  readonly ephemeralStorageGiB: number;
  /** Queued messages per task the autoscaler aims for (JSON `source.scaling_target_backlog_per_task`). @defaultValue 60 */
  readonly scalingTargetBacklogPerTask: number;
  /** Visibility timeout of the source queue, seconds (JSON `source.visibility_timeout`). @defaultValue 300 */
  readonly visibilityTimeoutSec: number;
  /** New in baler: most objects per archive (JSON `source.max_batch_objects`). @defaultValue 1000 */
  readonly maxBatchObjects: number;
  /** New in baler: most uncompressed bytes per archive (JSON `source.max_batch_bytes`). @defaultValue 268435456 (256 MiB) */
  readonly maxBatchBytes: number;
  /** New in baler: longest a batch stays open, seconds (JSON `source.max_batch_wait_seconds`). @defaultValue 20 */
  readonly maxBatchWaitSec: number;
  /** Where this source's objects go (JSON `destinations`); at least one. */
  readonly destinations: readonly DestinationConfig[];
}

/** The whole of `replication_config.json`. */
export interface ReplicationConfig {
  /** Every entry of `replication_configuration`, in file order (the order is the S3 replication priority). */
  readonly sources: readonly SourceConfig[];
}

/** One entry of `settings.json` `enabled_regions`. */
export interface EnabledRegion {
  /** AWS region code (JSON `region`). */
  readonly region: string;
  /** IPv4 CIDR of the region's VPC, used by the CDK app (JSON `vpc_cidr`); `undefined` when not given. */
  readonly vpcCidr: string | undefined;
  /** What runs in the region: `source`, `target` or both (JSON `source_target`). */
  readonly sourceTarget: readonly RegionRole[];
  /** Availability zones of the region's VPC, used by the CDK app (JSON `availability_zones`). */
  readonly availabilityZones: number | undefined;
}

/** The whole of `settings.json`. */
export interface Settings {
  /** Base name of every stack and resource (JSON `stack_name`). */
  readonly stackName: string;
  /** Regions the system runs in (JSON `enabled_regions`). */
  readonly enabledRegions: readonly EnabledRegion[];
  /** Tags applied to every resource (JSON `tags`). @defaultValue `{}` */
  readonly tags: Readonly<Record<string, string>>;
  /** Addresses subscribed to the alarm topic (JSON `notification_emails`). @defaultValue `[]` */
  readonly notificationEmails: readonly string[];
  /** $ per GB between regions for the cost model (JSON `data_transfer_cost`); env `DATA_TRANSFER_COST` wins. */
  readonly dataTransferCost?: number;
  /** $ per minute of worker compute (JSON `fargate_cost_per_minute`); env `FARGATE_COST_PER_MINUTE` wins. */
  readonly fargateCostPerMinute?: number;
}

/** Both files, validated together. */
export interface LoadedConfig {
  readonly config: ReplicationConfig;
  readonly settings: Settings;
}

/** One problem found in a configuration file. */
export interface ConfigIssue {
  /** File the problem is in, as given (e.g. `replication_config.json`). */
  readonly file: string;
  /** JSON path inside the file, e.g. `replication_configuration[1].destinations[0].storage_class`. */
  readonly path: string;
  /** What is wrong: names the value received and what is allowed. */
  readonly message: string;
}
