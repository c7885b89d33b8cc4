import { createHash, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { objectEntryName } from '../../src/archive/index.js';
import {
  buildManifest,
  buildRawArchive,
  flipByte,
  packToBuffer,
  validEntries,
} from '../fixtures/archive/index.js';
import { localClients, uniqueName } from './helpers.js';
import { provisionConfig, settingsFor } from './replicationHarness.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function countMessages(aws: AwsClients, queueName: string): Promise<number> {
  const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }));
  let n = 0;
  for (;;) {
    const r = await aws.sqs.send(
      new ReceiveMessageCommand({ QueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (!r.Messages?.length) return n;
    n += r.Messages.length;
  }
}

async function keys(aws: AwsClients, bucket: string): Promise<string[]> {
  const r = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (r.Contents ?? []).map((c) => c.Key ?? '');
}

describe('Replication faults', () => {
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

  it('skips and counts an object deleted before the source reads it', async () => {
    // Prepare
    const id = uniqueName('f').slice(2);
    const [src, dst] = [`fsrc-${id}`, `fdst-${id}`];
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`fs-${id}`, ['eu-west-1']),
    );
    await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: 'gone.txt', Body: 'soon deleted' }));
    await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: 'kept.txt', Body: 'kept' }));
    await aws.s3.send(new DeleteObjectCommand({ Bucket: src, Key: 'gone.txt' }));
    // Act
    const source = JSON.parse((await h.baler('source', '--all', '--until-idle', '2')).stdout) as Record<
      string,
      number
    >;
    const target = JSON.parse(
      (await h.baler('target', '--region', 'eu-west-1', '--until-idle', '3')).stdout,
    ) as Record<string, number>;
    // Assess
    expect(source).toMatchObject({ objects: 1, skipped: 1, failedBatches: 0 });
    expect(target).toMatchObject({ objects: 1, failed: 0 });
    expect(await keys(aws, dst)).toEqual(['kept.txt']);
    expect(await countMessages(aws, h.topology.sources[0]?.queueName ?? '')).toBe(0);
  });

  it('retries an upload that failed, and then delivers', async () => {
    // Prepare: the outbound bucket is missing, so the archive upload fails
    const id = uniqueName('u').slice(2);
    const [src, dst] = [`usrc-${id}`, `udst-${id}`];
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`us-${id}`, ['eu-west-1']),
    );
    const outbound = h.topology.sources[0]?.outboundBucket ?? '';
    await aws.s3.send(new DeleteBucketCommand({ Bucket: outbound }));
    await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: 'a.txt', Body: 'retry me' }));
    // Act
    const failed = await h.balerCode('source', '--all', '--until-idle', '2', '--retry-delay', '4');
    await aws.s3.send(new CreateBucketCommand({ Bucket: outbound }));
    // The bucket is new: wire its notification again (provisioning is idempotent).
    const again = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`us-${id}`, ['eu-west-1']),
    );
    const retried = JSON.parse((await again.baler('source', '--all', '--until-idle', '8')).stdout) as Record<
      string,
      number
    >;
    await again.baler('target', '--region', 'eu-west-1', '--until-idle', '3');
    // Assess
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ failedBatches: 1, objects: 0 });
    expect(retried).toMatchObject({ objects: 1, failedBatches: 0 });
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: dst, Key: 'a.txt' }));
    expect(await got.Body?.transformToString()).toBe('retry me');
  });

  it('writes nothing from corrupt or tampered archives and dead-letters them', async () => {
    // Prepare
    const id = uniqueName('c').slice(2);
    const [src, dst] = [`csrc-${id}`, `cdst-${id}`];
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, prefix_filter: 'data/' },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`cs-${id}`, ['eu-west-1']),
    );
    const specs = [
      { key: 'data/one.txt', relativeKey: 'one.txt', body: Buffer.from('one '.repeat(1000)) },
      { key: 'data/two.txt', relativeKey: 'two.txt', body: Buffer.from('two '.repeat(1000)) },
    ];
    const manifest = buildManifest(specs, { bucket: src, monitoredPrefix: 'data/', targets: ['eu-west-1'] });
    const good = validEntries(specs, { manifest });
    const [m, e0, e1, sums] = good;
    if (!m || !e0 || !e1 || !sums) throw new Error('entries');
    const { archive: valid } = await packToBuffer(specs, {
      bucket: src,
      monitoredPrefix: 'data/',
      targets: ['eu-west-1'],
    });
    const bad: Record<string, Buffer> = {
      'bad-zstd': randomBytes(4096),
      'flipped-byte': flipByte(valid, Math.floor(valid.length / 2)),
      'entry-not-in-manifest': await buildRawArchive([
        m,
        e0,
        { name: 'extra.bin', data: Buffer.from('x') },
        e1,
        sums,
      ]),
      'size-mismatch': await buildRawArchive([
        m,
        { name: objectEntryName(0), data: Buffer.from('short') },
        e1,
        sums,
      ]),
      traversal: await buildRawArchive([m, { name: '../evil', data: e0.data }, e1, sums]),
      // Over the target's 16 MiB staging threshold: its multipart uploads must be aborted, never completed.
      'tampered-large': await (async () => {
        const big = [{ key: 'data/big.bin', relativeKey: 'big.bin', body: randomBytes(20 * 1024 * 1024) }];
        const entries = validEntries(big, {
          manifest: buildManifest(big, { bucket: src, monitoredPrefix: 'data/', targets: ['eu-west-1'] }),
        });
        const [bm, be, bs] = entries;
        if (!bm || !be || !bs) throw new Error('entries');
        return buildRawArchive([bm, { name: be.name, data: flipByte(be.data, 12345) }, bs]);
      })(),
    };
    const inbound = h.topology.targets[0]?.inboundBucket ?? '';
    const prefix = h.topology.sources[0]?.archivePrefix ?? '';
    for (const [name, body] of Object.entries(bad)) {
      await aws.s3.send(
        new PutObjectCommand({ Bucket: inbound, Key: `${prefix}${name}.tar.zst`, Body: body }),
      );
    }
    // Act: five deliveries each (maxReceiveCount), then SQS moves the messages to the DLQ
    const run = await h.balerCode(
      'target',
      '--region',
      'eu-west-1',
      '--until-idle',
      '3',
      '--retry-delay',
      '0',
    );
    // Assess
    expect(run.code).toBe(1);
    expect(await keys(aws, dst)).toEqual([]);
    const uploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: dst }));
    expect(uploads.Uploads ?? []).toEqual([]);
    expect(await countMessages(eu, h.topology.targets[0]?.dlqName ?? '')).toBe(Object.keys(bad).length);
    expect(await countMessages(eu, h.topology.targets[0]?.queueName ?? '')).toBe(0);
    expect(run.stderr).toMatch(/"event":"archive_invalid"/);
    expect((await keys(aws, inbound)).length).toBe(Object.keys(bad).length); // kept for inspection
  });

  it('survives SIGKILL mid-batch: nothing partial is visible, the restart delivers everything', async () => {
    // Prepare: a 200 MB object (with a few small ones) and a short visibility timeout
    const id = uniqueName('k').slice(2);
    const [src, dst] = [`ksrc-${id}`, `kdst-${id}`];
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, visibility_timeout: 10, max_batch_wait_seconds: 2 },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`ks-${id}`, ['eu-west-1']),
    );
    // Base64 of random bytes: compressible only to ~75%, so the archive is a real multipart upload.
    const big = Buffer.from(randomBytes(150 * 1024 * 1024).toString('base64'));
    const objects: Record<string, Buffer> = {
      'big.log': big,
      empty: Buffer.alloc(0),
      'small.txt': Buffer.from('x'),
    };
    for (const [key, body] of Object.entries(objects)) {
      await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: body }));
    }
    const outbound = h.topology.sources[0]?.outboundBucket ?? '';
    // Act: kill the source while it is streaming the batch
    const child = h.spawnBaler('source', '--all', '--log-level', 'debug');
    const seen = { batch: false };
    child.stderr?.on('data', (c: Buffer) => {
      if (c.toString().includes('batch_gathered')) seen.batch = true;
    });
    // Kill once the archive's multipart upload is under way (parts are being sent, nothing completed).
    let uploading = 0;
    for (let i = 0; i < 600 && uploading === 0; i++) {
      const r = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: outbound }));
      uploading = r.Uploads?.length ?? 0;
      if (uploading === 0) await sleep(50);
    }
    child.kill('SIGKILL');
    await once(child, 'exit');
    const visibleAfterKill = await keys(aws, outbound);
    const restarted = JSON.parse((await h.baler('source', '--all', '--until-idle', '15')).stdout) as Record<
      string,
      number
    >;
    await h.baler('target', '--region', 'eu-west-1', '--until-idle', '5');
    // Assess
    expect(seen.batch).toBe(true);
    expect(uploading).toBe(1);
    expect(visibleAfterKill).toEqual([]);
    expect(restarted).toMatchObject({ objects: 3, failedBatches: 0 });
    for (const [key, body] of Object.entries(objects)) {
      const got = await aws.s3.send(new GetObjectCommand({ Bucket: dst, Key: key }));
      const h2 = createHash('sha256');
      for await (const c of got.Body as AsyncIterable<Uint8Array>) h2.update(c);
      expect(h2.digest('hex'), key).toBe(sha(body));
    }
  });

  it('on SIGTERM abandons the batch cleanly: exit 130, no archive, upload aborted, messages back at once', async () => {
    // Prepare: a long visibility timeout, so only an explicit release can make the messages visible quickly
    const id = uniqueName('t').slice(2);
    const [src, dst] = [`tsrc-${id}`, `tdst-${id}`];
    const h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, visibility_timeout: 600, max_batch_wait_seconds: 1 },
            destinations: [{ region: 'eu-west-1', bucket: dst }],
          },
        ],
      },
      settingsFor(`ts-${id}`, ['eu-west-1']),
    );
    const big = Buffer.from(randomBytes(60 * 1024 * 1024).toString('base64'));
    await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: 'big.b64', Body: big }));
    const outbound = h.topology.sources[0]?.outboundBucket ?? '';
    const child = h.spawnBaler('source', '--all');
    let uploading = 0;
    for (let i = 0; i < 600 && uploading === 0; i++) {
      const r = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: outbound }));
      uploading = r.Uploads?.length ?? 0;
      if (uploading === 0) await sleep(50);
    }
    // Act
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const exitMs = Date.now() - t0;
    const leftUploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: outbound }));
    const visible = await keys(aws, outbound);
    const again = JSON.parse((await h.baler('source', '--all', '--until-idle', '3')).stdout) as Record<
      string,
      number
    >;
    // Assess
    expect(uploading).toBe(1);
    expect(code).toBe(130);
    expect(exitMs).toBeLessThan(30_000); // well within the 600 s visibility timeout
    expect(leftUploads.Uploads ?? []).toEqual([]);
    expect(visible).toEqual([]);
    expect(again).toMatchObject({ objects: 1, failedBatches: 0 });
  });
});
