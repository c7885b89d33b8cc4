import { createHash, randomUUID } from 'node:crypto';
import {
  GetBucketNotificationConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  type S3Client,
  type TopicConfiguration,
  type Event as S3NotificationEvent,
} from '@aws-sdk/client-s3';
import { CreateTopicCommand, type SNSClient } from '@aws-sdk/client-sns';
import { GetQueueUrlCommand, SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { buildTestEvent } from '../core/s3Events.js';
import { bridgePath } from './bridge.js';

export interface WireOptions {
  /** S3 client of radosgw. */
  readonly s3: S3Client;
  /** SNS client of radosgw (its topics API; same endpoint and credentials as S3). */
  readonly sns: SNSClient;
  /** SQS client signing for `region` (fauxqs keeps queues per region). */
  readonly sqs: SQSClient;
  readonly bucket: string;
  readonly queueName: string;
  /** Region label put in the events' `awsRegion` and used to find the queue. */
  readonly region: string;
  readonly bridgePort: number;
  /** Key prefix filter. @defaultValue none */
  readonly prefix?: string | undefined;
  /** Key suffix filter. @defaultValue none */
  readonly suffix?: string | undefined;
  /** Object-created events to send (the bridge forwards only these). @defaultValue `['s3:ObjectCreated:*']` */
  readonly events?: readonly Extract<S3NotificationEvent, `s3:ObjectCreated:${string}`>[];
}

export interface WireResult {
  readonly queueUrl: string;
  readonly topicArn: string;
  readonly configurationId: string;
  /** False when the bucket already had exactly this notification (nothing changed, no test event sent). */
  readonly changed: boolean;
}

/** Stable id of one "bucket [prefix, suffix] -> queue" wiring (AWS allows up to 255 characters). */
export function notificationId(queueName: string, prefix?: string, suffix?: string): string {
  const h = createHash('sha256')
    .update(`${prefix ?? ''}\0${suffix ?? ''}`)
    .digest('hex')
    .slice(0, 8);
  return `baler-${queueName}-${h}`.slice(0, 255);
}

function sameTopicConfig(a: TopicConfiguration, b: TopicConfiguration): boolean {
  const norm = (t: TopicConfiguration) =>
    JSON.stringify({
      arn: t.TopicArn,
      ev: [...(t.Events ?? [])].sort(),
      f: (t.Filter?.Key?.FilterRules ?? [])
        .map((r) => `${String(r.Name).toLowerCase()}=${r.Value ?? ''}`)
        .sort(),
    });
  return norm(a) === norm(b);
}

/**
 * Wire "bucket [prefix, suffix] -> queue" on the local stack, the way S3 -> SQS notifications work on AWS:
 * a radosgw topic pushing to the notification bridge, a bucket notification with the key filters, and the
 * `s3:TestEvent` AWS sends to the queue when a notification is configured. Other notifications on the
 * bucket are kept. Idempotent: an identical existing wiring changes nothing and sends no test event.
 *
 * @example
 * await wireBucketToQueue({ s3, sns, sqs, bucket: 'photos', prefix: 'raw/', queueName: 'q', region: 'us-east-1', bridgePort: 7490 });
 */
export async function wireBucketToQueue(o: WireOptions): Promise<WireResult> {
  const { QueueUrl } = await o.sqs.send(new GetQueueUrlCommand({ QueueName: o.queueName }));
  if (!QueueUrl) throw new Error(`queue ${o.queueName} has no URL`);
  const topic = await o.sns.send(
    new CreateTopicCommand({
      Name: `baler-${o.region}-${o.queueName}`.slice(0, 256),
      Attributes: { 'push-endpoint': `http://127.0.0.1:${o.bridgePort}${bridgePath(o.region, o.queueName)}` },
    }),
  );
  const topicArn = topic.TopicArn;
  if (!topicArn) throw new Error(`radosgw returned no topic ARN for ${o.queueName}`);
  const id = notificationId(o.queueName, o.prefix, o.suffix);
  const rules = [
    ...(o.prefix ? [{ Name: 'prefix' as const, Value: o.prefix }] : []),
    ...(o.suffix ? [{ Name: 'suffix' as const, Value: o.suffix }] : []),
  ];
  const wanted: TopicConfiguration = {
    Id: id,
    TopicArn: topicArn,
    Events: [...(o.events ?? ['s3:ObjectCreated:*'])],
    ...(rules.length ? { Filter: { Key: { FilterRules: rules } } } : {}),
  };
  const current = await o.s3.send(new GetBucketNotificationConfigurationCommand({ Bucket: o.bucket }));
  const others = (current.TopicConfigurations ?? []).filter((t) => t.Id !== id);
  const existing = (current.TopicConfigurations ?? []).find((t) => t.Id === id);
  if (existing && sameTopicConfig(existing, wanted)) {
    return { queueUrl: QueueUrl, topicArn, configurationId: id, changed: false };
  }
  await o.s3.send(
    new PutBucketNotificationConfigurationCommand({
      Bucket: o.bucket,
      NotificationConfiguration: { TopicConfigurations: [...others, wanted] },
    }),
  );
  const test = buildTestEvent({
    bucket: o.bucket,
    time: new Date().toISOString(),
    requestId: randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase(),
    hostId: randomUUID(),
  });
  await o.sqs.send(new SendMessageCommand({ QueueUrl, MessageBody: JSON.stringify(test) }));
  return { queueUrl: QueueUrl, topicArn, configurationId: id, changed: true };
}
