import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  ObjectOwnership,
  type CfnBucket,
  type IBucket,
} from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

import {
  ABORT_INCOMPLETE_MULTIPART_AFTER,
  ACCESS_LOG_EXPIRATION,
  NONCURRENT_VERSION_EXPIRATION,
} from '../constants.js';
import { bucketArn } from '../policies.js';

/** Properties of a {@link StagingBucket}. */
export interface StagingBucketProps {
  /** Exact bucket name, from the shared naming rules (`{stack}-{account}-{region}-{outbound|inbound}`). */
  readonly bucketName: string;
  /** Customer managed key of the region; the bucket's default encryption (SSE-KMS with an S3 Bucket Key). */
  readonly encryptionKey: IKey;
  /** How long an archive is kept before it expires; must outlive any backlog (see constants.ts). */
  readonly archiveExpiration: Duration;
  /** Bucket that receives the server access logs. */
  readonly accessLogsBucket: IBucket;
}

/**
 * A versioned, SSE-KMS encrypted, private bucket for archives in transit (outbound or inbound), with the
 * lifecycle that keeps it small: archives expire after `archiveExpiration`, noncurrent versions a day later,
 * orphaned delete markers are removed, and multipart uploads left by a killed worker are aborted.
 *
 * The bucket is retained when its stack is deleted: it has a fixed name and may still hold archives.
 *
 * @example
 * new StagingBucket(this, 'Inbound', {
 *   bucketName: 'baler-111122223333-eu-west-1-inbound',
 *   encryptionKey: key,
 *   archiveExpiration: Duration.days(21),
 *   accessLogsBucket: logs,
 * });
 */
export class StagingBucket extends Construct {
  /** The bucket. */
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: StagingBucketProps) {
    super(scope, id);
    const days = props.archiveExpiration.toDays();
    if (days < 1) {
      throw new Error(`StagingBucket ${id}: archiveExpiration must be at least 1 day, got ${days} days`);
    }
    this.bucket = new Bucket(this, 'Bucket', {
      bucketName: props.bucketName,
      encryption: BucketEncryption.KMS,
      encryptionKey: props.encryptionKey,
      bucketKeyEnabled: true,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      versioned: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          id: 'expire-archives',
          expiration: props.archiveExpiration,
          noncurrentVersionExpiration: NONCURRENT_VERSION_EXPIRATION,
          abortIncompleteMultipartUploadAfter: ABORT_INCOMPLETE_MULTIPART_AFTER,
        },
        // A separate rule: S3 rejects ExpiredObjectDeleteMarker next to an expiration in days.
        { id: 'remove-expired-delete-markers', expiredObjectDeleteMarker: true },
      ],
    });
    // Server access logging, wired by hand: aws-cdk-lib leaves the log bucket's policy statement without
    // aws:SourceArn/aws:SourceAccount when the log bucket is in another stack (the outbound bucket's case).
    // With the bucket's literal name the conditions create no cross-stack reference.
    const prefix = `${props.bucketName}/`;
    (this.bucket.node.defaultChild as CfnBucket).loggingConfiguration = {
      destinationBucketName: props.accessLogsBucket.bucketName,
      logFilePrefix: prefix,
    };
    const stack = Stack.of(this);
    props.accessLogsBucket.addToResourcePolicy(
      new PolicyStatement({
        sid: `AccessLogsOf${props.bucketName.replace(/[^A-Za-z0-9]/g, '')}`.slice(0, 100),
        principals: [new ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [props.accessLogsBucket.arnForObjects(`${prefix}*`)],
        conditions: {
          ArnLike: { 'aws:SourceArn': bucketArn(stack.region, props.bucketName) },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
  }
}

/** Properties of an {@link AccessLogsBucket}. */
export interface AccessLogsBucketProps {
  /**
   * How long access logs are kept.
   * @default - 90 days
   */
  readonly expiration?: Duration;
}

/**
 * The bucket that receives the server access logs of a region's staging buckets. S3 server access logging
 * delivers only to buckets with SSE-S3 default encryption, so this one uses SSE-S3.
 *
 * @example
 * const logs = new AccessLogsBucket(this, 'AccessLogs').bucket;
 */
export class AccessLogsBucket extends Construct {
  /** The bucket. */
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: AccessLogsBucketProps = {}) {
    super(scope, id);
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [{ id: 'expire-logs', expiration: props.expiration ?? ACCESS_LOG_EXPIRATION }],
    });
    Validations.of(this.bucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This is the access-log bucket itself; logging its own accesses would log the log deliveries.',
    });
  }
}
