import { CopyObjectCommand, CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { CreateQueueCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { parseS3EventMessage } from '../../src/core/s3Events.js';
import { wireBucketToQueue } from '../../src/local/notifications.js';
import { radosgwSns } from '../../src/local/smoke.js';
import { readLocalState } from '../../src/local/stack.js';
import { bridgePort, localClients, uniqueName } from './helpers.js';

/** Receive until the queue has stayed empty for one long poll; returns every message body seen. */
async function drain(aws: AwsClients, queueUrl: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!r.Messages?.length) return out;
    out.push(...r.Messages);
  }
}

describe('Function: wireBucketToQueue (radosgw notifications -> bridge -> SQS)', () => {
  const region = 'eu-west-1';
  let aws: AwsClients;
  /** Buckets are created in the stack's default region: radosgw has one zonegroup, regions are labels. */
  let home: AwsClients;
  let sns: SNSClient;

  beforeAll(async () => {
    aws = localClients(region);
    home = localClients();
    const state = await readLocalState(inject('localHome'));
    if (!state) throw new Error('no local stack state');
    sns = radosgwSns(state);
  });
  afterAll(() => {
    aws.destroy();
    home.destroy();
    sns.destroy();
  });

  async function wired(prefix?: string, suffix?: string) {
    const bucket = uniqueName('notify');
    const queueName = uniqueName('notify-q');
    await home.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const wiring = await wireBucketToQueue({
      s3: aws.s3,
      sns,
      sqs: aws.sqs,
      bucket,
      queueName,
      region,
      bridgePort: bridgePort(),
      prefix,
      suffix,
    });
    return { bucket, queueName, queueUrl: QueueUrl ?? '', wiring };
  }

  it('sends one s3:TestEvent at wiring time, and none when re-wired identically', async () => {
    // Prepare / Act
    const { bucket, queueName, queueUrl, wiring } = await wired('in/');
    const again = await wireBucketToQueue({
      s3: aws.s3,
      sns,
      sqs: aws.sqs,
      bucket,
      queueName,
      region,
      bridgePort: bridgePort(),
      prefix: 'in/',
    });
    const messages = await drain(aws, queueUrl);
    // Assess
    expect(wiring.changed).toBe(true);
    expect(again.changed).toBe(false);
    expect(messages).toHaveLength(1);
    expect(JSON.parse(messages[0]?.Body ?? '')).toMatchObject({
      Service: 'Amazon S3',
      Event: 's3:TestEvent',
      Bucket: bucket,
    });
  });

  it('turns one put into exactly one AWS-format event with the key URL-encoded', async () => {
    // Prepare
    const { bucket, queueUrl } = await wired('in/', '.txt');
    await drain(aws, queueUrl); // the test event
    const key = 'in/a b+c%d/ü..//x.txt';
    // Act
    const put = await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'hello' }));
    const messages = await drain(aws, queueUrl);
    // Assess
    expect(messages).toHaveLength(1);
    const body = JSON.parse(messages[0]?.Body ?? '') as { Records: Record<string, unknown>[] };
    expect(body.Records).toHaveLength(1);
    expect(body.Records[0]).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: region,
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
        object: { key: 'in/a+b%2Bc%25d/%C3%BC..//x.txt', size: 5, eTag: put.ETag?.replace(/"/g, '') },
      },
    });
    expect(body.Records[0]?.['eventTime']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    const parsed = parseS3EventMessage(messages[0]?.Body ?? '');
    expect(parsed.kind === 'records' && parsed.events[0]?.key).toBe(key);
  });

  it('applies the prefix and suffix filters', async () => {
    // Prepare
    const { bucket, queueUrl } = await wired('in/', '.csv');
    await drain(aws, queueUrl);
    // Act
    for (const key of ['out/a.csv', 'in/a.txt', 'in/b.csv', 'in/sub/c.csv']) {
      await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: 'x' }));
    }
    const keys = (await drain(aws, queueUrl)).flatMap((m) => {
      const p = parseS3EventMessage(m.Body ?? '');
      return p.kind === 'records' ? p.events.map((e) => e.key) : [];
    });
    // Assess
    expect(keys.sort()).toEqual(['in/b.csv', 'in/sub/c.csv']);
  });

  it('names copies and multipart uploads as AWS does', async () => {
    // Prepare
    const { bucket, queueUrl } = await wired();
    await drain(aws, queueUrl);
    // Act
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'src.bin', Body: 'x' }));
    await aws.s3.send(
      new CopyObjectCommand({ Bucket: bucket, Key: 'copy.bin', CopySource: `${bucket}/src.bin` }),
    );
    await new Upload({
      client: aws.s3,
      params: { Bucket: bucket, Key: 'big.bin', Body: Buffer.alloc(6 * 1024 * 1024, 7) },
      partSize: 5 * 1024 * 1024,
    }).done();
    const events = (await drain(aws, queueUrl)).flatMap((m) => {
      const p = parseS3EventMessage(m.Body ?? '');
      return p.kind === 'records' ? p.events.map((e) => `${e.eventName} ${e.key} ${e.size}`) : [];
    });
    // Assess
    expect(events.sort()).toEqual([
      'ObjectCreated:CompleteMultipartUpload big.bin 6291456',
      'ObjectCreated:Copy copy.bin 1',
      'ObjectCreated:Put src.bin 1',
    ]);
  });
});
