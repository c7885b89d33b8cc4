import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import type { SNSClient } from '@aws-sdk/client-sns';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { Queue } from '../../src/core/sqsQueue.js';
import { buildObjectCreatedRecord } from '../../src/core/s3Events.js';
import { Converter, runQueueWorker } from '../../src/convert/index.js';
import { handler } from '../../src/lambda/convert.js';
import { wireBucketToQueue } from '../../src/local/notifications.js';
import { radosgwSns } from '../../src/local/smoke.js';
import { readLocalState } from '../../src/local/stack.js';
import { listKeys, put, quietLog, readAvro, readParquet } from './convertHelpers.js';
import { bridgePort, localClients, uniqueName } from './helpers.js';

describe('Function: runQueueWorker (real bucket notifications through the bridge)', () => {
  const region = 'us-east-1';
  let aws: AwsClients;
  let sns: SNSClient;

  beforeAll(async () => {
    aws = localClients(region);
    const state = await readLocalState(inject('localHome'));
    if (!state) throw new Error('no local stack state');
    sns = radosgwSns(state);
  });
  afterAll(() => {
    aws.destroy();
    sns.destroy();
  });

  it('converts the CSV objects of ObjectCreated events, deletes their messages, ignores its own outputs', async () => {
    // Prepare: one bucket for input and output; every object created in it is notified (outputs too).
    const bucket = uniqueName('conv-q');
    const queueName = uniqueName('conv-q');
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    const queueUrl = QueueUrl ?? '';
    await wireBucketToQueue({
      s3: aws.s3,
      sns,
      sqs: aws.sqs,
      bucket,
      queueName,
      region,
      bridgePort: bridgePort(),
    });
    await put(aws.s3, bucket, 'landing/day 1/a+b ü.csv', 'k,v\n1,x\n2,y\n3\n');
    await put(aws.s3, bucket, 'landing/readme.txt', 'not a csv');
    const converter = await Converter.open({
      s3: aws.s3,
      location: {
        inputBucket: bucket,
        inputFolder: 'landing/',
        outputBucket: bucket,
        outputFolder: 'landing/out/',
      },
      log: quietLog,
      maxRejectRatio: 0.5,
      avroThreads: 1,
    });
    const queue = new Queue({ sqs: aws.sqs, queueUrl, visibilityTimeoutSec: 30, log: quietLog });
    // Act: until idle (the outputs' own events arrive while it runs and must be skipped)
    const report = await runQueueWorker(
      { queue, converter, log: quietLog, pollWaitSec: 1 },
      new AbortController().signal,
      3,
    );
    await converter.close();
    // Assess
    expect(report.stats).toMatchObject({ converted: 1, failed: 0, rows: 2, rejected: 1 });
    expect(report.messagesLeft).toBe(0);
    expect(report.messagesDeleted).toBeGreaterThanOrEqual(5); // test event, 2 inputs, 3 outputs (rejects too)
    expect(await listKeys(aws.s3, bucket, 'landing/out/')).toEqual([
      'landing/out/_rejects/day 1/a+b ü.csv',
      'landing/out/day 1/a+b ü.avro',
      'landing/out/day 1/a+b ü.parquet',
    ]);
    const pq = await readParquet(aws.s3, bucket, 'landing/out/day 1/a+b ü.parquet', 'k');
    expect(pq.rows).toEqual([
      { k: 1n, v: 'x' },
      { k: 2n, v: 'y' },
    ]);
    const attrs = await aws.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    expect(attrs.Attributes?.['ApproximateNumberOfMessages']).toBe('0');
    expect(attrs.Attributes?.['ApproximateNumberOfMessagesNotVisible']).toBe('0');
  });

  it('leaves the message of a file that failed for a retry', async () => {
    // Prepare
    const bucket = uniqueName('conv-q-fail');
    const queueName = uniqueName('conv-q-fail');
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const { QueueUrl } = await aws.sqs.send(new CreateQueueCommand({ QueueName: queueName }));
    await wireBucketToQueue({
      s3: aws.s3,
      sns,
      sqs: aws.sqs,
      bucket,
      queueName,
      region,
      bridgePort: bridgePort(),
    });
    await put(aws.s3, bucket, 'in/bad.csv.gz', 'not gzip');
    const converter = await Converter.open({
      s3: aws.s3,
      location: { inputBucket: bucket, inputFolder: 'in/', outputBucket: bucket, outputFolder: 'out/' },
      log: quietLog,
      formats: ['parquet'],
    });
    const queue = new Queue({
      sqs: aws.sqs,
      queueUrl: QueueUrl ?? '',
      visibilityTimeoutSec: 30,
      log: quietLog,
    });
    // Act
    const report = await runQueueWorker(
      { queue, converter, log: quietLog, pollWaitSec: 1 },
      new AbortController().signal,
      2,
    );
    await converter.close();
    // Assess
    expect(report.stats).toMatchObject({ converted: 0, failed: 1 });
    expect(report.messagesLeft).toBe(1);
    expect(report.messagesDeleted).toBe(1); // the test event
  });
});

