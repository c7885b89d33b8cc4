import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { localClients, uniqueName } from './helpers.js';

describe('Local stack: S3 (Ceph radosgw)', () => {
  let aws: AwsClients;
  const bucket = uniqueName('objects');

  beforeAll(async () => {
    aws = localClients();
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  afterAll(() => {
    aws.destroy();
  });

  it('keeps tags, user metadata, content headers and storage class STANDARD_IA', async () => {
    // Prepare
    const key = 'data/report.csv';
    // Act
    await aws.s3.send(
      new PutObjectCommand({
        Bucket: bucket,
        Key: key,
        Body: 'a,b\n1,2\n',
        ContentType: 'text/csv',
        ContentEncoding: 'identity',
        ContentLanguage: 'en',
        ContentDisposition: 'attachment; filename="report.csv"',
        CacheControl: 'max-age=60',
        Metadata: { owner: 'data-team', 'source-system': 'erp' },
        Tagging: 'classification=internal&team=data',
        StorageClass: 'STANDARD_IA',
      }),
    );
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    const tags = await aws.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    const body = await (
      await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    ).Body?.transformToString();
    // Assess
    expect(body).toBe('a,b\n1,2\n');
    expect(head).toMatchObject({
      ContentType: 'text/csv',
      ContentEncoding: 'identity',
      ContentLanguage: 'en',
      ContentDisposition: 'attachment; filename="report.csv"',
      CacheControl: 'max-age=60',
      StorageClass: 'STANDARD_IA',
      Metadata: { owner: 'data-team', 'source-system': 'erp' },
      ContentLength: 8,
    });
    expect(tags.TagSet).toEqual(
      expect.arrayContaining([
        { Key: 'classification', Value: 'internal' },
        { Key: 'team', Value: 'data' },
      ]),
    );
    expect(tags.TagSet).toHaveLength(2);
  });

  it.each([
    ['space', 'dir/a b.txt'],
    ['plus', 'dir/a+b.txt'],
    ['percent', 'dir/100%25 %.txt'],
    ['unicode', 'dir/ünï/çødé-日本語.txt'],
    ['dot-dot', '../../etc/passwd'],
    ['double slash and leading slash', '/lead//double/x'],
    ['1,024 bytes', `k/${'é'.repeat(511)}`],
  ])('stores and lists a key with %s byte for byte', async (_name, key) => {
    // Prepare
    expect(Buffer.byteLength(key)).toBeLessThanOrEqual(1024);
    // Act
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: key }));
    const got = await (
      await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))
    ).Body?.transformToString();
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: key }));
    // Assess
    expect(got).toBe(key);
    expect(listed.Contents?.map((o) => o.Key)).toContain(key);
  });
});
