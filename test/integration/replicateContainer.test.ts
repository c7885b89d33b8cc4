import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { localClients, uniqueName } from './helpers.js';
import { cli, provisionConfig, settingsFor } from './replicationHarness.js';

const exec = promisify(execFile);

describe('Container form: workers configured only by environment variables', () => {
  let aws: AwsClients;
  let eu: AwsClients;
  beforeAll(() => {
    aws = localClients();
    eu = localClients('eu-west-1');
  });
  afterAll(() => {
    aws.destroy();
    eu.destroy();
  });

  /** Run the built CLI with only the given variables plus the local stack's endpoints and credentials. */
  const container = (vars: Record<string, string>, ...args: string[]) => {
    const local = inject('localEnv');
    const env: Record<string, string> = {
      PATH: process.env['PATH'] ?? '',
      BALER_NO_LOCAL_ENV: '1',
      BALER_METRICS: 'log',
      LOG_LEVEL: 'warn',
      AWS_ENDPOINT_URL_S3: local['AWS_ENDPOINT_URL_S3'] ?? '',
      AWS_ENDPOINT_URL_SQS: local['AWS_ENDPOINT_URL_SQS'] ?? '',
      AWS_ENDPOINT_URL_DYNAMODB: local['AWS_ENDPOINT_URL_DYNAMODB'] ?? '',
      AWS_ACCESS_KEY_ID: local['AWS_ACCESS_KEY_ID'] ?? '',
      AWS_SECRET_ACCESS_KEY: local['AWS_SECRET_ACCESS_KEY'] ?? '',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      ...vars,
    };
    return exec(process.execPath, [cli, ...args], { env, timeout: 120_000 });
  };

  it('replicates with SQS_QUEUE_URL, BUCKET, MONITORED_PREFIX, STACK_NAME and AWS_DEFAULT_REGION', async () => {
    // Prepare
    const id = uniqueName('e').slice(2);
    const [src, dst] = [`esrc-${id}`, `edst-${id}`];
    const stack = `es-${id}`;
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, prefix_filter: 'in/', max_batch_wait_seconds: 2 },
            destinations: [{ region: 'eu-west-1', bucket: dst, storage_class: 'STANDARD_IA' }],
          },
        ],
      },
      settingsFor(stack, ['eu-west-1']),
    );
    const s = h.topology.sources[0];
    const t = h.topology.targets[0];
    if (!s || !t) throw new Error('topology');
    const sourceQueue =
      (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: s.queueName }))).QueueUrl ?? '';
    const targetQueue =
      (await eu.sqs.send(new GetQueueUrlCommand({ QueueName: t.queueName }))).QueueUrl ?? '';
    await aws.s3.send(
      new PutObjectCommand({ Bucket: src, Key: 'in/a b.txt', Body: 'container '.repeat(100) }),
    );
    // Act
    const source = await container(
      {
        SQS_QUEUE_URL: sourceQueue,
        BUCKET: s.outboundBucket,
        MONITORED_PREFIX: 'in/',
        STACK_NAME: stack,
        AWS_DEFAULT_REGION: 'us-east-1',
        LOG_LEVEL: 'info',
      },
      'source',
      '--until-idle',
      '2',
    );
    const target = await container(
      { SQS_QUEUE_URL: targetQueue, STACK_NAME: stack, AWS_DEFAULT_REGION: 'eu-west-1', LOG_LEVEL: 'info' },
      'target',
      '--until-idle',
      '3',
    );
    // Assess
    expect(JSON.parse(source.stdout)).toMatchObject({ objects: 1, failedBatches: 0 });
    expect(JSON.parse(target.stdout)).toMatchObject({ objects: 1, failed: 0 });
    // Metrics: EMF documents in the log (BALER_METRICS=log), namespace Baler, dimension service only
    const metricNames = (stderr: string, service: string) =>
      stderr
        .split('\n')
        .filter((l) => l.includes('"event":"metrics"'))
        .map(
          (l) =>
            JSON.parse(l) as {
              service: string;
              _aws: {
                CloudWatchMetrics: {
                  Namespace: string;
                  Dimensions: string[][];
                  Metrics: { Name: string }[];
                }[];
              };
            },
        )
        .filter((d) => d.service === service)
        .flatMap((d) =>
          d._aws.CloudWatchMetrics.map((m) => {
            expect(m.Namespace).toBe('Baler');
            expect(m.Dimensions).toEqual([['service']]);
            return m.Metrics.map((x) => x.Name);
          }),
        )
        .flat();
    expect(metricNames(source.stderr, 'source')).toEqual(
      expect.arrayContaining([
        'ObjectSize',
        'CompressionRatio',
        'BytesSaved',
        'CompressionTimeSeconds',
        'TransferSavings',
        'ComputeCost',
        'NetBenefit',
        'BenefitScore',
        'ObjectProcessingTime',
      ]),
    );
    expect(metricNames(target.stderr, 'target')).toEqual(
      expect.arrayContaining([
        'DecompressionRatio',
        'DecompressionTimeSeconds',
        'ProcessingTimeByStage',
        'ObjectRestoreTime',
        'ObjectsProcessed',
      ]),
    );
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: dst, Key: 'in/a b.txt' }));
    expect(got.StorageClass).toBe('STANDARD_IA');
    expect(await got.Body?.transformToString()).toBe('container '.repeat(100));
  });

  it('exits 2 naming the missing variable', async () => {
    const r = await container({ AWS_DEFAULT_REGION: 'us-east-1' }, 'source').then(
      () => ({ code: 0, stderr: '' }),
      (e: unknown) => e as { code: number; stderr: string },
    );
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/SQS_QUEUE_URL is not set/);
  });
});
