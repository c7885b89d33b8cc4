// Adaptive compression on the local stack: one bucket, three prefixes (three sources) with different data;
// the source worker runs without --level, so each batch's level comes from the policy and each outcome lands
// in the compression-settings table in dynalite; `baler tuning show` prints what was learned.
import { randomBytes } from 'node:crypto';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { benchmarkData } from '../../src/tuning/adaptive.js';
import { localClients, uniqueName } from './helpers.js';
import { provisionConfig, settingsFor, type ProvisionedConfig } from './replicationHarness.js';

interface Described {
  key: string;
  version: number;
  bestLevel: number;
  levels: { level: number; trials: number; objects: number; bytes: number; netBenefitPerGiB: number }[];
}

describe('Adaptive compression learns per prefix', () => {
  const id = uniqueName('tu').slice(3);
  const bucket = `tusrc-${id}`;
  const dest = `tudst-${id}`;
  let aws: AwsClients;
  let h: ProvisionedConfig;
  const KiB = 1024;
  const text = (i: number) => benchmarkData(256 * KiB + i); // ~4:1 JSON-like lines
  const bodies: Record<string, (i: number) => Buffer> = {
    'text/': text,
    'random/': () => randomBytes(256 * KiB),
    'mixed/': (i) => (i % 2 === 0 ? text(i) : randomBytes(256 * KiB)),
  };

  beforeAll(async () => {
    aws = localClients();
    h = await provisionConfig(
      {
        replication_configuration: Object.keys(bodies).map((prefix) => ({
          source: {
            region: 'us-east-1',
            bucket,
            prefix_filter: prefix,
            max_batch_objects: 4,
            max_batch_wait_seconds: 2,
          },
          destinations: [{ region: 'eu-west-1', bucket: dest }],
        })),
      },
      settingsFor(`tu-${id}`, ['eu-west-1']),
    );
  });
  afterAll(() => {
    aws.destroy();
  });

  it('keeps a table per prefix in DynamoDB that tells text, random and mixed data apart', async () => {
    // Prepare: 20 objects of 256 KiB per prefix -> 5 batches each (max_batch_objects 4)
    for (const [prefix, body] of Object.entries(bodies)) {
      for (let i = 0; i < 20; i++) {
        await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}o${i}`, Body: body(i) }));
      }
    }
    // Act: the source without --level (adaptive), then the learned tables
    const source = await h.balerCode('source', '--all', '--until-idle', '4', '--log-level', 'info');
    const shown = await h.baler('tuning', 'show', '--json');
    const table = await h.balerCode('tuning', 'show');
    // Assess
    expect(source.code).toBe(0);
    expect(JSON.parse(source.stdout)).toMatchObject({ objects: 60, failedBatches: 0 });
    expect(source.stderr).toMatch(/"event":"cpu_factor"/);
    const records = JSON.parse(shown.stdout) as Described[];
    const byPrefix = (p: string) => {
      const r = records.find((x) => x.key.endsWith(`/${bucket}/${p}`));
      if (!r) throw new Error(`no record for ${p}: ${shown.stdout}`);
      return r;
    };
    const perGiB = (r: Described) => {
      const bytes = r.levels.reduce((a, l) => a + l.bytes, 0);
      return r.levels.reduce((a, l) => a + l.netBenefitPerGiB * l.bytes, 0) / bytes;
    };
    for (const p of Object.keys(bodies)) {
      const r = byPrefix(p);
      expect(r.version).toBeGreaterThanOrEqual(5); // every batch recorded (5 or more: redeliveries add batches)
      expect(r.levels.reduce((a, l) => a + l.objects, 0)).toBeGreaterThanOrEqual(20);
    }
    expect(perGiB(byPrefix('text/'))).toBeGreaterThan(0); // compressing text saves money
    expect(perGiB(byPrefix('random/'))).toBeLessThan(0); // random bytes only cost
    expect(perGiB(byPrefix('mixed/'))).toBeGreaterThan(0);
    expect(perGiB(byPrefix('mixed/'))).toBeLessThan(perGiB(byPrefix('text/')));
    expect(table.code).toBe(0);
    for (const p of Object.keys(bodies)) expect(table.stdout).toContain(`/${bucket}/${p}`);
    expect(table.stdout).toMatch(/level\s+batches\s+objects\s+GiB\s+net \$\/GiB/);
  });
});