describe('Function: handler (the Lambda, three event shapes)', () => {
  let aws: AwsClients;
  let bucket: string;
  let out: string;
  const saved = { ...process.env };

  beforeAll(async () => {
    aws = localClients();
    bucket = uniqueName('conv-lambda');
    out = uniqueName('conv-lambda-out');
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: out }));
    await put(aws.s3, bucket, 'daily/a.csv', 'x,when\n1,2024-05-01 12:00:00\n');
    await put(
      aws.s3,
      bucket,
      'daily/sub/b c.csv.gz',
      Buffer.from('1f8b08000000000000034be432e402000024c18904000000', 'hex'),
    );
    await put(aws.s3, bucket, 'other/c.csv', 'y\ntrue\n');
    Object.assign(process.env, inject('localEnv'), {
      INPUT_BUCKET: bucket,
      OUTPUT_BUCKET: out,
      PREFIX: 'daily',
      MAX_WORKERS: '2',
      LOG_LEVEL: 'silent',
    });
  });
  afterAll(() => {
    process.env = saved;
    aws.destroy();
  });

  it('an S3 event notification converts the objects it names (keys decoded)', async () => {
    // Act
    const record = buildObjectCreatedRecord({
      eventName: 'ObjectCreated:Put',
      bucket,
      key: 'daily/sub/b c.csv.gz',
      size: 24,
      eTag: 'e',
      region: 'us-east-1',
      eventTime: new Date(),
      sequencer: '01',
    });
    const r = await handler({ Records: [record] });
    // Assess
    expect(r.stats).toMatchObject({ files: 1, converted: 1, failed: 0, rows: 1 });
    expect(r.files[0]?.outputs).toEqual({
      parquet: `s3://${out}/sub/b c.parquet`,
      avro: `s3://${out}/sub/b c.avro`,
    });
    const av = await readAvro(aws.s3, out, 'sub/b c.avro');
    expect(av.records).toEqual([{ a: 1 }]);
  });

  it('an EventBridge scheduled event converts everything under INPUT_BUCKET/PREFIX', async () => {
    // Act
    const r = await handler({
      version: '0',
      id: 'x',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: new Date().toISOString(),
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/convert'],
      detail: {},
    });
    // Assess
    expect(r.stats).toMatchObject({ files: 2, converted: 2, failed: 0, rows: 2 });
    const pq = await readParquet(aws.s3, out, 'a.parquet');
    expect(pq.types).toEqual({ x: 'BIGINT', when: 'TIMESTAMP' });
    const av = await readAvro(aws.s3, out, 'a.avro');
    expect(av.records).toEqual([{ x: 1, when: Date.UTC(2024, 4, 1, 12) }]);
  });

  it('a direct invocation {bucket, prefix} converts that prefix', async () => {
    // Act
    const r = await handler({ bucket, prefix: 'other/' });
    // Assess
    expect(r.stats).toMatchObject({ files: 1, converted: 1 });
    expect(r.files[0]?.outputs.parquet).toBe(`s3://${out}/c.parquet`);
    await expect(handler({ nonsense: true })).rejects.toThrow(/expected an S3 event notification/);
  });
});
