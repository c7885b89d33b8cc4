import { readFile, writeFile } from 'node:fs/promises';
import { CreateBucketCommand, type S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { CreateTableCommand, ResourceInUseException, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SNSClient } from '@aws-sdk/client-sns';
import type { Logger } from '../core/logger.js';
import type { LoadedConfig, ReplicationRule, Topology } from '../core/config/index.js';
import { LOCAL_ACCOUNT_ID, REPLICATION_PARAMETERS_TABLE, topology } from '../core/config/index.js';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ParameterStore, parametersItem } from '../replicate/parameters.js';
import { wireBucketToQueue } from './notifications.js';
import { provisionClients } from './clients.js';
import { localPaths, type LocalState } from './stack.js';

/** Internal queue of the replication emulator: outbound bucket events land here. */
export const LOCAL_REPLICATION_QUEUE = 'baler-local-replication';

export interface ProvisionClients {
  /** radosgw S3 (default region: one zonegroup). */
  readonly s3: S3Client;
  /** radosgw topics API. */
  readonly sns: SNSClient;
  readonly dynamodb: DynamoDBClient;
  /** SQS client signing for a region (fauxqs keeps queues per region). */
  sqsFor(region: string): SQSClient;
}

export interface ProvisionOptions {
  readonly clients: ProvisionClients;
  readonly loaded: LoadedConfig;
  /** Default region of the stack (where the emulator's internal queue lives). */
  readonly region: string;
  readonly bridgePort: number;
  /** File the replication emulator reads its rules from. */
  readonly rulesFile: string;
  readonly log: Logger;
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e: unknown) {
    const name = (e as { name?: string }).name;
    if (name !== 'BucketAlreadyOwnedByYou' && name !== 'BucketAlreadyExists') throw e;
  }
}

async function ensureQueue(
  sqs: SQSClient,
  name: string,
  attributes: Record<string, string>,
): Promise<{ url: string; arn: string }> {
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
  if (!QueueUrl) throw new Error(`no URL for queue ${name}`);
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
  return { url: QueueUrl, arn: attrs.Attributes?.['QueueArn'] ?? '' };
}

/** A queue with its dead-letter queue (redrive after `maxReceiveCount` deliveries). */
async function ensureQueueWithDlq(
  sqs: SQSClient,
  name: string,
  dlqName: string,
  visibilityTimeoutSec: number,
  maxReceiveCount: number,
): Promise<string> {
  const dlq = await ensureQueue(sqs, dlqName, { MessageRetentionPeriod: String(14 * 24 * 3600) });
  const q = await ensureQueue(sqs, name, {
    VisibilityTimeout: String(visibilityTimeoutSec),
    RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlq.arn, maxReceiveCount }),
  });
  return q.url;
}

/** Create a pay-per-request table with a string partition key `key`, unless it exists. */
export async function ensureTable(dynamodb: DynamoDBClient, name: string, key: string): Promise<void> {
  try {
    await dynamodb.send(
      new CreateTableCommand({
        TableName: name,
        AttributeDefinitions: [{ AttributeName: key, AttributeType: 'S' }],
        KeySchema: [{ AttributeName: key, KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
      }),
    );
  } catch (e: unknown) {
    if (!(e instanceof ResourceInUseException)) throw e;
  }
}

/**
 * Provision everything a configuration implies on the local stack, by the same naming rules as the CDK
 * app ({@link topology}): staging, source and destination buckets; source and target queues with DLQs; the two
 * tables and one `replication-parameters` item per source; notifications with the sources' prefix/suffix filters; and the outbound -> inbound replication
 * rules, which the services process applies (see `replicationEmulator.ts`). Idempotent.
 */
export async function provision(o: ProvisionOptions): Promise<Topology> {
  const t = topology(o.loaded, LOCAL_ACCOUNT_ID);
  const { s3, sns, dynamodb } = o.clients;
  const buckets = new Set<string>([
    ...t.sources.map((s) => s.outboundBucket),
    ...t.sources.map((s) => s.source.bucket),
    ...t.targets.map((x) => x.inboundBucket),
    ...t.destinationBuckets.map((d) => d.bucket),
  ]);
  for (const b of buckets) await ensureBucket(s3, b);
  for (const table of t.tables) await ensureTable(dynamodb, table.name, table.key);
  // What the container form of the workers reads instead of the config files.
  const parameters = new ParameterStore(DynamoDBDocumentClient.from(dynamodb), REPLICATION_PARAMETERS_TABLE);
  for (const s of t.sources) await parameters.put(parametersItem(s));
  for (const s of t.sources) {
    const sqs = o.clients.sqsFor(s.source.region);
    await ensureQueueWithDlq(sqs, s.queueName, s.dlqName, s.source.visibilityTimeoutSec, t.maxReceiveCount);
    await wireBucketToQueue({
      s3,
      sns,
      sqs,
      bucket: s.source.bucket,
      queueName: s.queueName,
      region: s.source.region,
      bridgePort: o.bridgePort,
      prefix: s.source.prefixFilter || undefined,
      suffix: s.source.suffixFilter || undefined,
    });
  }
  for (const target of t.targets) {
    const sqs = o.clients.sqsFor(target.region);
    await ensureQueueWithDlq(sqs, target.queueName, target.dlqName, 300, t.maxReceiveCount);
    await wireBucketToQueue({
      s3,
      sns,
      sqs,
      bucket: target.inboundBucket,
      queueName: target.queueName,
      region: target.region,
      bridgePort: o.bridgePort,
      prefix: target.notificationPrefix,
      suffix: target.notificationSuffix,
    });
  }
  const home = o.clients.sqsFor(o.region);
  await ensureQueueWithDlq(
    home,
    LOCAL_REPLICATION_QUEUE,
    `${LOCAL_REPLICATION_QUEUE}-dlq`,
    120,
    t.maxReceiveCount,
  );
  for (const outbound of new Set(t.sources.map((s) => s.outboundBucket))) {
    await wireBucketToQueue({
      s3,
      sns,
      sqs: home,
      bucket: outbound,
      queueName: LOCAL_REPLICATION_QUEUE,
      region: o.region,
      bridgePort: o.bridgePort,
      prefix: 'outbound/',
    });
  }
  // Several configurations may be provisioned on one stack: keep the rules of other outbound buckets.
  const mine = new Set(t.replicationRules.map((r) => r.outboundBucket));
  let previous: ReplicationRule[] = [];
  try {
    previous = (JSON.parse(await readFile(o.rulesFile, 'utf8')) as { rules: ReplicationRule[] }).rules;
  } catch {
    previous = [];
  }
  const rules = [...previous.filter((r) => !mine.has(r.outboundBucket)), ...t.replicationRules];
  await writeFile(o.rulesFile, JSON.stringify({ rules }, null, 2) + '\n');
  o.log.info(
    {
      event: 'provisioned',
      buckets: buckets.size,
      sourceQueues: t.sources.length,
      targetQueues: t.targets.length,
      rules: t.replicationRules.length,
    },
    'provisioned the configuration on the local stack',
  );
  return t;
}

/**
 * {@link provision} on the running local stack of `home`: builds the clients from its state and the rules file
 * path, and closes the clients afterwards. What `local up --config`, the demo and the tests call.
 */
export async function provisionLocal(
  home: string,
  state: LocalState,
  loaded: LoadedConfig,
  log: Logger,
): Promise<Topology> {
  const clients = provisionClients(state);
  try {
    return await provision({
      clients,
      loaded,
      region: state.region,
      bridgePort: state.ports.bridge,
      rulesFile: localPaths(home).replicationRules,
      log,
    });
  } finally {
    clients.destroy();
  }
}
