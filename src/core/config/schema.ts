/**
 * zod schemas of `replication_config.json` and `settings.json`, in the schema of the original Python system
 * (aws-samples/sample-s3-cross-region-compressor, `configuration/*.json` and the CDK code that reads them):
 *
 * ```json
 * { "replication_configuration": [ { "source": { "region": "…", "bucket": "…", … },
 *                                     "destinations": [ { "region": "…", "bucket": "…", … } ] } ] }
 * { "stack_name": "…", "enabled_regions": [ { "region": "…", "vpc_cidr": "…",
 *     "source_target": ["source", "target"], "availability_zones": 3 } ], "tags": {}, "notification_emails": [] }
 * ```
 *
 * The schemas check shape and single values and convert to the camelCase types of types.ts; rules that
 * span fields or files live in validate.ts. Unknown fields are rejected (with a "did you mean"), because a
 * misspelt optional field would otherwise be ignored silently.
 */
import { z } from 'zod';

import {
  AVAILABILITY_ZONES_MAX,
  AWS_TAGS_MAX_COUNT,
  FARGATE_EPHEMERAL_STORAGE_MAX_GIB,
  MAX_BATCH_BYTES_LIMIT,
  MAX_BATCH_OBJECTS_LIMIT,
  MAX_BATCH_WAIT_SEC_LIMIT,
  RegionRole,
  SCALING_LIMIT_MAX,
  SOURCE_DEFAULTS,
  SQS_VISIBILITY_TIMEOUT_MAX_SEC,
  STORAGE_CLASSES,
  type StorageClass,
} from './constants.js';
import { showValue } from './issues.js';
import {
  bucketNameProblem,
  emailProblem,
  keyFilterProblem,
  kmsKeyArnProblem,
  regionProblem,
  stackNameProblem,
  tagKeyProblem,
  tagValueProblem,
  vpcCidrProblem,
} from './rules.js';
import type { DestinationConfig, EnabledRegion, ReplicationConfig, Settings, SourceConfig } from './types.js';

// ---------------------------------------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------------------------------------

/** A string checked by a `xxxProblem` rule of rules.ts. */
function ruled(problem: (value: string) => string | undefined) {
  return z.string().superRefine((value, ctx) => {
    const message = problem(value);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: value });
  });
}

/** An integer in `[min, max]`, with the unit in the message. */
function integer(min: number, max: number, unit = '') {
  const suffix = unit === '' ? '' : ` ${unit}`;
  return z.number().superRefine((value, ctx) => {
    if (!Number.isInteger(value)) {
      ctx.addIssue({
        code: 'custom',
        message: `must be a whole number, got ${showValue(value)}`,
        input: value,
      });
    } else if (value < min || value > max) {
      const message = `must be between ${min} and ${max}${suffix}, got ${showValue(value)}`;
      ctx.addIssue({ code: 'custom', message, input: value });
    }
  });
}

/**
 * `cpu` and `memory` went through `str()` in the original, so `"2048"` worked as well as `2048`: accept
 * a string of digits and read it as the number.
 */
function numericString<T extends z.ZodType>(inner: T) {
  return z.preprocess((v) => (typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v), inner);
}

/**
 * An optional string where `""` and `null` mean "not set", as in the original (`"kms_key_arn": ""` is in
 * its documented examples, and `None` prefixes were normalised to `""`).
 */
function optionalText(rule: (value: string) => string | undefined) {
  return z.preprocess(
    (v) => (v === null ? undefined : v),
    ruled((v) => (v === '' ? undefined : rule(v))).optional(),
  );
}

const regionField = ruled(regionProblem);
const bucketField = ruled(bucketNameProblem);

// Enum messages ("must be one of …, got …") are rendered by issues.ts from the zod issue.
const storageClassField = z.enum(STORAGE_CLASSES as [StorageClass, ...StorageClass[]]);

// ---------------------------------------------------------------------------------------------------------
// replication_config.json
// ---------------------------------------------------------------------------------------------------------

/** Fields of one `destinations[]` entry. */
export const DESTINATION_KEYS = ['region', 'bucket', 'kms_key_arn', 'storage_class', 'backup'] as const;

const destinationSchema = z.strictObject({
  region: regionField,
  bucket: bucketField,
  kms_key_arn: optionalText(kmsKeyArnProblem),
  storage_class: storageClassField.optional(),
  backup: z.boolean().optional(),
});

