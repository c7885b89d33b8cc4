import { Fn, Stack, type StackProps } from 'aws-cdk-lib';
import type { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { EventType } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

import type { WorkerImage } from '../context.js';

import type { Settings, TargetResources, Topology } from '../../../src/core/config/index.js';
import { REPLICATION_PARAMETERS_TABLE } from '../../../src/core/config/index.js';
import {
  INBOUND_ARCHIVE_EXPIRATION,
  TARGET_BACKLOG_PER_TASK,
  TARGET_CPU_UNITS,
  TARGET_MEMORY_MIB,
  TARGET_VISIBILITY_TIMEOUT,
} from '../constants.js';
import { RegionBaseline } from '../constructs/RegionBaseline.js';
import { StagingBucket } from '../constructs/StagingBucket.js';
import { WorkerService } from '../constructs/WorkerService.js';
import { WorkQueue } from '../constructs/WorkQueue.js';
import { acknowledgeNotificationsHandler } from '../nag.js';
import { allow, KMS_ALIAS_REASON, kmsViaS3, objectArns, partitionOf } from '../policies.js';
import { sourcesInto, targetEnvironment } from '../workerEnv.js';

/** Properties of a {@link RegionStack}. */
export interface RegionStackProps extends StackProps {
  /** Names of everything, from the shared `topology()`. */
  readonly topology: Topology;
  /** settings.json. */
  readonly settings: Settings;
  /** This region's `vpc_cidr`. */
  readonly vpcCidr: string;
  /** This region's `availability_zones`. */
  readonly availabilityZones: number;
  /** Makes the worker image reference of a stack (entrypoint `baler`). */
  readonly image: WorkerImage;
}

/**
 * One enabled region: its {@link RegionBaseline} and, where the region receives archives, the target side:
 * the inbound staging bucket, the target queue (+ DLQ) fed by the bucket's archive events, and the target
 * service with a role that may read and delete archives and write only the destination buckets (and keys) of
 * this region under the prefixes of the sources that replicate into them.
 *
 * @example
 * new RegionStack(app, 'baler-eu-west-1', { env, topology: t, settings, vpcCidr: '10.1.0.0/16', availabilityZones: 3, image });
 */
export class RegionStack extends Stack {
  /** VPC, key, cluster, topic. */
  readonly baseline: RegionBaseline;
  /** The target side, when this region receives archives. */
  readonly target:
    | {
        readonly resources: TargetResources;
        readonly inbound: StagingBucket;
        readonly queue: WorkQueue;
        readonly service: WorkerService;
      }
    | undefined;

  readonly #availabilityZones: number;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    this.#availabilityZones = props.availabilityZones;
    const { topology: t, settings } = props;
    const region = this.region;
    this.baseline = new RegionBaseline(this, 'Baseline', {
      stackName: settings.stackName,
      vpcCidr: props.vpcCidr,
      availabilityZones: props.availabilityZones,
      notificationEmails: settings.notificationEmails,
    });
    const target = t.targets.find((x) => x.region === region);
    this.target = target ? this.#targetSide(t, settings, target, props.image(this)) : undefined;
  }

  /**
   * The first `availability_zones` zones of the region as `Fn::GetAZs` tokens, resolved at deploy time: a stack
   * with an explicit account would otherwise look them up at synthesis (AWS credentials, a context file).
   */
  override get availabilityZones(): string[] {
    return Array.from({ length: this.#availabilityZones }, (_, i) => Fn.select(i, Fn.getAzs(this.region)));
  }

  #targetSide(t: Topology, settings: Settings, target: TargetResources, image: ContainerImage) {
    const { key, alarmTopic, cluster, taskSubnets, taskSecurityGroup, accessLogsBucket } = this.baseline;
    const region = this.region;
    const inbound = new StagingBucket(this, 'Inbound', {
      bucketName: target.inboundBucket,
      encryptionKey: key,
      archiveExpiration: INBOUND_ARCHIVE_EXPIRATION,
      accessLogsBucket,
    });
    const queue = new WorkQueue(this, 'TargetQueue', {
      queueName: target.queueName,
      deadLetterQueueName: target.dlqName,
      maxReceiveCount: t.maxReceiveCount,
      visibilityTimeout: TARGET_VISIBILITY_TIMEOUT,
      encryptionKey: this.baseline.queueKey,
      alarmTopic,
    });
    inbound.bucket.addEventNotification(EventType.OBJECT_CREATED, queue.notificationDestination(), {
      prefix: target.notificationPrefix,
      suffix: target.notificationSuffix,
    });
    acknowledgeNotificationsHandler(this);
    const feeding = sourcesInto(t, region);
    const service = new WorkerService(this, 'TargetService', {
      serviceName: `${settings.stackName}-target`,
      stackName: settings.stackName,
      cluster,
      subnets: taskSubnets,
      securityGroup: taskSecurityGroup,
      image,
      command: ['target'],
      environment: targetEnvironment(settings, region, queue.queue.queueUrl),
      workQueue: queue,
      cpuUnits: TARGET_CPU_UNITS,
      memoryMiB: TARGET_MEMORY_MIB,
      minCapacity: 0,
      maxCapacity: Math.max(1, ...feeding.map((f) => f.resources.source.scalingLimit)),
      backlogPerTask: TARGET_BACKLOG_PER_TASK,
      logKey: key,
      alarmTopic,
    });
    const role = service.taskRole;
    queue.grantConsume(role);
    allow(
      role,
      new PolicyStatement({
        sid: 'ReadAndDeleteArchives',
        actions: ['s3:GetObject', 's3:DeleteObject'],
        resources: [objectArns(region, target.inboundBucket, target.notificationPrefix)],
      }),
      'Archives are objects under outbound/ of the inbound bucket; their keys (archive ids) are made at run time.',
    );
    // The inbound archives are encrypted with the region's key.
    allow(role, new PolicyStatement({ sid: 'RegionKey', actions: ['kms:Decrypt'], resources: [key.keyArn] }));
    // Objects go to their original keys, so each destination only under its source's prefix. Objects over
    // 16 MiB are staged by multipart upload (s3:PutObject covers Create/UploadPart/Complete) and aborted
    // on failure; tags are written again on the completed version (PutObjectVersionTagging).
    const writes = [
      ...new Set(
        feeding.flatMap((f) =>
          f.destinations.map((d) => objectArns(region, d.bucket, f.resources.source.prefixFilter)),
        ),
      ),
    ];
    allow(
      role,
      new PolicyStatement({
        sid: 'WriteDestinations',
        actions: [
          's3:PutObject',
          's3:PutObjectTagging',
          's3:PutObjectVersionTagging',
          's3:AbortMultipartUpload',
        ],
        resources: writes,
      }),
      'Restored objects keep their source keys, which are data: each destination bucket is writable only under the prefix of the source that replicates into it.',
    );
    const keys = [...new Set(feeding.flatMap((f) => f.destinations.flatMap((d) => d.kmsKeyArn ?? [])))];
    for (const arn of keys) {
      // SSE-KMS writes; multipart uploads also need kms:Decrypt (S3 reads the data key back for each part).
      allow(role, kmsViaS3(arn, ['kms:GenerateDataKey', 'kms:Decrypt']), KMS_ALIAS_REASON);
    }
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ReadReplicationParameters',
        actions: ['dynamodb:GetItem'],
        resources: [tableArn(region, t.accountId, REPLICATION_PARAMETERS_TABLE)],
        conditions: {
          'ForAllValues:StringEquals': {
            'dynamodb:LeadingKeys': feeding.map((f) => f.resources.parameterName),
          },
        },
      }),
    );
    return { resources: target, inbound, queue, service };
  }
}

/**
 * ARN of a DynamoDB table (or replica) in `region`.
 *
 * @example
 * tableArn('eu-west-1', '111122223333', 'replication-parameters');
 */
export function tableArn(region: string, accountId: string, table: string): string {
  return `arn:${partitionOf(region)}:dynamodb:${region}:${accountId}:table/${table}`;
}
