import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CreateBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pLimit from 'p-limit';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../../src/core/awsClients.js';
import { createLogger } from '../../src/core/logger.js';
import { sdkObjectReader, signedObjectReader } from '../../src/core/s3ObjectReader.js';
import {
  md5OfFile,
  readResumeRecord,
  Soaker,
  type SoakOptions,
  type SoakSummary,
} from '../../src/soak/index.js';
import { seededRandom } from '../../src/core/random.js';
import { cli, runCli } from '../runCli.js';
import { localClients, startProxy, uniqueName } from './helpers.js';

const MiB = 1024 * 1024;

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
/** 8 bytes that make each generated object distinct. */
const header = (i: number) => Buffer.from(`${String(i).padStart(7, '0')}:`);

/** Run `baler soak` against the local stack; resolves with the exit code, the JSON summary and stderr. */
async function soakCli(
  args: string[],
  extraEnv: Record<string, string> = {},
): Promise<{ code: number; summary: SoakSummary | undefined; stdout: string; stderr: string }> {
  const env = { ...process.env, ...inject('localEnv'), BALER_NO_LOCAL_ENV: '1', ...extraEnv };
  const r = await runCli(['soak', '--progress', 'none', '--json', ...args], env);
  const line = r.stdout
    .trim()
    .split('\n')
    .map((l) => (l ? (JSON.parse(l) as { event: string }) : { event: '' }))
    .find((l) => l.event === 'summary');
  return { ...r, summary: line as SoakSummary | undefined };
}

/** Every file under `dir`, relative, with forward slashes. */
async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join('/'))
    .sort();
}

