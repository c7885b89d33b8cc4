import { mkdir, writeFile, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import path from 'node:path';
import { createRequire } from 'node:module';
import { SQSClient } from '@aws-sdk/client-sqs';
import { S3Client } from '@aws-sdk/client-s3';
import { startFauxqs } from 'fauxqs';
import type { Logger } from '../core/logger.js';
import { baseClientConfig, resolveAwsSettings, s3ClientConfig } from '../core/awsClients.js';
import { runReplicationEmulator } from './replicationEmulator.js';
import { startBridge } from './bridge.js';

export interface ServicesOptions {
  /** State directory (`.baler/local`). */
  readonly dir: string;
  readonly sqsPort: number;
  readonly dynamodbPort: number;
  readonly bridgePort: number;
  /** radosgw port, for the replication emulator's copies. */
  readonly s3Port: number;
  /** Default region of the stack (where the emulator's queue lives). */
  readonly region: string;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly log: Logger;
}

interface Dynalite {
  listen(port: number, host: string, cb: (err?: Error) => void): void;
  close(cb: () => void): void;
}
type DynaliteFactory = (opts: Record<string, unknown>) => Dynalite;

/**
 * Run the Node-hosted part of the local stack in this process until SIGTERM/SIGINT: fauxqs (SQS), dynalite
 * (DynamoDB, data kept under `dir/dynamodb`) and the radosgw -> SQS notification bridge. `baler local up`
 * starts this as a detached process (`baler local services`) with a pid file.
 */
export async function runServices(o: ServicesOptions): Promise<void> {
  await mkdir(o.dir, { recursive: true });
  const sqs = await startFauxqs({ port: o.sqsPort, host: '127.0.0.1', logger: false });
  const require = createRequire(import.meta.url);
  const dynalite = (require('dynalite') as DynaliteFactory)({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    path: path.join(o.dir, 'dynamodb'),
  });
  await new Promise<void>((resolve, reject) => {
    dynalite.listen(o.dynamodbPort, '127.0.0.1', (err) => {
      if (err) reject(err);
      else resolve();
    });
  });
  const settings = resolveAwsSettings({ AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${o.sqsPort}` });
  const clients = new Map<string, SQSClient>();
  const sqsFor = (region: string): SQSClient => {
    let c = clients.get(region);
    if (!c) {
      c = new SQSClient({
        ...baseClientConfig({ ...settings, region }, 'sqs'),
        credentials: { accessKeyId: o.accessKey, secretAccessKey: o.secretKey },
      });
      clients.set(region, c);
    }
    return c;
  };
  const bridge: Server = await startBridge({ port: o.bridgePort, sqsFor, log: o.log });
  const credentials = { accessKeyId: o.accessKey, secretAccessKey: o.secretKey };
  const s3 = new S3Client({
    ...s3ClientConfig(
      resolveAwsSettings({ AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${o.s3Port}` }, { region: o.region }),
    ),
    credentials,
  });
  const stop = new AbortController();
  const emulator = runReplicationEmulator({
    s3,
    sqs: sqsFor(o.region),
    rulesFile: path.join(o.dir, 'replication-rules.json'),
    log: o.log,
    signal: stop.signal,
  });
  const pidFile = path.join(o.dir, 'services.pid');
  await writeFile(pidFile, `${process.pid}\n`);
  o.log.info(
    { event: 'services_ready', sqsPort: o.sqsPort, dynamodbPort: o.dynamodbPort, bridgePort: o.bridgePort },
    'local services ready',
  );
  await new Promise<void>((resolve) => {
    process.once('SIGTERM', resolve);
    process.once('SIGINT', resolve);
  });
  o.log.info({ event: 'services_stopping' }, 'local services stopping');
  stop.abort();
  await emulator;
  s3.destroy();
  await new Promise<void>((resolve) =>
    bridge.close(() => {
      resolve();
    }),
  );
  await sqs.stop();
  await new Promise<void>((resolve) => {
    dynalite.close(resolve);
  });
  for (const c of clients.values()) c.destroy();
  await rm(pidFile, { force: true });
}
