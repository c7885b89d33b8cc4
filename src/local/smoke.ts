import { randomBytes } from 'node:crypto';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
  PutBucketNotificationConfigurationCommand,
} from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { CreateQueueCommand, DeleteQueueCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import {
  CreateTableCommand,
  DeleteTableCommand,
  ConditionalCheckFailedException,
} from '@aws-sdk/client-dynamodb';
import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AwsClients } from '../core/awsClients.js';
import { parseS3EventMessage } from '../core/s3Events.js';
import { wireBucketToQueue } from './notifications.js';
import type { LocalState } from './stack.js';

export interface SmokeCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
}

/** An SNS client for radosgw's topics API (same endpoint and credentials as its S3 API). */
export function radosgwSns(state: LocalState): SNSClient {
  return new SNSClient({
    region: state.region,
    endpoint: `http://127.0.0.1:${state.ports.s3}`,
    credentials: { accessKeyId: state.accessKey, secretAccessKey: state.secretKey },
  });
}

/**
 * A short end-to-end check of a running local stack, cleaning up after itself: an object with tags, user
 * metadata, content type and storage class round-trips through radosgw; a put into a bucket wired to a
 * queue arrives as one AWS-format event; a stale conditional DynamoDB update is refused.
 */
export async function runSmoke(aws: AwsClients, state: LocalState): Promise<SmokeCheck[]> {
  const id = randomBytes(4).toString('hex');
  const bucket = `baler-smoke-${id}`;
  const queueName = `baler-smoke-${id}`;
  const table = `baler-smoke-${id}`;
  const key = `smoke/a b+c ü ${id}.txt`;
  const checks: SmokeCheck[] = [];
  const check = (name: string, ok: boolean, detail: string) => checks.push({ name, ok, detail });
  const sns = radosgwSns(state);
  let queueUrl: string | undefined;
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    queueUrl = (await aws.sqs.send(new CreateQueueCommand({ QueueName: queueName }))).QueueUrl;
    await wireBucketToQueue({
      s3: aws.s3,
      sns,
      sqs: aws.sqs,
      bucket,
      queueName,
      region: state.region,
      bridgePort: state.ports.bridge,
      prefix: 'smoke/',
    });
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: 'hello from baler',
        ContentType: 'text/plain; charset=utf-8',
        Metadata: { origin: 'smoke' },
        Tagging: 'team=data&env=local',
        StorageClass: 'STANDARD_IA',
      }),
    );
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const tags = await aws.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    const body = await (
      await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    ).Body?.transformToString();
    const tagText = (tags.TagSet ?? [])
      .map((t) => `${t.Key}=${t.Value}`)
      .sort()
      .join('&');
    check(
      's3 object round trip',
      body === 'hello from baler' &&
        head.ContentType === 'text/plain; charset=utf-8' &&
        head.Metadata?.['origin'] === 'smoke' &&
        head.StorageClass === 'STANDARD_IA' &&
        tagText === 'env=local&team=data',
      `content-type=${head.ContentType}, storage-class=${head.StorageClass}, tags=${tagText}`,
    );
    const kinds: string[] = [];
    for (let i = 0; i < 5 && !kinds.includes('records'); i++) {
      const r = await aws.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      for (const m of r.Messages ?? []) {
        const parsed = parseS3EventMessage(m.Body ?? '');
        if (parsed.kind === 'test') kinds.push('test');
        else if (parsed.events.some((e) => e.key === key && e.type === 'created')) kinds.push('records');
      }
    }
    check(
      'bucket notification -> SQS',
      kinds.includes('test') && kinds.includes('records'),
      `messages: ${kinds.join(', ') || 'none'}`,
    );
    await aws.dynamodb.send(
      new CreateTableCommand({
        TableName: table,
        AttributeDefinitions: [{ AttributeName: 'BucketPrefix', AttributeType: 'S' }],
        KeySchema: [{ AttributeName: 'BucketPrefix', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
    await aws.dynamodbDoc.send(new PutCommand({ TableName: table, Item: { BucketPrefix: 'k', Version: 2 } }));
    let refused = false;
    try {
      await aws.dynamodbDoc.send(
        new UpdateCommand({
          TableName: table,
          Key: { BucketPrefix: 'k' },
          UpdateExpression: 'SET Version = :next',
          ConditionExpression: 'Version = :seen',
          ExpressionAttributeValues: { ':seen': 1, ':next': 2 },
        }),
      );
    } catch (e: unknown) {
      refused = e instanceof ConditionalCheckFailedException;
    }
    check(
      'dynamodb conditional update',
      refused,
      refused ? 'stale version refused' : 'stale update accepted',
    );
  } finally {
    await aws.s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key })).catch(() => undefined);
    await aws.s3
      .send(new PutBucketNotificationConfigurationCommand({ Bucket: bucket, NotificationConfiguration: {} }))
      .catch(() => undefined);
    await aws.s3.send(new DeleteBucketCommand({ Bucket: bucket })).catch(() => undefined);
    if (queueUrl) await aws.sqs.send(new DeleteQueueCommand({ QueueUrl: queueUrl })).catch(() => undefined);
    await aws.dynamodb.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
    sns.destroy();
  }
  return checks;
}
