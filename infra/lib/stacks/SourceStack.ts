import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Bucket, EventType } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

import type { WorkerImage } from '../context.js';

import type { Settings, SourceResources, Topology } from '../../../src/core/config/index.js';
import { COMPRESSION_SETTINGS_TABLE, REPLICATION_PARAMETERS_TABLE } from '../../../src/core/config/index.js';
import { OUTBOUND_ARCHIVE_EXPIRATION } from '../constants.js';
import { OutboundReplication } from '../constructs/OutboundReplication.js';
import type { RegionBaseline } from '../constructs/RegionBaseline.js';
import { StagingBucket } from '../constructs/StagingBucket.js';
import { WorkerService } from '../constructs/WorkerService.js';
import { WorkQueue } from '../constructs/WorkQueue.js';
import { acknowledgeNotificationsHandler } from '../nag.js';
import { allow, KMS_ALIAS_REASON, kmsViaS3, objectArns } from '../policies.js';
import { sourceEnvironment } from '../workerEnv.js';
import { tableArn } from './RegionStack.js';

/** Properties of a {@link SourceStack}. */
export interface SourceStackProps extends StackProps {
  /** Names of everything, from the shared `topology()`. */
  readonly topology: Topology;
  /** settings.json. */
  readonly settings: Settings;
  /** The region's baseline (same region, another stack: referenced through exports). */
  readonly baseline: RegionBaseline;
  /** Makes the worker image reference of a stack (entrypoint `baler`). */
  readonly image: WorkerImage;
}

/** The resources of one monitored source. */
export interface SourcePart {
  readonly resources: SourceResources;
  readonly queue: WorkQueue;
  readonly service: WorkerService;
}

/**
 * The source side of one region: the outbound staging bucket with its replication rules, and per source of
 * the region a queue (+ DLQ) fed by the source bucket's ObjectCreated events (prefix/suffix filters), and a
 * source service whose role may read only the monitored objects, write only the source's archive prefix,
 * and touch only its own items of the two tables.
 *
 * It is deployed after the region stacks of its destination regions: S3 checks that the inbound buckets exist
 * when the replication configuration is written.
 *
 * @example
 * new SourceStack(app, 'baler-us-east-1-source', { env, topology: t, settings, baseline, image });
 */
export class SourceStack extends Stack {
  /** The outbound staging bucket. */
  readonly outbound: StagingBucket;
  /** Its replication rules and role. */
  readonly replication: OutboundReplication;
  /** One entry per source of this region, in file order. */
  readonly sources: readonly SourcePart[];

  constructor(scope: Construct, id: string, props: SourceStackProps) {
    super(scope, id, props);
    const { topology: t, settings, baseline } = props;
    const region = this.region;
    const mine = t.sources.filter((s) => s.source.region === region);
    const outboundName = mine[0]?.outboundBucket;
    if (outboundName === undefined) throw new Error(`SourceStack ${id}: no source in ${region}`);

    this.outbound = new StagingBucket(this, 'Outbound', {
      bucketName: outboundName,
      encryptionKey: baseline.key,
      archiveExpiration: OUTBOUND_ARCHIVE_EXPIRATION,
      accessLogsBucket: baseline.accessLogsBucket,
    });
    this.replication = new OutboundReplication(this, 'Replication', {
      outbound: this.outbound.bucket,
      sourceKey: baseline.key,
      rules: t.replicationRules.filter((r) => r.sourceRegion === region),
      stackName: settings.stackName,
      accountId: t.accountId,
      alarmTopic: baseline.alarmTopic,
    });

    const image = props.image(this);
    this.sources = mine.map((s, i) => this.#source(s, i, props, image));

    acknowledgeNotificationsHandler(this);
  }

  #source(s: SourceResources, i: number, props: SourceStackProps, image: ContainerImage): SourcePart {
    const { settings, baseline, topology: t } = props;
    const region = this.region;
    const src = s.source;
    const queue = new WorkQueue(this, `Source${i}Queue`, {
      queueName: s.queueName,
      deadLetterQueueName: s.dlqName,
      maxReceiveCount: t.maxReceiveCount,
      visibilityTimeout: Duration.seconds(src.visibilityTimeoutSec),
      encryptionKey: baseline.queueKey,
      alarmTopic: baseline.alarmTopic,
    });
    // The source bucket is not baler's: the notification is added to its existing configuration, not replacing it.
    const bucket = Bucket.fromBucketAttributes(this, `Source${i}Bucket`, { bucketName: src.bucket, region });
    const filter = {
      ...(src.prefixFilter !== '' ? { prefix: src.prefixFilter } : {}),
      ...(src.suffixFilter !== '' ? { suffix: src.suffixFilter } : {}),
    };
    // No filter at all for a whole-bucket source (CDK refuses an empty one).
    const filters = Object.keys(filter).length > 0 ? [filter] : [];
    bucket.addEventNotification(EventType.OBJECT_CREATED, queue.notificationDestination(), ...filters);
    const service = new WorkerService(this, `Source${i}Service`, {
      serviceName: s.queueName,
      stackName: settings.stackName,
      cluster: baseline.cluster,
      subnets: baseline.taskSubnets,
      securityGroup: baseline.taskSecurityGroup,
      image,
      command: ['source'],
      environment: sourceEnvironment(settings, s, queue.queue.queueUrl),
      workQueue: queue,
      cpuUnits: src.cpuUnits,
      memoryMiB: src.memoryMiB,
      ephemeralStorageGiB: src.ephemeralStorageGiB,
      minCapacity: src.minCapacity,
      maxCapacity: src.scalingLimit,
      backlogPerTask: src.scalingTargetBacklogPerTask,
      logKey: baseline.key,
      alarmTopic: baseline.alarmTopic,
    });
    const role = service.taskRole;
    queue.grantConsume(role);
    // HEAD is authorised by s3:GetObject. Only what the source's filter monitors.
    allow(
      role,
      new PolicyStatement({
        sid: 'ReadMonitoredObjects',
        actions: ['s3:GetObject', 's3:GetObjectTagging'],
        resources: [objectArns(region, src.bucket, src.prefixFilter)],
      }),
      "The monitored objects are every key under the source's prefix_filter; keys are data, not known in advance.",
    );
    allow(
      role,
      new PolicyStatement({
        sid: 'WriteArchives',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [objectArns(region, s.outboundBucket, s.archivePrefix)],
      }),
      "Archives are written under the source's own archive prefix; their keys (archive ids) are made at run time.",
    );
    // The outbound bucket uses the region's key (multipart uploads need Decrypt as well).
    allow(
      role,
      new PolicyStatement({
        sid: 'RegionKey',
        actions: ['kms:Decrypt', 'kms:GenerateDataKey'],
        resources: [baseline.key.keyArn],
      }),
    );
    if (src.kmsKeyArn) allow(role, kmsViaS3(src.kmsKeyArn, ['kms:Decrypt']), KMS_ALIAS_REASON);
    const leadingKey = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [s.parameterName] } };
    allow(
      role,
      new PolicyStatement({
        sid: 'LearnCompressionSettings',
        actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
        resources: [tableArn(region, t.accountId, COMPRESSION_SETTINGS_TABLE)],
        conditions: leadingKey,
      }),
    );
    allow(
      role,
      new PolicyStatement({
        sid: 'ReadReplicationParameters',
        actions: ['dynamodb:GetItem'],
        resources: [tableArn(region, t.accountId, REPLICATION_PARAMETERS_TABLE)],
        conditions: leadingKey,
      }),
    );
    return { resources: s, queue, service };
  }
}