/** Fields of one `source` object. */
export const SOURCE_KEYS = [
  'region',
  'bucket',
  'kms_key_arn',
  'prefix_filter',
  'suffix_filter',
  'scaling_limit',
  'min_capacity',
  'cpu',
  'memory',
  'ephemeral_storage',
  'scaling_target_backlog_per_task',
  'visibility_timeout',
  'max_batch_objects',
  'max_batch_bytes',
  'max_batch_wait_seconds',
] as const;

const sourceSchema = z.strictObject({
  region: regionField,
  bucket: bucketField,
  kms_key_arn: optionalText(kmsKeyArnProblem),
  prefix_filter: optionalText((v) => keyFilterProblem(v, 'prefix')),
  suffix_filter: optionalText((v) => keyFilterProblem(v, 'suffix')),
  scaling_limit: integer(1, SCALING_LIMIT_MAX, 'tasks').optional(),
  min_capacity: integer(0, SCALING_LIMIT_MAX, 'tasks').optional(),
  // Any whole number passes here; validate.ts checks the (cpu, memory) pair against the Fargate table.
  cpu: numericString(integer(1, Number.MAX_SAFE_INTEGER, 'CPU units')).optional(),
  memory: numericString(integer(1, Number.MAX_SAFE_INTEGER, 'MiB')).optional(),
  // The original passed values <= 20 as "use the Fargate default of 20 GiB"; 0 is kept for that reason.
  ephemeral_storage: integer(0, FARGATE_EPHEMERAL_STORAGE_MAX_GIB, 'GiB').optional(),
  scaling_target_backlog_per_task: integer(1, Number.MAX_SAFE_INTEGER, 'messages').optional(),
  visibility_timeout: integer(1, SQS_VISIBILITY_TIMEOUT_MAX_SEC, 'seconds').optional(),
  max_batch_objects: integer(1, MAX_BATCH_OBJECTS_LIMIT, 'objects').optional(),
  max_batch_bytes: integer(1, MAX_BATCH_BYTES_LIMIT, 'bytes').optional(),
  max_batch_wait_seconds: integer(0, MAX_BATCH_WAIT_SEC_LIMIT, 'seconds').optional(),
});

/** Fields of one `replication_configuration[]` entry. */
export const RULE_KEYS = ['source', 'destinations'] as const;

const ruleSchema = z.strictObject({
  source: sourceSchema,
  destinations: z.array(destinationSchema).min(1),
});

/** Top-level fields of `replication_config.json` (`$schema` is allowed for editors). */
export const REPLICATION_CONFIG_KEYS = ['replication_configuration', '$schema'] as const;

function toDestination(raw: z.output<typeof destinationSchema>): DestinationConfig {
  return {
    region: raw.region,
    bucket: raw.bucket,
    kmsKeyArn: raw.kms_key_arn || undefined,
    storageClass: raw.storage_class,
    backup: raw.backup ?? false,
  };
}

function toSource(raw: z.output<typeof ruleSchema>, index: number): SourceConfig {
  const s = raw.source;
  const d = SOURCE_DEFAULTS;
  return {
    index,
    region: s.region,
    bucket: s.bucket,
    kmsKeyArn: s.kms_key_arn || undefined,
    prefixFilter: s.prefix_filter ?? '',
    suffixFilter: s.suffix_filter ?? '',
    scalingLimit: s.scaling_limit ?? d.scalingLimit,
    minCapacity: s.min_capacity ?? d.minCapacity,
    cpuUnits: s.cpu ?? d.cpuUnits,
    memoryMiB: s.memory ?? d.memoryMiB,
    ephemeralStorageGiB: s.ephemeral_storage ?? d.ephemeralStorageGiB,
    scalingTargetBacklogPerTask: s.scaling_target_backlog_per_task ?? d.scalingTargetBacklogPerTask,
    visibilityTimeoutSec: s.visibility_timeout ?? d.visibilityTimeoutSec,
    maxBatchObjects: s.max_batch_objects ?? d.maxBatchObjects,
    maxBatchBytes: s.max_batch_bytes ?? d.maxBatchBytes,
    maxBatchWaitSec: s.max_batch_wait_seconds ?? d.maxBatchWaitSec,
    destinations: raw.destinations.map(toDestination),
  };
}

/**
 * Schema of `replication_config.json`: checks shape and single values, applies defaults and returns the
 * typed {@link ReplicationConfig}. Cross-field rules are in validate.ts.
 *
 * @example
 * const r = replicationConfigSchema.safeParse(JSON.parse(text), { reportInput: true });
 */
