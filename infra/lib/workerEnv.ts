/**
 * The environment of the worker containers: exactly the variables `baler source` / `baler target` read in
 * container form (src/cli/replicateEnv.ts, docs/OPERATIONS.md), plus the metrics sink.
 */
import type { Settings, SourceResources, Topology } from '../../src/core/config/index.js';
import { COMPRESSION_SETTINGS_TABLE, REPLICATION_PARAMETERS_TABLE } from '../../src/core/config/index.js';
import { DEFAULT_DATA_TRANSFER_COST_PER_GB, DEFAULT_FARGATE_COST_PER_MINUTE } from '../../src/tuning/cost.js';

/** Log level of the workers (`LOG_LEVEL`). */
export const WORKER_LOG_LEVEL = 'info';

function common(settings: Settings, region: string, queueUrl: string): Record<string, string> {
  return {
    SQS_QUEUE_URL: queueUrl,
    AWS_DEFAULT_REGION: region,
    STACK_NAME: settings.stackName,
    REPLICATION_PARAMETERS_TABLE,
    DATA_TRANSFER_COST: String(settings.dataTransferCost ?? DEFAULT_DATA_TRANSFER_COST_PER_GB),
    FARGATE_COST_PER_MINUTE: String(settings.fargateCostPerMinute ?? DEFAULT_FARGATE_COST_PER_MINUTE),
    LOG_LEVEL: WORKER_LOG_LEVEL,
    // aws-embedded-metrics would otherwise look for a CloudWatch agent on ECS; "Local" writes the EMF
    // documents to stdout, and the awslogs driver ships them to CloudWatch Logs, which extracts the metrics.
    AWS_EMF_ENVIRONMENT: 'Local',
    BALER_METRICS: 'emf',
  };
}

/**
 * Environment of a source worker: one queue, the region's outbound bucket (`BUCKET`) and the source's
 * prefix (`MONITORED_PREFIX`); the rest comes from the source's `replication-parameters` item.
 *
 * @example
 * sourceEnvironment(settings, t.sources[0], queue.queueUrl).BUCKET; // 'baler-111122223333-us-east-1-outbound'
 */
export function sourceEnvironment(
  settings: Settings,
  source: SourceResources,
  queueUrl: string,
): Record<string, string> {
  return {
    ...common(settings, source.source.region, queueUrl),
    BUCKET: source.outboundBucket,
    MONITORED_PREFIX: source.source.prefixFilter,
    COMPRESSION_SETTINGS_TABLE,
  };
}

/**
 * Environment of a target worker of `region`: its queue; destinations come from the parameters table.
 *
 * @example
 * targetEnvironment(settings, 'eu-west-1', queue.queueUrl).AWS_DEFAULT_REGION; // 'eu-west-1'
 */
export function targetEnvironment(
  settings: Settings,
  region: string,
  queueUrl: string,
): Record<string, string> {
  return common(settings, region, queueUrl);
}

/**
 * The sources that have a destination in `region`, with those destinations: what a target worker there
 * writes, and so what its role may write.
 *
 * @example
 * sourcesInto(t, 'eu-west-1').map((s) => s.destinations.map((d) => d.bucket));
 */
export function sourcesInto(
  t: Topology,
  region: string,
): {
  readonly resources: SourceResources;
  readonly destinations: SourceResources['source']['destinations'];
}[] {
  return t.sources
    .map((resources) => ({
      resources,
      destinations: resources.source.destinations.filter((d) => d.region === region),
    }))
    .filter((x) => x.destinations.length > 0);
}
