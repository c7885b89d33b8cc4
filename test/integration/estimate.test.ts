// `baler estimate` against the local radosgw: sampling, measuring levels in worker threads, the report forms.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { benchmarkData } from '../../src/tuning/adaptive.js';
import { localClients, uniqueName } from './helpers.js';
import { cli } from './replicationHarness.js';

const exec = promisify(execFile);

interface Report {
  objectsSampled: number;
  objectsListed: number;
  sampleBytes: number;
  recommended: number;
  breakEvenGiBPerMonth: number | null;
  fixedMonthly: number;
  levels: { level: number; ratio: number; netPerTiB: number; inputBytes: number }[];
}

describe('baler estimate', () => {
  let aws: AwsClients;
  const bucket = uniqueName('est');
  const env = () => ({ ...process.env, BALER_HOME: inject('localHome'), LOG_LEVEL: 'warn' });
  const estimate = (...args: string[]) =>
    exec(process.execPath, [cli, 'estimate', ...args], {
      env: env(),
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });

  beforeAll(async () => {
    aws = localClients();
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    for (let i = 0; i < 12; i++) {
      await aws.s3.send(
        new PutObjectCommand({
          Bucket: bucket,
          Key: `logs/app ${i}+.json`,
          Body: benchmarkData(512 * 1024 + i),
        }),
      );
      await aws.s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: `media/${i}.bin`, Body: randomBytes(512 * 1024) }),
      );
    }
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: 'logs/empty', Body: Buffer.alloc(0) }));
  });
  afterAll(() => {
    aws.destroy();
  });

  it('finds that compressible logs pay, with a recommended level, a break-even volume and an HTML report', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-estimate-'));
    const html = path.join(dir, 'report.html');
    // Act
    const { stdout } = await estimate(
      `s3://${bucket}/logs/`,
      '--json',
      '--sample-bytes',
      '4MiB',
      '--levels',
      '0,3,12,19',
      '--regions',
      '2',
      '--html',
      html,
    );
    const page = await readFile(html, 'utf8');
    // Assess
    const r = JSON.parse(stdout) as Report;
    expect(r.objectsListed).toBe(12); // the empty object is not sampled
    expect(r.objectsSampled).toBeGreaterThanOrEqual(4);
    expect(r.sampleBytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(r.levels.map((l) => l.level)).toEqual([0, 3, 12, 19]);
    const l3 = r.levels.find((l) => l.level === 3);
    expect(l3?.ratio).toBeGreaterThan(2);
    expect(l3?.netPerTiB).toBeGreaterThan(0);
    expect([0, 3, 12, 19]).toContain(r.recommended);
    expect(r.fixedMonthly).toBeCloseTo(87.6 * 3, 6);
    expect(r.breakEvenGiBPerMonth).toBeGreaterThan(0);
    expect(page).toMatch(/^<!doctype html>/);
    expect(page).toContain('<svg');
    expect(page).not.toMatch(/<script|src=|href=|@import|url\(/i); // self-contained: nothing to fetch
  });

  it('finds that random bytes never pay and says so in the table', async () => {
    // Act
    const json = JSON.parse(
      (await estimate(`s3://${bucket}/media/`, '--json', '--sample-bytes', '2MiB', '--levels', '0,1,6'))
        .stdout,
    ) as Report;
    const table = (await estimate(`s3://${bucket}/media/`, '--sample-bytes', '2MiB', '--levels', '0,1,6'))
      .stdout;
    // Assess
    expect(json.levels.every((l) => l.netPerTiB < 0)).toBe(true);
    expect(json.breakEvenGiBPerMonth).toBeNull();
    expect(table).toMatch(/level\s+ratio\s+MB\/s\s+plain \$\/TiB\s+baler \$\/TiB\s+saved \$\/TiB/);
    expect(table).toContain('break-even: never');
  });

  it('fails clearly on an empty prefix and on a bad size', async () => {
    // Act
    const empty = await estimate(`s3://${bucket}/nothing/`).catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    const bad = await estimate(`s3://${bucket}/logs/`, '--sample-bytes', 'lots').catch(
      (e: unknown) => e as { code: number; stderr: string },
    );
    // Assess
    expect(empty).toMatchObject({ code: 1 });
    expect((empty as { stderr: string }).stderr).toContain('no objects with data under');
    expect(bad).toMatchObject({ code: 2 });
    expect((bad as { stderr: string }).stderr).toContain('expected a size like 256MiB');
  });
});