export const replicationConfigSchema = z
  .strictObject({
    $schema: z.string().optional(),
    replication_configuration: z.array(ruleSchema),
  })
  .transform((raw): ReplicationConfig => ({ sources: raw.replication_configuration.map(toSource) }));

/** Allowed keys of the object at `path` in `replication_config.json`, for "unknown field" messages. */
export function replicationConfigKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return REPLICATION_CONFIG_KEYS;
  if (path.length === 2) return RULE_KEYS;
  if (path.length === 3 && path[2] === 'source') return SOURCE_KEYS;
  if (path.length === 4 && path[2] === 'destinations') return DESTINATION_KEYS;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// settings.json
// ---------------------------------------------------------------------------------------------------------

/** Fields of one `enabled_regions[]` entry. */
export const ENABLED_REGION_KEYS = ['region', 'vpc_cidr', 'source_target', 'availability_zones'] as const;

const roleField = z.enum([RegionRole.SOURCE, RegionRole.TARGET]);

const enabledRegionSchema = z.strictObject({
  region: regionField,
  vpc_cidr: ruled(vpcCidrProblem).optional(),
  source_target: z
    .array(roleField)
    .min(1)
    .superRefine((roles, ctx) => {
      if (new Set(roles).size !== roles.length) {
        ctx.addIssue({
          code: 'custom',
          message: `must not repeat a role, got ${showValue(roles)}`,
          input: roles,
        });
      }
    }),
  availability_zones: integer(1, AVAILABILITY_ZONES_MAX, 'zones').optional(),
});

/** A price in $ (the cost model's `data_transfer_cost` per GB, `fargate_cost_per_minute`): a finite number ≥ 0. */
const price = z.number().nonnegative();

/** Top-level fields of `settings.json` (`$schema` is allowed for editors). */
export const SETTINGS_KEYS = [
  'stack_name',
  'enabled_regions',
  'tags',
  'notification_emails',
  'data_transfer_cost',
  'fargate_cost_per_minute',
  '$schema',
] as const;

const tagsSchema = z.record(z.string(), z.string()).superRefine((tags, ctx) => {
  const keys = Object.keys(tags);
  if (keys.length > AWS_TAGS_MAX_COUNT) {
    const message = `must have at most ${AWS_TAGS_MAX_COUNT} tags, got ${keys.length}`;
    ctx.addIssue({ code: 'custom', message, input: keys.length });
  }
  for (const [key, value] of Object.entries(tags)) {
    const problem = tagKeyProblem(key) ?? tagValueProblem(value);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem, path: [key], input: value });
  }
});

function toEnabledRegion(raw: z.output<typeof enabledRegionSchema>): EnabledRegion {
  return {
    region: raw.region,
    vpcCidr: raw.vpc_cidr,
    sourceTarget: raw.source_target,
    availabilityZones: raw.availability_zones,
  };
}

/**
 * Schema of `settings.json`: checks shape and single values, applies defaults and returns the typed
 * {@link Settings}.
 *
 * @example
 * const r = settingsSchema.safeParse(JSON.parse(text), { reportInput: true });
 */
export const settingsSchema = z
  .strictObject({
    $schema: z.string().optional(),
    stack_name: ruled(stackNameProblem),
    enabled_regions: z.array(enabledRegionSchema).min(1),
    tags: tagsSchema.optional(),
    notification_emails: z.array(ruled(emailProblem)).optional(),
    data_transfer_cost: price.optional(),
    fargate_cost_per_minute: price.optional(),
  })
  .transform((raw): Settings => ({
    stackName: raw.stack_name,
    enabledRegions: raw.enabled_regions.map(toEnabledRegion),
    tags: raw.tags ?? {},
    notificationEmails: raw.notification_emails ?? [],
    ...(raw.data_transfer_cost === undefined ? {} : { dataTransferCost: raw.data_transfer_cost }),
    ...(raw.fargate_cost_per_minute === undefined
      ? {}
      : { fargateCostPerMinute: raw.fargate_cost_per_minute }),
  }));

/** Allowed keys of the object at `path` in `settings.json`, for "unknown field" messages. */
export function settingsKeysAt(path: readonly PropertyKey[]): readonly string[] | undefined {
  if (path.length === 0) return SETTINGS_KEYS;
  if (path.length === 2 && path[0] === 'enabled_regions') return ENABLED_REGION_KEYS;
  return undefined;
}
