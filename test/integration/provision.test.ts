import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand, GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { setTimeout as sleep } from 'node:timers/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { parseConfigPair, type Topology } from '../../src/core/config/index.js';
import { parseS3EventMessage } from '../../src/core/s3Events.js';
import { createLogger } from '../../src/core/logger.js';
import { provision } from '../../src/local/provision.js';
import { provisionClients } from '../../src/local/clients.js';
import { readLocalState, type LocalState } from '../../src/local/stack.js';
import { uniqueName } from './helpers.js';

describe('Function: provision (local up --config --settings)', () => {
  let state: LocalState;
  let clients: ReturnType<typeof provisionClients>;
  let t: Topology;
  const id = uniqueName('p').slice(2);
  const src = `src-${id}`;

  beforeAll(async () => {
    const s = await readLocalState(inject('localHome'));
    if (!s) throw new Error('no local stack');
    state = s;
    clients = provisionClients(state);
    const loaded = parseConfigPair(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, prefix_filter: 'logs/', suffix_filter: '.json' },
            destinations: [
              { region: 'eu-west-1', bucket: `dst-eu-${id}` },
              { region: 'ap-southeast-2', bucket: `dst-ap-${id}`, storage_class: 'STANDARD_IA' },
            ],
          },
        ],
      },
      {
        stack_name: `st-${id}`,
        enabled_regions: [
          { region: 'us-east-1', source_target: ['source'] },
          { region: 'eu-west-1', source_target: ['target'] },
          { region: 'ap-southeast-2', source_target: ['target'] },
        ],
      },
    );
    const args = {
      clients,
      loaded,
      region: state.region,
      bridgePort: state.ports.bridge,
      rulesFile: path.join(inject('localHome'), 'local', 'replication-rules.json'),
      log: createLogger({ level: 'warn' }),
    };
    t = await provision(args);
    await provision(args); // idempotent
  });
  afterAll(() => {
    clients.destroy();
  });

  async function receiveAll(region: string, queueName: string, waitMs = 4_000): Promise<string[]> {
    const sqs = clients.sqsFor(region);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
    const out: string[] = [];
    const deadline = Date.now() + waitMs;
    while (Date.now() < deadline) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      out.push(...(r.Messages ?? []).map((m) => m.Body ?? ''));
    }
    return out;
  }

  it('creates queues with a DLQ redrive and the tables', async () => {
    // Act
    const sqs = clients.sqsFor('us-east-1');
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: t.sources[0]?.queueName }));
    const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['All'] }));
    const tables = await Promise.all(
      t.tables.map((x) => clients.dynamodb.send(new DescribeTableCommand({ TableName: x.name }))),
    );
    // Assess
    expect(JSON.parse(attrs.Attributes?.['RedrivePolicy'] ?? '{}')).toMatchObject({
      maxReceiveCount: 5,
      deadLetterTargetArn: expect.stringContaining(t.sources[0]?.dlqName ?? '?') as unknown,
    });
    expect(attrs.Attributes?.['VisibilityTimeout']).toBe('300');
    expect(tables.map((x) => x.Table?.KeySchema?.[0]?.AttributeName)).toEqual([
      'BucketPrefix',
      'ParameterName',
    ]);
  });

  it('sends source events by the prefix/suffix filters, in the source region', async () => {
    // Act
    for (const key of ['logs/a b.json', 'logs/a.txt', 'other/c.json']) {
      await clients.s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: '{}' }));
    }
    const keys = (await receiveAll('us-east-1', t.sources[0]?.queueName ?? '')).flatMap((b) => {
      const p = parseS3EventMessage(b);
      return p.kind === 'records' ? p.events.map((e) => `${e.region} ${e.key}`) : [];
    });
    // Assess
    expect(keys).toEqual(['us-east-1 logs/a b.json']);
  });

  it('replicates outbound archives to the inbound bucket of each destination region, which notifies its target queue', async () => {
    // Prepare
    const s = t.sources[0];
    if (!s) throw new Error('no source');
    const key = `${s.archivePrefix}archive-1.tar.zst`;
    // Act
    await clients.s3.send(
      new PutObjectCommand({ Bucket: s.outboundBucket, Key: key, Body: 'archive bytes' }),
    );
    const copies: string[] = [];
    for (const target of t.targets) {
      for (let i = 0; i < 50; i++) {
        const got = await clients.s3
          .send(new GetObjectCommand({ Bucket: target.inboundBucket, Key: key }))
          .then(
            (r) => r.Body?.transformToString(),
            () => undefined,
          );
        if (got !== undefined) {
          copies.push(got);
          break;
        }
        await sleep(200);
      }
    }
    const eu = (
      await receiveAll('eu-west-1', t.targets.find((x) => x.region === 'eu-west-1')?.queueName ?? '', 2_000)
    ).flatMap((b) => {
      const p = parseS3EventMessage(b);
      return p.kind === 'records' ? p.events.map((e) => `${e.region} ${e.bucket} ${e.key}`) : [];
    });
    // Assess
    expect(copies).toEqual(['archive bytes', 'archive bytes']);
    expect(eu).toContain(
      `eu-west-1 ${t.targets.find((x) => x.region === 'eu-west-1')?.inboundBucket} ${key}`,
    );
  });
});
