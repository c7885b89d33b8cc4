import type { LoadedConfig, SourceConfig } from './types.js';
import {
  COMPRESSION_SETTINGS_KEY,
  COMPRESSION_SETTINGS_TABLE,
  REPLICATION_PARAMETERS_KEY,
  REPLICATION_PARAMETERS_TABLE,
  ARCHIVE_EXTENSION,
  deadLetterQueueName,
  inboundBucketName,
  outboundArchivePrefix,
  outboundBucketName,
  replicationParameterName,
  sourceQueueName,
  targetQueueName,
} from './naming.js';

/** Deliveries before SQS moves a message to its dead-letter queue. */
export const MAX_RECEIVE_COUNT = 5;

/** Account id the local stack uses in names (fauxqs' default account). */
export const LOCAL_ACCOUNT_ID = '000000000000';

export interface SourceResources {
  readonly source: SourceConfig;
  readonly queueName: string;
  readonly dlqName: string;
  /** Outbound staging bucket of the source's region. */
  readonly outboundBucket: string;
  /** Where the source's archives go in the outbound bucket (ends in `/`). */
  readonly archivePrefix: string;
  /** `ParameterName` / `BucketPrefix` key of this source in the two tables. */
  readonly parameterName: string;
}

export interface TargetResources {
  readonly region: string;
  readonly queueName: string;
  readonly dlqName: string;
  readonly inboundBucket: string;
  /** Key filters of the inbound bucket's notification: archives only. */
  readonly notificationPrefix: string;
  readonly notificationSuffix: string;
}

/** One S3 replication rule of an outbound bucket (one per source and destination region). */
export interface ReplicationRule {
  readonly id: string;
  /** Lower number = applied first; file order of the sources. */
  readonly priority: number;
  readonly sourceRegion: string;
  readonly outboundBucket: string;
  /** Key prefix the rule matches; ends at a bucket boundary (`outbound/{bucket}/[{prefix}/]`). */
  readonly prefix: string;
  readonly destinationRegion: string;
  readonly inboundBucket: string;
}

/** Every named resource a configuration implies: what the CDK app deploys and `baler local up` provisions. */
export interface Topology {
  readonly stackName: string;
  readonly accountId: string;
  readonly tables: readonly { readonly name: string; readonly key: string }[];
  readonly sources: readonly SourceResources[];
  readonly targets: readonly TargetResources[];
  readonly replicationRules: readonly ReplicationRule[];
  /** Destination buckets by region (deduplicated). */
  readonly destinationBuckets: readonly { readonly region: string; readonly bucket: string }[];
  readonly maxReceiveCount: number;
}

/**
 * Derive every resource name of a deployment from its configuration, by the naming rules the CDK app and
 * the local stack share.
 *
 * @example
 * const t = topology(await loadConfigFiles('replication_config.json', 'settings.json'), '111122223333');
 * t.sources[0].queueName; // 'source-example-analytics-raw-events-'
 */
export function topology(loaded: LoadedConfig, accountId: string): Topology {
  const { config, settings } = loaded;
  const stack = settings.stackName;
  const sources = config.sources.map((source): SourceResources => {
    const queueName = sourceQueueName(source.bucket, source.prefixFilter);
    return {
      source,
      queueName,
      dlqName: deadLetterQueueName(queueName),
      outboundBucket: outboundBucketName(stack, accountId, source.region),
      archivePrefix: outboundArchivePrefix(source.bucket, source.prefixFilter),
      parameterName: replicationParameterName(stack, source.bucket, source.prefixFilter),
    };
  });
  const targetRegions = [...new Set(config.sources.flatMap((s) => s.destinations.map((d) => d.region)))];
  const targets = targetRegions.map((region): TargetResources => {
    const queueName = targetQueueName(stack, region);
    return {
      region,
      queueName,
      dlqName: deadLetterQueueName(queueName),
      inboundBucket: inboundBucketName(stack, accountId, region),
      notificationPrefix: 'outbound/',
      notificationSuffix: ARCHIVE_EXTENSION,
    };
  });
  const replicationRules: ReplicationRule[] = [];
  for (const s of sources) {
    const regions = [...new Set(s.source.destinations.map((d) => d.region))];
    for (const region of regions) {
      replicationRules.push({
        id: `${s.queueName}-to-${region}`.slice(0, 255),
        priority: replicationRules.length,
        sourceRegion: s.source.region,
        outboundBucket: s.outboundBucket,
        prefix: s.archivePrefix,
        destinationRegion: region,
        inboundBucket: inboundBucketName(stack, accountId, region),
      });
    }
  }
  const seen = new Set<string>();
  const destinationBuckets = config.sources
    .flatMap((s) => s.destinations.map((d) => ({ region: d.region, bucket: d.bucket })))
    .filter((d) => (seen.has(d.bucket) ? false : (seen.add(d.bucket), true)));
  return {
    stackName: stack,
    accountId,
    tables: [
      { name: COMPRESSION_SETTINGS_TABLE, key: COMPRESSION_SETTINGS_KEY },
      { name: REPLICATION_PARAMETERS_TABLE, key: REPLICATION_PARAMETERS_KEY },
    ],
    sources,
    targets,
    replicationRules,
    destinationBuckets,
    maxReceiveCount: MAX_RECEIVE_COUNT,
  };
}
