import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  PutObjectCommand,
} from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { LOCAL_ACCOUNT_ID, loadConfigFiles, topology } from '../core/config/index.js';
import { provisionLocal } from '../local/provision.js';
import { localDown, localUp } from '../local/stack.js';
import { demoDataset } from '../replicate/demoData.js';
import { taggingHeader } from '../replicate/target.js';
import { BYTES_PER_GIB, DEFAULT_DATA_TRANSFER_COST_PER_GB } from '../tuning/index.js';
import type { CommandContext } from './context.js';
import { ExitCode } from './exitCode.js';
import { createSourceWorkers, createTargetWorker, DEFAULT_LEVEL, regionalClients } from './replicate.js';

/** The demo's configuration pair, shipped in the package. */
export const DEMO_CONFIG = fileURLToPath(
  new URL('../../examples/local/replication_config.json', import.meta.url),
);
export const DEMO_SETTINGS = fileURLToPath(new URL('../../examples/local/settings.json', import.meta.url));

export interface DemoOptions {
  readonly keep?: boolean;
  readonly smallObjects?: number;
  readonly largeMiB?: number;
}

function print(line = ''): void {
  process.stdout.write(line + '\n');
}

const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * `baler demo` (npm start): the replication pipeline end to end on the local stack. Provisions
 * `examples/local` (one source region, two target regions), uploads a mixed dataset, runs the source workers
 * and then the target workers until idle, verifies every object in every destination, and prints what the
 * transfer would cost with and without baler.
 */
