/**
 * The acceptance check that one configuration drives both `baler local up` and `cdk synth` and that they name
 * the same things: run the local stack's real provisioning (`provision()`, what `local up --config` calls) against
 * recording SDK clients, synthesize the app for the local account, and compare buckets, queues, tables,
 * notifications, replication rules and replication-parameters items.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SNSClient } from '@aws-sdk/client-sns';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';

import { LOCAL_ACCOUNT_ID, loadConfigFiles, type ReplicationRule } from '../../src/core/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { LOCAL_REPLICATION_QUEUE, provision } from '../../src/local/provision.js';
import { marshall } from '../../infra/lib/stacks/TablesStack.js';
import { flat, REPO_ROOT, resourcesOf, synth, templates } from './helpers.js';

interface Call {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** What the fake services answer: just enough for provisioning to go on. */
function reply(command: string, input: Record<string, unknown>): Record<string, unknown> {
  const name = (url: unknown) => String(url).split('/').pop() ?? '';
  switch (command) {
    case 'CreateQueueCommand':
      return { QueueUrl: `http://sqs.local/${LOCAL_ACCOUNT_ID}/${String(input['QueueName'])}` };
    case 'GetQueueUrlCommand':
      return { QueueUrl: `http://sqs.local/${LOCAL_ACCOUNT_ID}/${String(input['QueueName'])}` };
    case 'GetQueueAttributesCommand':
      return { Attributes: { QueueArn: `arn:aws:sqs:local:${LOCAL_ACCOUNT_ID}:${name(input['QueueUrl'])}` } };
    case 'CreateTopicCommand':
      return { TopicArn: `arn:aws:sns:local:${LOCAL_ACCOUNT_ID}:${String(input['Name'])}` };
    default:
      return {};
  }
}

/** An SDK client whose every call is recorded and answered by {@link reply}, before anything is sent. */
function recording<C extends S3Client | SQSClient | SNSClient | DynamoDBClient>(client: C, calls: Call[]): C {
  (client.middlewareStack as S3Client['middlewareStack']).add(
    (_next, context) => (args) => {
      const command = String(context.commandName);
      const input = (args as { input: Record<string, unknown> }).input;
      calls.push({ command, input });
      return Promise.resolve({ output: { $metadata: {}, ...reply(command, input) }, response: {} });
    },
    { step: 'initialize', name: 'balerRecorder', priority: 'high' },
  );
  return client;
}

const config = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
};
let calls: Call[];
let rules: ReplicationRule[];
let all: Map<string, Template>;

beforeAll(async () => {
  const loaded = await loadConfigFiles(
    path.join(REPO_ROOT, 'examples/replication_config.json'),
    path.join(REPO_ROOT, 'examples/settings.json'),
  );
  calls = [];
  const rulesFile = path.join(mkdtempSync(path.join(tmpdir(), 'baler-parity-')), 'rules.json');
  await provision({
    clients: {
      s3: recording(new S3Client(config), calls),
      sns: recording(new SNSClient(config), calls),
      dynamodb: recording(new DynamoDBClient(config), calls),
      sqsFor: (region) => recording(new SQSClient({ ...config, region }), calls),
    },
    loaded,
    region: 'us-east-1',
    bridgePort: 7490,
    rulesFile,
    log: createLogger({ level: 'silent' }),
  });
  rules = (JSON.parse(readFileSync(rulesFile, 'utf8')) as { rules: ReplicationRule[] }).rules;
  all = templates(await synth('examples', LOCAL_ACCOUNT_ID));
});

const inputs = (command: string) => calls.filter((c) => c.command === command).map((c) => c.input);

