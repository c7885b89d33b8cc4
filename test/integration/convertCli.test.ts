import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli } from '../runCli.js';
import type { AwsClients } from '../../src/core/awsClients.js';
import type { ConvertStats, FileResult } from '../../src/convert/index.js';
import { listKeys, put } from './convertHelpers.js';
import { localClients, uniqueName } from './helpers.js';

async function baler(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, BALER_HOME: inject('localHome'), LOG_LEVEL: 'silent' };
  return runCli(args, env);
}

describe('Command: baler convert (built CLI, local stack)', () => {
  let aws: AwsClients;
  let bucket: string;

  beforeAll(async () => {
    aws = localClients();
    bucket = uniqueName('conv-cli');
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await put(aws.s3, bucket, 'in/good.csv', 'a,b\n1,2\n');
    await put(aws.s3, bucket, 'in/bad.csv', 'a,b\n1,2\n3\n');
  });
  afterAll(() => {
    aws.destroy();
  });

  it('exits 1 when a file failed, after converting the others; --json has per-file results and timings', async () => {
    // Act
    const r = await baler(
      'convert',
      `s3://${bucket}/in`,
      `s3://${bucket}/out`,
      '--to',
      'parquet',
      '--json',
      '--progress',
      'json',
    );
    // Assess
    expect(r.code).toBe(1);
    const { files, stats } = JSON.parse(r.stdout) as { files: FileResult[]; stats: ConvertStats };
    expect(stats).toMatchObject({ files: 2, converted: 1, failed: 1, rows: 1, rejected: 1 });
    expect(files.find((f) => f.key === 'in/bad.csv')?.error).toMatch(/1 of 2 records rejected/);
    expect(files.find((f) => f.key === 'in/good.csv')?.timingsMs).toHaveProperty('totalMs');
    expect(r.stderr).toMatch(/"event":"progress","label":"convert"/);
    expect(await listKeys(aws.s3, bucket, 'out/')).toEqual(['out/_rejects/bad.csv', 'out/good.parquet']);
  });

  it('exits 0 when every file converted (text summary)', async () => {
    // Act
    const r = await baler(
      'convert',
      `s3://${bucket}/in`,
      `s3://${bucket}/out2/`,
      '--max-reject-ratio',
      '0.5',
      '--progress',
      'none',
    );
    // Assess
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/2 converted, 0 failed, 0 skipped; 2 rows, 1 rejected/);
  });
});
