/**
 * Constants of the CDK app: retention and lifecycle periods, alarm thresholds, scaling defaults.
 *
 * Each value says why it is what it is; docs/DEPLOYMENT.md repeats the ones an operator meets.
 */
import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';

/** SQS limit: a message lives at most 14 days in a queue (and in its dead-letter queue, counted from enqueue). */
export const SQS_MAX_RETENTION = Duration.days(14);

/**
 * Inbound staging buckets expire archives after 21 days: a week longer than any message that names an archive
 * can live (14 days, {@link SQS_MAX_RETENTION}, DLQ included), so a backlog never loses an archive a
 * message still points at.
 */
export const INBOUND_ARCHIVE_EXPIRATION = Duration.days(21);

/**
 * Outbound staging buckets expire archives after 14 days. S3 replication copies an archive within minutes
 * and does not retry a failed replication by itself; 14 days leave time to replay failed ones with S3 Batch
 * Replication after fixing the cause (the replication-failure alarm fires within minutes).
 */
export const OUTBOUND_ARCHIVE_EXPIRATION = Duration.days(14);

/**
 * Staging buckets are versioned (S3 replication requires it): a deleted or expired archive becomes a
 * noncurrent version, removed one day later.
 */
export const NONCURRENT_VERSION_EXPIRATION = Duration.days(1);

/**
 * Multipart uploads a killed worker left behind are invisible but stored (and billed): abort them after this.
 * Workers finish an upload within minutes; a day is far beyond any live upload.
 */
export const ABORT_INCOMPLETE_MULTIPART_AFTER = Duration.days(1);

/** Server access logs of the staging buckets are kept this long. */
export const ACCESS_LOG_EXPIRATION = Duration.days(90);

/** Worker (and VPC flow) log groups keep a month of logs. */
export const WORKER_LOG_RETENTION = RetentionDays.ONE_MONTH;

/**
 * Alarm when the oldest message of a queue is older than this. For the target queue this is the age of the
 * oldest unrestored archive: a day is far from both the 14-day message retention and the 21-day
 * {@link INBOUND_ARCHIVE_EXPIRATION}, so there is time to act.
 */
export const OLDEST_MESSAGE_ALARM_AGE = Duration.hours(24);

/** "Sustained" maximum capacity: the service ran at its scaling limit for this long. */
export const SUSTAINED_MAX_CAPACITY_PERIOD = Duration.minutes(30);

/** Scale to zero (or `min_capacity`) after the queue has been empty (nothing visible, nothing in flight) this long. */
export const SCALE_IN_IDLE_PERIOD = Duration.minutes(5);

/** Cooldown after a scale-out step: tasks need about a minute to start and take messages. */
export const SCALE_OUT_COOLDOWN = Duration.seconds(60);

/** Cooldown after scaling in to the minimum. */
export const SCALE_IN_COOLDOWN = Duration.seconds(300);

/**
 * Application Auto Scaling step policies with many steps are hard to read and slow to evaluate; the ladder
 * from 1 task to the scaling limit uses at most this many steps (evenly spread beyond it).
 */
export const MAX_SCALING_STEPS = 20;

/** Visibility timeout of a target queue; the target worker keeps messages invisible while it works. */
export const TARGET_VISIBILITY_TIMEOUT = Duration.seconds(300);

/**
 * Target services: archives per task the autoscaler aims for. An archive holds up to `max_batch_bytes`
 * (256 MiB by default) and takes seconds to restore, so a task works through 10 in well under a minute or two.
 */
export const TARGET_BACKLOG_PER_TASK = 10;

/** Target task size (Fargate CPU units and MiB): the target streams and holds ≤ ~100 MiB of parts. */
export const TARGET_CPU_UNITS = 2048;
export const TARGET_MEMORY_MIB = 4096;

/**
 * Capacity provider weights: three tasks on Fargate Spot for one on on-demand Fargate. ECS does not move a
 * task to on-demand when Spot has no capacity, so the on-demand share keeps work moving during a Spot
 * shortage; interrupted Spot tasks get SIGTERM and release their messages (exit 130).
 */
export const FARGATE_SPOT_WEIGHT = 3;
export const FARGATE_ON_DEMAND_WEIGHT = 1;

/** Grace between SIGTERM and SIGKILL: the worker exits at most 30 s after SIGTERM (docs/OPERATIONS.md). */
export const WORKER_STOP_TIMEOUT = Duration.seconds(40);

/** CloudWatch namespace of the workers' EMF metrics (docs/OPERATIONS.md). */
export const METRICS_NAMESPACE = 'Baler';
