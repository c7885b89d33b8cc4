import { createHash, randomBytes } from 'node:crypto';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionConfig, settingsFor, type ProvisionedConfig } from './replicationHarness.js';
import { localClients, uniqueName } from './helpers.js';
import type { AwsClients } from '../../src/core/awsClients.js';
import { taggingHeader } from '../../src/replicate/target.js';
import { localKmsKeyArn } from '../../src/local/ceph.js';

interface Put {
  key: string;
  body: Buffer;
  contentType?: string;
  metadata?: Record<string, string>;
  tags?: Record<string, string>;
  storageClass?: 'STANDARD_IA';
  cacheControl?: string;
}

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe('Replication end to end (baler source -> emulated S3 replication -> baler target)', () => {
  const id = uniqueName('r').slice(2);
  const src = `rsrc-${id}`;
  const dests = { euPlain: `reu1-${id}`, euIa: `reu2-${id}`, ap: `rap-${id}` };
  let aws: AwsClients;
  const puts: Put[] = [
    {
      key: 'data/plain.json',
      body: Buffer.from(JSON.stringify({ hello: 'world' }).repeat(200)),
      contentType: 'application/json',
    },
    { key: 'data/with space/a b.txt', body: Buffer.from('spaces '.repeat(50)) },
    { key: 'data/plus+sign+.txt', body: Buffer.from('plus') },
    { key: 'data/100% done %2F.txt', body: Buffer.from('percent') },
    { key: 'data/ünïcödé/日本語 😀.txt', body: Buffer.from('unicode') },
    { key: 'data/../escape/../../etc/passwd', body: Buffer.from('dots') },
    { key: 'data//double//slash', body: Buffer.from('slashes') },
    { key: `data/${'k'.repeat(995)}`, body: Buffer.from('long key') },
    { key: 'data/empty', body: Buffer.alloc(0) },
    {
      key: 'data/tagged.csv',
      body: Buffer.from('a,b\n1,2\n'.repeat(1000)),
      contentType: 'text/csv',
      metadata: { owner: 'data-team', 'x-source': 'erp' },
      tags: { team: 'data', 'cost center': 'a/b+c' },
      storageClass: 'STANDARD_IA',
      cacheControl: 'max-age=600',
    },
    { key: 'data/random.bin', body: randomBytes(3 * 1024 * 1024) },
    {
      key: 'data/large.log',
      body: Buffer.from('2026-11-21 INFO request served in 12ms path=/api/v1/items\n'.repeat(400_000)),
    },
  ];

  let h: ProvisionedConfig;

  beforeAll(async () => {
    aws = localClients();
    h = await provisionConfig(
      {
        replication_configuration: [
          {
            source: { region: 'us-east-1', bucket: src, prefix_filter: 'data/', max_batch_wait_seconds: 3 },
            destinations: [
              { region: 'eu-west-1', bucket: dests.euPlain },
              { region: 'eu-west-1', bucket: dests.euIa, storage_class: 'STANDARD_IA' },
              { region: 'ap-southeast-2', bucket: dests.ap, kms_key_arn: localKmsKeyArn('ap-southeast-2') },
            ],
          },
        ],
      },
      settingsFor(`rs-${id}`, ['eu-west-1', 'ap-southeast-2']),
    );
  });
  afterAll(() => {
    aws.destroy();
  });

  const baler = (...args: string[]) => h.baler(...args);

  it('delivers every object byte-identical with tags, metadata, content headers, storage class and KMS key to every destination', async () => {
    // Prepare
    for (const p of puts) {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: src,
          Key: p.key,
          Body: p.body,
          ...(p.contentType ? { ContentType: p.contentType } : {}),
          ...(p.metadata ? { Metadata: p.metadata } : {}),
          ...(p.tags ? { Tagging: taggingHeader(p.tags) } : {}),
          ...(p.storageClass ? { StorageClass: p.storageClass } : {}),
          ...(p.cacheControl ? { CacheControl: p.cacheControl } : {}),
        }),
      );
    }
    // Act
    const source = JSON.parse((await baler('source', '--all', '--until-idle', '3')).stdout) as Record<
      string,
      number
    >;
    const eu = JSON.parse(
      (await baler('target', '--region', 'eu-west-1', '--until-idle', '4')).stdout,
    ) as Record<string, number>;
    const ap = JSON.parse(
      (await baler('target', '--region', 'ap-southeast-2', '--until-idle', '4')).stdout,
    ) as Record<string, number>;
    // Assess: the workers' own accounts
    const rawBytes = puts.reduce((a, p) => a + p.body.length, 0);
    expect(source).toMatchObject({ objects: puts.length, rawBytes, failedBatches: 0, skipped: 0 });
    expect(source['archiveBytes']).toBeLessThan(rawBytes / 2);
    expect(eu).toMatchObject({ objects: puts.length, failed: 0 });
    expect(ap).toMatchObject({ objects: puts.length, failed: 0 });
    // Assess: every object in every destination
    const expectations: [string, (p: Put) => string][] = [
      [dests.euPlain, (p) => p.storageClass ?? 'STANDARD'],
      [dests.euIa, () => 'STANDARD_IA'],
      [dests.ap, (p) => p.storageClass ?? 'STANDARD'],
    ];
    for (const [bucket, storageClass] of expectations) {
      for (const p of puts) {
        const where = `s3://${bucket}/${p.key}`;
        const got = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: p.key }));
        const body = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
        expect(sha(body), where).toBe(sha(p.body));
        const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: p.key }));
        expect(head.StorageClass ?? 'STANDARD', where).toBe(storageClass(p));
        if (bucket === dests.ap) {
          expect(head.ServerSideEncryption, where).toBe('aws:kms');
          expect(head.SSEKMSKeyId, where).toBe(localKmsKeyArn('ap-southeast-2'));
        } else {
          expect(head.ServerSideEncryption, where).toBeUndefined();
        }
        expect(head.Metadata ?? {}, where).toEqual(p.metadata ?? {});
        if (p.contentType) expect(head.ContentType, where).toBe(p.contentType);
        if (p.cacheControl) expect(head.CacheControl, where).toBe(p.cacheControl);
        const tags = await aws.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: p.key }));
        const tagMap: Record<string, string> = Object.fromEntries(
          (tags.TagSet ?? []).map((t) => [t.Key ?? '', t.Value ?? '']),
        );
        expect(tagMap, where).toEqual(p.tags ?? {});
      }
    }
    // Assess: the inbound archives were deleted once restored
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      const inbound = `rs-${id}-000000000000-${region}-inbound`;
      const left = await aws.s3.send(new ListObjectsV2Command({ Bucket: inbound }));
      expect(left.KeyCount ?? 0, inbound).toBe(0);
    }
  });

  it('replicates a batch of 5,000 small objects in one archive', async () => {
    // Prepare
    const bulkId = uniqueName('b').slice(2);
    const [bsrc, bdst] = [`bsrc-${bulkId}`, `bdst-${bulkId}`];
    const bulk = await provisionConfig(
      {
        replication_configuration: [
          {
            source: {
              region: 'us-east-1',
              bucket: bsrc,
              max_batch_objects: 5000,
              max_batch_wait_seconds: 60,
            },
            destinations: [{ region: 'eu-west-1', bucket: bdst }],
          },
        ],
      },
      settingsFor(`bs-${bulkId}`, ['eu-west-1']),
    );
    const n = 5000;
    const bodyOf = (i: number) => Buffer.from(`{"i":${i},"msg":"${'small object '.repeat(70)}"}\n`);
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < n) {
          const i = next++;
          await aws.s3.send(new PutObjectCommand({ Bucket: bsrc, Key: `o/${i}`, Body: bodyOf(i) }));
        }
      }),
    );
    // Act
    const source = JSON.parse((await bulk.baler('source', '--all', '--until-idle', '3')).stdout) as Record<
      string,
      number
    >;
    const target = JSON.parse(
      (await bulk.baler('target', '--region', 'eu-west-1', '--until-idle', '4')).stdout,
    ) as Record<string, number>;
    // Assess
    expect(source).toMatchObject({ batches: 1, objects: n, failedBatches: 0 });
    expect(target).toMatchObject({ archives: 1, objects: n, failed: 0 });
    let listed = 0;
    let token: string | undefined;
    do {
      const page = await aws.s3.send(new ListObjectsV2Command({ Bucket: bdst, ContinuationToken: token }));
      listed += page.KeyCount ?? 0;
      token = page.NextContinuationToken;
    } while (token);
    expect(listed).toBe(n);
    for (const i of [0, 1234, n - 1]) {
      const got = await aws.s3.send(new GetObjectCommand({ Bucket: bdst, Key: `o/${i}` }));
      expect(await got.Body?.transformToString()).toBe(bodyOf(i).toString());
    }
  });
});
