import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { Bucket, CfnBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import type { ReplicationRule } from '../../../src/core/config/index.js';
import { allow, bucketArn, kmsViaS3, objectArns, partitionOf } from '../policies.js';
import { stagingKeyAlias } from './RegionBaseline.js';

/** Properties of an {@link OutboundReplication}. */
export interface OutboundReplicationProps {
  /** The outbound staging bucket (versioned, SSE-KMS with `sourceKey`). */
  readonly outbound: Bucket;
  /** Key of the outbound bucket. */
  readonly sourceKey: IKey;
  /** The rules, from the shared `topology()`: one per source and destination region, in priority order. */
  readonly rules: readonly ReplicationRule[];
  /** `stack_name`: names each destination region's key by its alias (`alias/{stack}`). */
  readonly stackName: string;
  /** Account of the inbound buckets and their keys. */
  readonly accountId: string;
  /** Topic notified when replication of an archive fails. */
  readonly alarmTopic: ITopic;
}

/**
 * S3 replication of the outbound bucket into the inbound bucket of each target region: one rule per source
 * and destination region, filtered by the source's archive prefix (which ends at a bucket boundary, `/`),
 * delete-marker replication off (deleting an outbound archive must not delete its inbound copy before the
 * target restored it), SSE-KMS objects re-encrypted with the destination region's staging key, replication
 * metrics on (for the failure alarm and the dashboard).
 *
 * The destination key is named by its alias ARN (`alias/{stack}` in the destination region), which S3 accepts
 * for `ReplicaKmsKeyID`; this avoids a cross-region reference between stacks. The role may use it only
 * through S3 and only if it carries that alias.
 *
 * @example
 * new OutboundReplication(this, 'Replication', { outbound, sourceKey: key, rules: t.replicationRules, ... });
 */
export class OutboundReplication extends Construct {
  /** The role S3 assumes to replicate. */
  readonly role: Role;
  /** One alarm per rule: an archive failed to replicate. */
  readonly failureAlarms: readonly Alarm[];

  constructor(scope: Construct, id: string, props: OutboundReplicationProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (props.rules.length === 0) throw new Error(`OutboundReplication ${id}: no replication rules`);
    const outboundName = props.rules[0]?.outboundBucket ?? '';
    for (const r of props.rules) {
      if (r.outboundBucket !== outboundName || r.sourceRegion !== region) {
        throw new Error(
          `OutboundReplication ${id}: every rule must replicate ${outboundName} of ${region}, got rule ${r.id} from ${r.outboundBucket} (${r.sourceRegion})`,
        );
      }
      if (!r.prefix.endsWith('/')) {
        throw new Error(
          `OutboundReplication ${id}: rule ${r.id} prefix must end with "/", got ${JSON.stringify(r.prefix)}`,
        );
      }
    }
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('s3.amazonaws.com'),
      description: `S3 replication of ${outboundName} into the inbound buckets`,
    });
    allow(
      this.role,
      new PolicyStatement({
        sid: 'ReadReplicationConfiguration',
        actions: ['s3:GetReplicationConfiguration', 's3:ListBucket'],
        resources: [bucketArn(region, outboundName)],
      }),
    );
    const prefixes = [...new Set(props.rules.map((r) => r.prefix))];
    allow(
      this.role,
      new PolicyStatement({
        sid: 'ReadArchiveVersions',
        actions: [
          's3:GetObjectVersionForReplication',
          's3:GetObjectVersionAcl',
          's3:GetObjectVersionTagging',
        ],
        resources: prefixes.map((p) => objectArns(region, outboundName, p)),
      }),
      "Archives are objects under each source's archive prefix; their keys (archive ids) are made at run time.",
    );
    allow(
      this.role,
      new PolicyStatement({
        sid: 'WriteReplicas',
        actions: ['s3:ReplicateObject', 's3:ReplicateTags'],
        resources: [
          ...new Set(props.rules.map((r) => objectArns(r.destinationRegion, r.inboundBucket, r.prefix))),
        ],
      }),
      'Replicas keep the archive keys (made at run time) under the same prefixes in the inbound buckets.',
    );
    allow(
      this.role,
      new PolicyStatement({
        sid: 'DecryptArchives',
        actions: ['kms:Decrypt'],
        resources: [props.sourceKey.keyArn],
        conditions: { StringEquals: { 'kms:ViaService': `s3.${region}.amazonaws.com` } },
      }),
    );
    const destinationRegions = [...new Set(props.rules.map((r) => r.destinationRegion))];
    for (const dst of destinationRegions) {
      const alias = `arn:${partitionOf(dst)}:kms:${dst}:${props.accountId}:${stagingKeyAlias(props.stackName)}`;
      allow(
        this.role,
        kmsViaS3(alias, ['kms:Encrypt', 'kms:GenerateDataKey']),
        `The inbound key of ${dst} lives in another region's stack; it is named by its alias (no cross-region reference), and IAM can only match an alias by the kms:ResourceAliases condition on key/*.`,
      );
    }

    const cfn = props.outbound.node.defaultChild as CfnBucket;
    cfn.replicationConfiguration = {
      role: this.role.roleArn,
      rules: props.rules.map((r) => ({
        id: r.id,
        priority: r.priority,
        status: 'Enabled',
        filter: { prefix: r.prefix },
        deleteMarkerReplication: { status: 'Disabled' },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
        destination: {
          bucket: bucketArn(r.destinationRegion, r.inboundBucket),
          storageClass: 'STANDARD',
          encryptionConfiguration: {
            replicaKmsKeyId: `arn:${partitionOf(r.destinationRegion)}:kms:${r.destinationRegion}:${props.accountId}:${stagingKeyAlias(props.stackName)}`,
          },
          metrics: { status: 'Enabled' },
        },
      })),
    };
    // The role's policy must exist before S3 validates the configuration.
    cfn.node.addDependency(this.role);

    const action = new SnsAction(props.alarmTopic);
    this.failureAlarms = props.rules.map((r, i) => {
      const alarm = new Alarm(this, `FailureAlarm${i}`, {
        alarmDescription: `Archives failed to replicate by rule ${r.id} (${r.outboundBucket} -> ${r.inboundBucket}); S3 does not retry them: fix the cause, then replay with S3 Batch Replication.`,
        metric: new Metric({
          namespace: 'AWS/S3',
          metricName: 'OperationsFailedReplication',
          dimensionsMap: { SourceBucket: r.outboundBucket, DestinationBucket: r.inboundBucket, RuleId: r.id },
          statistic: 'Sum',
          period: Duration.minutes(5),
        }),
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(action);
      return alarm;
    });
  }
}
