import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import {
  COMPRESSION_SETTINGS_TABLE,
  REPLICATION_PARAMETERS_TABLE,
  replicationParameterName,
} from '../core/config/index.js';
import { ConfigError, errorMessage } from '../core/errors.js';
import { Queue, QueueError } from '../core/sqsQueue.js';
import { ParameterStore } from '../replicate/parameters.js';
import { SourceWorker, type SourceSpec } from '../replicate/source.js';
import { TargetWorker } from '../replicate/target.js';
import type { CommandContext } from './context.js';
import { costRates, levelChooser } from './replicate.js';

/**
 * The container form of the workers is configured only by environment variables, with the original system's
 * names: `SQS_QUEUE_URL`, `AWS_DEFAULT_REGION` (or `AWS_REGION`), `STACK_NAME`, `BUCKET` (source: the outbound
 * staging bucket), `MONITORED_PREFIX` (source), `REPLICATION_PARAMETERS_TABLE`, `COMPRESSION_SETTINGS_TABLE`,
 * `DATA_TRANSFER_COST`, `FARGATE_COST_PER_MINUTE`, `LOG_LEVEL`. Everything else about a source comes from
 * its `replication-parameters` item.
 */
export interface ContainerEnv {
  readonly queueUrl: string;
  readonly region: string;
  readonly stackName: string;
  readonly parametersTable: string;
  readonly settingsTable: string;
}

function required(ctx: CommandContext, name: string): string {
  const v = ctx.env[name];
  if (v === undefined || v === '') {
    throw new ConfigError(
      `${name} is not set: without --config/--settings the worker is configured by environment variables`,
    );
  }
  return v;
}

/** Read the variables both container workers need. */
export function containerEnv(ctx: CommandContext): ContainerEnv {
  const region = ctx.env['AWS_REGION'] || ctx.env['AWS_DEFAULT_REGION'];
  if (!region) throw new ConfigError('AWS_DEFAULT_REGION (or AWS_REGION) is not set');
  return {
    queueUrl: required(ctx, 'SQS_QUEUE_URL'),
    region,
    stackName: required(ctx, 'STACK_NAME'),
    parametersTable: ctx.env['REPLICATION_PARAMETERS_TABLE'] || REPLICATION_PARAMETERS_TABLE,
    settingsTable: ctx.env['COMPRESSION_SETTINGS_TABLE'] || COMPRESSION_SETTINGS_TABLE,
  };
}

/**
 * The queue of `SQS_QUEUE_URL`, with its visibility timeout. Reading the attributes is also the start-up check:
 * a worker that cannot reach its queue fails here (exit 1, the error naming the queue) instead of polling.
 */
async function queueFromUrl(ctx: CommandContext, queueUrl: string): Promise<Queue> {
  const sqs = ctx.aws().sqs;
  let attrs;
  try {
    attrs = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ['VisibilityTimeout'] }),
    );
  } catch (e: unknown) {
    const message = `SQS_QUEUE_URL ${queueUrl}: cannot read the queue's attributes: ${errorMessage(e)}`;
    throw new QueueError(message, { cause: e });
  }
  const visibilityTimeoutSec = Number(attrs.Attributes?.['VisibilityTimeout'] ?? 300);
  return new Queue({ sqs, queueUrl, visibilityTimeoutSec, log: ctx.log });
}

/** The source worker of a container: one queue, the outbound bucket `BUCKET`, the prefix `MONITORED_PREFIX`. */
export async function containerSourceWorker(
  ctx: CommandContext,
  level: number | undefined,
  retryDelaySec?: number,
): Promise<SourceWorker> {
  const env = containerEnv(ctx);
  const outboundBucket = required(ctx, 'BUCKET');
  const prefix = ctx.env['MONITORED_PREFIX'] ?? '';
  const store = new ParameterStore(ctx.aws().dynamodbDoc, env.parametersTable);
  const specs = new Map<string, SourceSpec>();
  const resolve = async (bucket: string): Promise<SourceSpec | undefined> => {
    const name = replicationParameterName(env.stackName, bucket, prefix);
    const p = await store.get(name);
    if (!p) return undefined;
    let spec = specs.get(name);
    if (!spec) {
      spec = {
        region: p.SourceRegion,
        bucket: p.SourceBucket,
        prefixFilter: p.PrefixFilter,
        suffixFilter: p.SuffixFilter,
        targetRegions: [...new Set(p.Destinations.map((d) => d.region))],
        outboundBucket,
        tuningKey: name,
        maxBatchObjects: p.MaxBatchObjects,
        maxBatchBytes: p.MaxBatchBytes,
        maxBatchWaitSec: p.MaxBatchWaitSeconds,
      };
      specs.set(name, spec);
    }
    return spec;
  };
  return new SourceWorker({
    s3: ctx.aws().s3,
    queue: await queueFromUrl(ctx, env.queueUrl),
    spec: resolve,
    levels: await levelChooser(ctx, level, env.settingsTable),
    rates: costRates(ctx),
    log: ctx.log,
    metrics: ctx.metrics(),
    ...(retryDelaySec !== undefined ? { retryDelaySec } : {}),
  });
}

/** The target worker of a container: one queue; destinations of its region from the parameters table. */
export async function containerTargetWorker(
  ctx: CommandContext,
  retryDelaySec?: number,
): Promise<TargetWorker> {
  const env = containerEnv(ctx);
  const store = new ParameterStore(ctx.aws().dynamodbDoc, env.parametersTable);
  return new TargetWorker({
    s3: ctx.aws().s3,
    queue: await queueFromUrl(ctx, env.queueUrl),
    region: env.region,
    destinationsFor: async (manifest) => {
      const p = await store.get(
        replicationParameterName(env.stackName, manifest.bucket, manifest.monitoredPrefix),
      );
      return (p?.Destinations ?? [])
        .filter((d) => d.region === env.region)
        .map((d) => ({ bucket: d.bucket, storageClass: d.storage_class, kmsKeyArn: d.kms_key_arn }));
    },
    log: ctx.log,
    metrics: ctx.metrics(),
    ...(retryDelaySec !== undefined ? { retryDelaySec } : {}),
  });
}
