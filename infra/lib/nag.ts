/**
 * cdk-nag acknowledgements for the helper functions aws-cdk-lib itself adds (custom resource providers):
 * their code, runtime and policies are aws-cdk-lib's, pinned by package-lock.json, not baler's.
 */
import { Validations } from 'aws-cdk-lib';
import type { Construct, IConstruct } from 'constructs';

/** Construct id of the singleton function behind every `AwsCustomResource` of a stack (aws-cdk-lib's). */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';
/** Construct id of the singleton function behind S3 bucket notifications (aws-cdk-lib's). */
const BUCKET_NOTIFICATIONS_HANDLER_ID = 'BucketNotificationsHandler050a0587b7544547bf325f094a3db834';

function acknowledgeLambdaBasics(fn: IConstruct, what: string): void {
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    reason: `${what}: aws-cdk-lib gives it AWSLambdaBasicExecutionRole, which only lets it write its own logs.`,
  });
  Validations.of(fn).acknowledge({
    id: 'AwsSolutions-L1',
    reason: `${what}: the runtime is chosen by aws-cdk-lib (pinned in package-lock.json), not by baler.`,
  });
}

/** Acknowledge the findings on a stack's `AwsCustomResource` provider function (call after creating one). */
export function acknowledgeAwsCustomResourceProvider(stack: Construct): void {
  const fn = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
  if (fn) acknowledgeLambdaBasics(fn, 'AwsCustomResource provider (writes the replication-parameters items)');
}

/**
 * Acknowledge the findings on a stack's bucket-notifications handler (aws-cdk-lib's singleton function that
 * writes S3 event notification configurations). Its permissions are aws-cdk-lib's per-bucket policies,
 * already scoped to each bucket (`s3:PutBucketNotification`/`s3:GetBucketNotification`).
 * Call once all notifications of the stack are added.
 *
 * @example
 * acknowledgeNotificationsHandler(this);
 */
export function acknowledgeNotificationsHandler(stack: Construct): void {
  const fn = stack.node.tryFindChild(BUCKET_NOTIFICATIONS_HANDLER_ID);
  if (fn) acknowledgeLambdaBasics(fn, 'S3 bucket-notifications handler');
}