export async function demoAction(
  makeContext: (service?: string) => CommandContext,
  o: DemoOptions,
): Promise<ExitCode> {
  const t0 = performance.now();
  const boot = makeContext('demo');
  const loaded = await loadConfigFiles(DEMO_CONFIG, DEMO_SETTINGS);
  print('1/5 local stack: Ceph radosgw (S3), fauxqs (SQS), dynalite (DynamoDB) ...');
  const state = await localUp({ home: boot.home, log: boot.log });
  await provisionLocal(boot.home, state, loaded, boot.log);
  const ctx = makeContext('demo'); // re-reads .baler/local/env, which `up` just wrote
  const t = topology(loaded, LOCAL_ACCOUNT_ID);
  const [logs, media] = t.sources;
  if (!logs || !media) throw new Error('examples/local must have two sources');
  const s3 = ctx.aws().s3;

  print('2/5 uploading a mixed dataset (JSON logs, CSV, XML, gzip, random bytes; nasty keys; tags) ...');
  const expected: {
    bucket: string;
    key: string;
    sha256: string;
    contentType: string;
    tags: number;
    size: number;
  }[] = [];
  const it = demoDataset(
    { logs: logs.source.bucket, logsPrefix: logs.source.prefixFilter, media: media.source.bucket },
    {
      ...(o.smallObjects !== undefined ? { smallObjects: o.smallObjects } : {}),
      ...(o.largeMiB !== undefined ? { largeMiB: o.largeMiB } : {}),
    },
  );
  const uploader = async () => {
    for (let next = it.next(); !next.done; next = it.next()) {
      const d = next.value;
      const tagging = taggingHeader(d.tags);
      await s3.send(
        new PutObjectCommand({
          Bucket: d.bucket,
          Key: d.key,
          Body: d.body,
          ContentType: d.contentType,
          Metadata: d.metadata,
          ...(tagging ? { Tagging: tagging } : {}),
        }),
      );
      expected.push({
        bucket: d.bucket,
        key: d.key,
        sha256: d.sha256,
        contentType: d.contentType,
        tags: Object.keys(d.tags).length,
        size: d.body.length,
      });
    }
  };
  await Promise.all(Array.from({ length: 16 }, uploader));
  const rawBytes = expected.reduce((a, e) => a + e.size, 0);
  print(`    ${expected.length} objects, ${mb(rawBytes)}`);

  const regional = regionalClients(ctx);
  try {
    print(`3/5 source workers (zstd level ${DEFAULT_LEVEL}) until their queues are idle ...`);
    const sources = await createSourceWorkers(
      ctx,
      t.sources,
      regional,
      DEFAULT_LEVEL,
      undefined,
      loaded.settings,
    );
    const reports = await Promise.all(sources.map((w) => w.run(ctx.signal, 3)));
    print('4/5 target workers (eu-west-1, ap-southeast-2) until their queues are idle ...');
    const targets = await Promise.all(t.targets.map((x) => createTargetWorker(ctx, loaded, x, regional)));
    const restored = await Promise.all(targets.map((w) => w.run(ctx.signal, 4)));

    print('5/5 verifying every object in every destination ...');
    const limit = pLimit(16);
    const failures: string[] = [];
    let checked = 0;
    await Promise.all(
      expected.flatMap((e) => {
        const source = loaded.config.sources.find((s) => s.bucket === e.bucket);
        return (source?.destinations ?? []).map((d) =>
          limit(async () => {
            const where = `s3://${d.bucket}/${e.key}`;
            try {
              const got = await s3.send(new GetObjectCommand({ Bucket: d.bucket, Key: e.key }));
              const h = createHash('sha256');
              for await (const c of got.Body as AsyncIterable<Uint8Array>) h.update(c);
              const head = await s3.send(new HeadObjectCommand({ Bucket: d.bucket, Key: e.key }));
              const tags = await s3.send(new GetObjectTaggingCommand({ Bucket: d.bucket, Key: e.key }));
              if (h.digest('hex') !== e.sha256) failures.push(`${where}: content differs`);
              else if (head.ContentType !== e.contentType)
                failures.push(`${where}: content-type ${head.ContentType}`);
              else if ((tags.TagSet ?? []).length !== e.tags)
                failures.push(`${where}: ${tags.TagSet?.length} tags`);
              else if ((head.StorageClass ?? 'STANDARD') !== (d.storageClass ?? 'STANDARD')) {
                failures.push(`${where}: storage class ${head.StorageClass}`);
              }
              checked += 1;
            } catch (err: unknown) {
              failures.push(`${where}: ${(err as Error).name}`);
            }
          }),
        );
      }),
    );

    const seconds = (performance.now() - t0) / 1000;
    let sentWithout = 0;
    let sentWith = 0;
    for (const [i, s] of t.sources.entries()) {
      const regions = new Set(s.source.destinations.map((d) => d.region)).size;
      const raw = expected.filter((e) => e.bucket === s.source.bucket).reduce((a, e) => a + e.size, 0);
      sentWithout += raw * regions;
      sentWith += (reports[i]?.archiveBytes ?? 0) * regions;
    }
    const cost = (bytes: number) =>
      `$${((bytes / BYTES_PER_GIB) * DEFAULT_DATA_TRANSFER_COST_PER_GB).toFixed(4)}`;
    const perTB = (bytes: number) =>
      ((bytes / rawBytes) * 1024 * DEFAULT_DATA_TRANSFER_COST_PER_GB).toFixed(2);
    print();
    print('baler demo summary');
    print(
      `  objects                 ${expected.length} (${reports.reduce((a, r) => a + r.batches, 0)} archives)`,
    );
    print(`  raw bytes               ${mb(rawBytes)}`);
    print(`  sent between regions    ${mb(sentWith)} with baler, ${mb(sentWithout)} with plain replication`);
    print(`  compression ratio       ${(sentWithout / Math.max(1, sentWith)).toFixed(2)}x`);
    print(
      `  transfer cost           ${cost(sentWith)} with baler vs ${cost(sentWithout)} at $${DEFAULT_DATA_TRANSFER_COST_PER_GB}/GB x regions`,
    );
    print(`                          ($${perTB(sentWith)} vs $${perTB(sentWithout)} per TB of source data)`);
    print(
      `  restored                ${restored.reduce((a, r) => a + r.objects, 0)} object copies in ${t.targets.length} regions`,
    );
    print(
      `  verified                ${checked - failures.length}/${expected.reduce((a, e) => a + (loaded.config.sources.find((s) => s.bucket === e.bucket)?.destinations.length ?? 0), 0)} destination objects`,
    );
    print(`  elapsed                 ${seconds.toFixed(1)} s`);
    for (const f of failures.slice(0, 20)) print(`  FAILED ${f}`);
    return failures.length === 0 ? ExitCode.Success : ExitCode.Failure;
  } finally {
    regional.destroy();
    ctx.aws().destroy();
    if (!o.keep) await localDown(boot.home);
  }
}