describe('baler local up and cdk synth, same configuration', () => {
  it('create the same staging buckets; local up also makes the source and destination buckets AWS already has', () => {
    const local = new Set(inputs('CreateBucketCommand').map((i) => String(i['Bucket'])));
    const cdk = resourcesOf(all, 'AWS::S3::Bucket')
      .map((b) => b.props['BucketName'])
      .filter((n): n is string => typeof n === 'string');
    expect(new Set(cdk)).toEqual(new Set([...local].filter((b) => /-(outbound|inbound)$/.test(b))));
    expect(cdk).toContain('baler-example-000000000000-us-east-1-outbound');
    // The others are the configuration's own buckets, which the app only references.
    expect([...local].filter((b) => !/-(outbound|inbound)$/.test(b)).sort()).toEqual(
      [
        'example-analytics-raw',
        'example-media-uploads',
        'example-analytics-raw-eu',
        'example-analytics-archive-ap',
        'example-media-uploads-eu',
      ].sort(),
    );
  });

  it('create the same queues and dead-letter queues, with the same receive count and visibility', () => {
    const local = inputs('CreateQueueCommand')
      .filter((i) => !String(i['QueueName']).startsWith(LOCAL_REPLICATION_QUEUE))
      .map((i) => {
        const attrs = i['Attributes'] as Record<string, string>;
        const redrive = attrs['RedrivePolicy']
          ? (JSON.parse(attrs['RedrivePolicy']) as { maxReceiveCount: number })
          : undefined;
        return [
          String(i['QueueName']),
          redrive?.maxReceiveCount,
          attrs['VisibilityTimeout'] ?? null,
        ] as const;
      });
    const cdk = resourcesOf(all, 'AWS::SQS::Queue').map((q) => {
      const redrive = q.props['RedrivePolicy'] as { maxReceiveCount: number } | undefined;
      const visibility = q.props['VisibilityTimeout'] as number | undefined;
      return [
        String(q.props['QueueName']),
        redrive?.maxReceiveCount,
        visibility === undefined ? null : String(visibility),
      ] as const;
    });
    const byName = (a: readonly (readonly [string, unknown, unknown])[]) =>
      [...a].sort((x, y) => x[0].localeCompare(y[0]));
    expect(byName(cdk)).toEqual(byName(local));
  });

  it('create the same tables with the same keys', () => {
    const local = inputs('CreateTableCommand').map((i) => [
      i['TableName'],
      (i['KeySchema'] as { AttributeName: string }[])[0]?.AttributeName,
    ]);
    const cdk = resourcesOf(all, 'AWS::DynamoDB::GlobalTable').map((t) => [
      t.props['TableName'],
      (t.props['KeySchema'] as { AttributeName: string }[])[0]?.AttributeName,
    ]);
    expect(cdk).toEqual(local);
  });

  it('write the same replication-parameters items', () => {
    // The document client's PutCommand arrives as PutItem, marshalled or not depending on middleware order.
    const local = inputs('PutItemCommand').map((i) => {
      const item = i['Item'] as Record<string, unknown>;
      return typeof item['ParameterName'] === 'string' ? marshall(item) : item;
    });
    const cdk = resourcesOf(all, 'Custom::BalerReplicationParameters').map(
      (c) => (JSON.parse(flat(c.props['Create'])) as { parameters: { Item: unknown } }).parameters.Item,
    );
    expect(cdk).toEqual(local);
    expect(local).toHaveLength(2);
  });

  it('notify the same queues from the same buckets with the same key filters', () => {
    const local = inputs('PutBucketNotificationConfigurationCommand')
      .map((i) => {
        const cfg = (i['NotificationConfiguration'] as { TopicConfigurations: Record<string, unknown>[] })
          .TopicConfigurations;
        return cfg.map((t) => ({
          bucket: String(i['Bucket']),
          // The local topic is named after its queue: baler-{region}-{queue}.
          queue: String(t['TopicArn']).replace(/^.*:baler-[a-z0-9-]+?-\d-/, ''),
          rules: (
            (t['Filter'] as { Key: { FilterRules: { Name: string; Value: string }[] } } | undefined)?.Key
              .FilterRules ?? []
          )
            .map((r) => `${r.Name}=${r.Value}`)
            .sort(),
        }));
      })
      .flat()
      .filter((n) => n.queue !== LOCAL_REPLICATION_QUEUE); // the replication emulator's own feed
    const queueNames = new Map(
      resourcesOf(all, 'AWS::SQS::Queue').map((q) => [`${q.stack}/${q.id}`, String(q.props['QueueName'])]),
    );
    const cdk = resourcesOf(all, 'Custom::S3BucketNotifications').flatMap((n) => {
      const cfg = n.props['NotificationConfiguration'] as {
        QueueConfigurations: {
          QueueArn: unknown;
          Filter?: { Key: { FilterRules: { Name: string; Value: string }[] } };
        }[];
      };
      const bucket = flat(n.props['BucketName']);
      return cfg.QueueConfigurations.map((q) => ({
        bucket: bucket.startsWith('[Ref Inbound')
          ? `baler-example-000000000000-${n.stack.replace('baler-example-', '')}-inbound`
          : bucket,
        queue: queueNames.get(`${n.stack}/${flat(q.QueueArn).replace(/^\[GetAtt (\w+)\.Arn\]$/, '$1')}`),
        rules: (q.Filter?.Key.FilterRules ?? []).map((r) => `${r.Name}=${r.Value}`).sort(),
      }));
    });
    expect(local).toHaveLength(4); // two sources, two inbound buckets
    const key = (n: { bucket: string }) => n.bucket;
    expect([...cdk].sort((a, b) => key(a).localeCompare(key(b)))).toEqual(
      [...local].sort((a, b) => key(a).localeCompare(key(b))),
    );
  });

  it('replicate by the same rules: ids, priorities, prefixes, buckets', () => {
    const cdk = resourcesOf(all, 'AWS::S3::Bucket').flatMap((b) => {
      const cfg = b.props['ReplicationConfiguration'] as { Rules: Record<string, unknown>[] } | undefined;
      return (cfg?.Rules ?? []).map((r) => ({
        id: r['Id'],
        priority: r['Priority'],
        outboundBucket: b.props['BucketName'],
        prefix: (r['Filter'] as { Prefix: string }).Prefix,
        inboundBucket: (r['Destination'] as { Bucket: string }).Bucket.replace('arn:aws:s3:::', ''),
      }));
    });
    expect(cdk).toEqual(
      rules.map((r) => ({
        id: r.id,
        priority: r.priority,
        outboundBucket: r.outboundBucket,
        prefix: r.prefix,
        inboundBucket: r.inboundBucket,
      })),
    );
    expect(cdk).toHaveLength(3);
  });
});