describe('soak against radosgw', () => {
  let aws: AwsClients;
  let tmp: string;
  const bucket = uniqueName('soak');
  /** key -> md5 of what was uploaded */
  const uploaded = new Map<string, string>();

  async function put(key: string, body: Buffer | string): Promise<void> {
    await aws.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    uploaded.set(key, md5(body));
  }

  async function expectIdentical(dest: string, prefix: string): Promise<void> {
    const expected = [...uploaded.keys()]
      .filter((k) => k.startsWith(prefix))
      .map((k) => k.slice(prefix.length));
    expect(await filesUnder(dest)).toEqual(expected.sort());
    for (const rel of expected) {
      expect(await md5OfFile(path.join(dest, rel)), rel).toBe(uploaded.get(prefix + rel));
    }
  }

  beforeAll(async () => {
    aws = localClients();
    tmp = await mkdtemp(path.join(os.tmpdir(), 'baler-soak-'));
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const limit = pLimit(32);
    const names = (i: number) =>
      [`plain/${i}.json`, `with space/${i} a.txt`, `plus+${i}.csv`, `pct%20${i}.txt`, `ünï/日本/${i}.json`][
        i % 5
      ];
    const small = randomBytes(10 * 1024);
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        limit(() => put(`small/${names(i) ?? ''}`, Buffer.concat([header(i), small.subarray(8)]))),
      ),
    );
    const ten = randomBytes(10 * MiB);
    await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        limit(() =>
          put(`big/${String(i).padStart(3, '0')}.bin`, Buffer.concat([header(i), ten.subarray(8)])),
        ),
      ),
    );
    // 300 MB by multipart upload (a multipart ETag: verified by size), 24 MiB by one PUT (MD5-verified ranges).
    const huge = randomBytes(300 * 1000 * 1000);
    await new Upload({
      client: aws.s3,
      params: { Bucket: bucket, Key: 'huge/one.bin', Body: huge },
      partSize: 16 * MiB,
      queueSize: 4,
    }).done();
    uploaded.set('huge/one.bin', md5(huge));
    await put('ranged/24m.bin', randomBytes(24 * MiB));
    for (const k of ['a.db', 'b.txt', 'dir/c.db', 'dir/d.DB', 'e.db.bak'])
      await put(`mixed/${k}`, `content of ${k}`);
  }, 600_000);

  afterAll(async () => {
    aws.destroy();
    await rm(tmp, { recursive: true, force: true });
  });

  it('downloads 1,000 small objects byte-identical (spaces, +, %, unicode) and a re-run transfers nothing', async () => {
    const dest = path.join(tmp, 'small');
    const first = await soakCli([`s3://${bucket}/small`, dest]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.summary).toMatchObject({ objects: 1000, failed: 0, listed: 1000 });
    await expectIdentical(dest, 'small/');

    const again = await soakCli([`s3://${bucket}/small`, dest]);
    expect(again.code).toBe(0);
    expect(again.summary).toMatchObject({ objects: 0, bytes: 0, skipped: { upToDate: 1000 } });
  });

  it('downloads 100 × 10 MB, a 300 MB multipart object and a 24 MiB object by ranged GETs, byte-identical', async () => {
    const big = await soakCli([`s3://${bucket}/big`, path.join(tmp, 'big')]);
    expect(big.code, big.stderr).toBe(0);
    expect(big.summary).toMatchObject({ objects: 100, bytes: 100 * 10 * MiB });
    await expectIdentical(path.join(tmp, 'big'), 'big/');

    const huge = await soakCli([`s3://${bucket}/huge/`, path.join(tmp, 'huge'), '--part-size', '16']);
    expect(huge.code, huge.stderr).toBe(0);
    expect(huge.summary).toMatchObject({ objects: 1, bytes: 300_000_000, bytesResumed: 0 });
    await expectIdentical(path.join(tmp, 'huge'), 'huge/');

    const ranged = await soakCli([`s3://${bucket}/ranged`, path.join(tmp, 'ranged')]);
    expect(ranged.code, ranged.stderr).toBe(0);
    await expectIdentical(path.join(tmp, 'ranged'), 'ranged/');
  });

  it('holds --max-speed as a rate limit, not only a stop to growth', async () => {
    // 24 MiB at 8 MiB/s with a one-second burst cannot take less than 2 s (a lower bound: cannot flake on a
    // slow machine).
    const dest = path.join(tmp, 'limited');
    const started = performance.now();
    const r = await soakCli([`s3://${bucket}/ranged`, dest, '--max-speed', '8']);
    const seconds = (performance.now() - started) / 1000;
    expect(r.code, r.stderr).toBe(0);
    expect(seconds).toBeGreaterThanOrEqual(2);
    expect(r.summary?.mibPerSec).toBeLessThanOrEqual(12);
    await expectIdentical(dest, 'ranged/');
  });

  it.each([
    { args: ['--exclude', '*', '--include', '*.db'], files: ['a.db', 'dir/c.db'] },
    { args: ['--include', '*.db', '--exclude', 'dir/*'], files: ['a.db', 'b.txt', 'e.db.bak'] },
    {
      args: ['--exclude', '*.db', '--include', 'dir/*'],
      files: ['b.txt', 'dir/c.db', 'dir/d.DB', 'e.db.bak'],
    },
    { args: ['--exclude', '*', '--include', '?.db*'], files: ['a.db', 'e.db.bak'] },
  ])('filters with AWS CLI semantics: $args', async ({ args, files }) => {
    const dest = path.join(tmp, `filters-${md5(args.join(' '))}`);
    const r = await soakCli([`s3://${bucket}/mixed`, dest, ...args]);
    expect(r.code, r.stderr).toBe(0);
    expect(await filesUnder(dest)).toEqual(files);
    expect(r.summary?.excluded).toBe(5 - files.length);
  });

  it('resumes after SIGKILL from the parts on disk and ends byte-identical', async () => {
    const dest = path.join(tmp, 'resume');
    const file = path.join(dest, 'one.bin');
    const child = spawn(
      process.execPath,
      [
        cli,
        'soak',
        `s3://${bucket}/huge`,
        dest,
        '--progress',
        'none',
        '--max-speed',
        '40',
        '--part-size',
        '8',
      ],
      { env: { ...process.env, ...inject('localEnv'), BALER_NO_LOCAL_ENV: '1' }, stdio: 'ignore' },
    );
    // Wait until some parts are recorded as done, then kill without warning.
    const deadline = Date.now() + 60_000;
    let parts = 0;
    while (Date.now() < deadline && parts < 6) {
      await new Promise((r) => setTimeout(r, 200));
      parts = (await readResumeRecord(`${file}.partial.json`))?.done.length ?? 0;
    }
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(parts).toBeGreaterThanOrEqual(6);
    expect(existsSync(`${file}.partial`)).toBe(true);
    expect(existsSync(file)).toBe(false);

    const r = await soakCli([`s3://${bucket}/huge`, dest, '--part-size', '8']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.summary?.bytesResumed).toBeGreaterThanOrEqual(6 * 8 * MiB);
    expect(r.summary?.bytes).toBeLessThan(300_000_000);
    expect((r.summary?.bytes ?? 0) + (r.summary?.bytesResumed ?? 0)).toBe(300_000_000);
    await expectIdentical(dest, 'huge/');
    expect(existsSync(`${file}.partial.json`)).toBe(false);
  });

  it('re-fetches an object changed between runs, and restarts a partial download whose object changed', async () => {
    const dest = path.join(tmp, 'changed');
    await put('changed/small.txt', 'version one');
    expect((await soakCli([`s3://${bucket}/changed`, dest])).code).toBe(0);
    await put('changed/small.txt', 'version two, longer');
    const r = await soakCli([`s3://${bucket}/changed`, dest]);
    expect(r.summary).toMatchObject({ objects: 1, skipped: { upToDate: 0 } });
    expect(await readFile(path.join(dest, 'small.txt'), 'utf8')).toBe('version two, longer');

    // A partial download of version one, then the object changes (same size): the resume must not mix them.
    const first = randomBytes(48 * MiB);
    await put('changing/obj.bin', first);
    const file = path.join(tmp, 'changing', 'obj.bin');
    const child = spawn(
      process.execPath,
      [cli, 'soak', `s3://${bucket}/changing`, path.dirname(file), '--progress', 'none', '--max-speed', '8'],
      { env: { ...process.env, ...inject('localEnv'), BALER_NO_LOCAL_ENV: '1' }, stdio: 'ignore' },
    );
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !((await readResumeRecord(`${file}.partial.json`))?.done.length ?? 0)) {
      await new Promise((res) => setTimeout(res, 100));
    }
    child.kill('SIGKILL');
    await new Promise((res) => child.once('exit', res));
    expect((await readResumeRecord(`${file}.partial.json`))?.done.length).toBeGreaterThan(0);
    await put('changing/obj.bin', randomBytes(48 * MiB));
    const resumed = await soakCli([`s3://${bucket}/changing`, path.dirname(file)]);
    expect(resumed.code, resumed.stderr).toBe(0);
    expect(resumed.summary?.bytesResumed).toBe(0);
    expect(await md5OfFile(file)).toBe(uploaded.get('changing/obj.bin'));
  });

  it.each(['signed', 'sdk'] as const)(
    'restarts an object that changes between listing and GET (412 on If-Match), %s reader',
    async (kind) => {
      await put(`race-${kind}/obj.txt`, 'listed version');
      const client = createAwsClients(
        resolveAwsSettings(inject('localEnv'), { maxAttempts: 1, retryMode: 'standard' }),
      );
      // After the listing answered, another writer replaces the object: the GET's If-Match then fails.
      client.s3.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          if (context.commandName === 'ListObjectsV2Command')
            await put(`race-${kind}/obj.txt`, 'the newer version');
          return out;
        },
        { step: 'initialize', name: 'raceWriter' },
      );
      const dest = path.join(tmp, `race-${kind}`);
      const reader =
        kind === 'signed' ? signedObjectReader(client.s3, { maxSockets: 8 }) : sdkObjectReader(client.s3);
      try {
        const soaker = new Soaker(
          { s3: client.s3, reader, log: createLogger({ level: 'silent' }) },
          options(bucket, `race-${kind}`, dest),
        );
        const summary = await soaker.run(new AbortController().signal);
        expect(summary).toMatchObject({ objects: 1, failed: 0 });
        expect(summary.retries).toBeGreaterThanOrEqual(1);
        expect(await readFile(path.join(dest, 'obj.txt'), 'utf8')).toBe('the newer version');
      } finally {
        reader.destroy();
        client.destroy();
      }
    },
  );

  it('retries injected 503 SlowDown responses and backs off its concurrency', async () => {
    let gets = 0;
    let injected = 0;
    // A proxy in front of radosgw: after 150 GETs, a quarter of the GETs (seeded, so it reproduces) get a
    // 503 SlowDown.
    const rnd = seededRandom(503);
    const proxy = await startProxy((req, res, forward) => {
      const isGet = req.method === 'GET' && !(req.url ?? '').includes('list-type');
      if (isGet) gets += 1;
      if (isGet && gets > 150 && rnd() < 0.25) {
        injected += 1;
        req.resume();
        res.writeHead(503, { 'content-type': 'application/xml' });
        res.end(
          '<?xml version="1.0"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>',
        );
        return;
      }
      forward();
    });
    const client = createAwsClients(
      resolveAwsSettings(inject('localEnv'), {
        endpoints: { s3: proxy.url },
        maxAttempts: 1,
        retryMode: 'standard',
      }),
    );
    // The CLI's reader: its error parsing must see the 503 as SlowDown.
    const reader = signedObjectReader(client.s3, { maxSockets: 40 });
    const lines: { event?: string; decision?: string }[] = [];
    const log = createLogger({
      level: 'debug',
      destination: { write: (l: string) => void lines.push(JSON.parse(l) as { event?: string }) },
    });
    const dest = path.join(tmp, 'throttled');
    try {
      const soaker = new Soaker(
        { s3: client.s3, reader, log, random: () => 0.5 },
        {
          ...options(bucket, 'small', dest),
          minConcurrency: 4,
          maxConcurrency: 32,
          optimizationIntervalMs: 100,
          retryDelayMs: 20,
          maxRetries: 10,
        },
      );
      const summary = await soaker.run(new AbortController().signal);
      expect(injected).toBeGreaterThan(10);
      expect(summary).toMatchObject({ objects: 1000, failed: 0 });
      // Every injected 503 is retried (a proxied connection may also drop now and then: also retried).
      expect(summary.throttles).toBeGreaterThanOrEqual(injected);
      expect(summary.retries).toBe(summary.throttles);
      const changes = lines.filter((l) => l.event === 'concurrency_changed');
      expect(changes.some((l) => l.decision === 'backoff-throttle')).toBe(true);
      await expectIdentical(dest, 'small/');
    } finally {
      reader.destroy();
      client.destroy();
      await proxy.close();
    }
  });

  it('detects a corrupted body by its MD5, deletes it and downloads the object again', async () => {
    const corrupted = new Set<string>();
    // A proxy that flips one byte in the first response for each object (same length, so only the MD5 can tell).
    const proxy = await startProxy((req, _res, forward) => {
      const url = req.url ?? '';
      const corrupt =
        req.method === 'GET' && !url.includes('list-type') && !corrupted.has(url.split('?')[0] ?? '');
      if (corrupt) corrupted.add(url.split('?')[0] ?? '');
      let first = corrupt;
      forward((chunk, status) => {
        if (first && (status === 200 || status === 206)) chunk[0] = (chunk[0] ?? 0) ^ 0xff;
        first = false;
        return chunk;
      });
    });
    try {
      // 10 MB objects are one GET each; the 24 MiB one is fetched in ranged parts (one part corrupted).
      // big/: 000–009 only (10 single GETs); ranged/: the 24 MiB object in parts.
      const cases = [
        { prefix: 'big', filters: ['--exclude', '0[1-9]*', '--exclude', '[1-9]*'] },
        { prefix: 'ranged', filters: [] },
      ];
      for (const { prefix, filters } of cases) {
        const dest = path.join(tmp, `corrupt-${prefix}`);
        const endpoint = ['--endpoint-url', proxy.url];
        const r = await soakCli([`s3://${bucket}/${prefix}`, dest, ...endpoint, ...filters]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.summary?.retries).toBeGreaterThanOrEqual(1);
        expect(r.stderr).toMatch(/MD5 mismatch/);
        const files = await filesUnder(dest);
        expect(files.length).toBeGreaterThan(0);
        for (const f of files)
          expect(await md5OfFile(path.join(dest, f))).toBe(uploaded.get(`${prefix}/${f}`));
      }
    } finally {
      await proxy.close();
    }
  });

  it('never writes outside DEST_DIR: unsafe keys are reported and skipped, with exit code 1', async () => {
    let long = 'unsafe';
    for (let i = 0; long.length < 1024; i += 1) long += `/segment-${i}`;
    long = long.slice(0, 1023) + 'z';
    const keys = ['unsafe/../escape1', 'unsafe/a/../../escape2', 'unsafe//abs', `unsafe/${'x'.repeat(300)}`];
    for (const k of keys) await put(k, 'nope');
    await put(long, 'a key of 1,024 bytes is fine');
    expect(Buffer.byteLength(long)).toBe(1024);
    const parent = path.join(tmp, 'unsafe-parent');
    const dest = path.join(parent, 'dest');
    const r = await soakCli([`s3://${bucket}/unsafe`, dest]);
    expect(r.code).toBe(1);
    expect(r.summary?.skipped.unsafe).toBe(4);
    expect(r.summary?.failures.map((f) => f.key).sort()).toEqual([...keys].sort());
    expect(await filesUnder(parent)).toEqual([`dest/${long.slice('unsafe/'.length)}`]);
    expect(existsSync(path.join(tmp, 'escape1'))).toBe(false);
    expect(existsSync(path.join(tmp, 'escape2'))).toBe(false);
  });

  it('splits a prefix into disjoint, complete shards', async () => {
    const seen = new Map<string, number>();
    for (let i = 0; i < 3; i += 1) {
      const dest = path.join(tmp, `shard-${i}`);
      const r = await soakCli([`s3://${bucket}/small`, dest, '--shard', `${i}/3`]);
      expect(r.code, r.stderr).toBe(0);
      const files = await filesUnder(dest);
      expect(files.length).toBeGreaterThan(250);
      for (const f of files) seen.set(f, (seen.get(f) ?? 0) + 1);
    }
    expect(seen.size).toBe(1000);
    expect([...seen.values()].every((n) => n === 1)).toBe(true);
  });

  it('--dry-run lists what it would do and writes nothing', async () => {
    const dest = path.join(tmp, 'dry');
    const r = await soakCli([`s3://${bucket}/mixed`, dest, '--dry-run']);
    expect(r.code).toBe(0);
    const plan = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { event: string; key?: string; action?: string })
      .filter((l) => l.event === 'plan');
    expect(plan.map((p) => p.key).sort()).toEqual(
      ['a.db', 'b.txt', 'dir/c.db', 'dir/d.DB', 'e.db.bak'].map((k) => `mixed/${k}`),
    );
    expect(plan.every((p) => p.action === 'download')).toBe(true);
    expect(existsSync(dest)).toBe(false);
    expect((await stat(tmp)).isDirectory()).toBe(true);
  });

  it('fails clearly on a bucket that does not exist', async () => {
    const r = await soakCli([`s3://${uniqueName('missing')}/x`, path.join(tmp, 'missing')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/list s3:\/\/.*404/);
  });
});

function options(bucket: string, prefix: string, destDir: string): SoakOptions {
  return {
    bucket,
    prefix,
    destDir,
    minConcurrency: 8,
    maxConcurrency: 32,
    optimizationIntervalMs: 1000,
    maxRetries: 5,
    retryDelayMs: 100,
    filters: [],
    multipartThresholdBytes: 16 * MiB,
    partSizeBytes: 8 * MiB,
    partConcurrency: 4,
    checksum: false,
    dryRun: false,
  };
}
