/**
 * `npm run bench:soak`: baler soak against `rclone copy` (Debian's rclone 1.60) and `aws s3 cp --recursive`
 * (Debian's AWS CLI v2) on the local radosgw, three sets, in one run:
 *   5,000 × 10 KB; 200 × 5 MB; 2 × 500 MB (uploaded by multipart, as the AWS CLI would).
 * Each tool downloads each set into an empty directory, twice (interleaved: baler, rclone, aws, baler, …); the
 * best of the two is reported. Throughput = set bytes / wall time of the whole command (start-up and listing
 * included), the same for every tool. Peak RSS = the kernel's VmHWM of the tool's process.
 * Goals (issue 5): ≥ 1.2 × rclone's throughput on every set; baler's peak RSS < 300 MB.
 *
 * Env: BENCH_SCALE (0–1: fewer/smaller objects, marked as a development run), BENCH_OUT (report file),
 * BENCH_KEEP=1 (keep the bucket and the downloads), BENCH_RUNS (runs per tool and set, default 2).
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import pLimit from 'p-limit';
import { createAwsClients, resolveAwsSettings } from '../src/core/awsClients.js';
import { localEnvFile, parseEnvFile } from '../src/core/envFile.js';
import { md5OfFile } from '../src/soak/index.js';
import { benchSettings, machine, procStatusHwm, writeSection } from './report.js';

const MiB = 1024 * 1024;
const MB = 1_000_000;
const { cli: CLI, home: HOME, out: OUT, keep: KEEP, scale: SCALE } = benchSettings();
const RUNS = Number(process.env['BENCH_RUNS'] ?? '2');
if (!Number.isInteger(RUNS) || RUNS < 1) throw new Error(`BENCH_RUNS must be an integer ≥ 1`);
const SECTION = '## soak (npm run bench:soak)';
const RCLONE = '/usr/bin/rclone';
const AWS = '/usr/bin/aws';
const RSS_GOAL = 300 * MB;
const GOAL_RATIO = 1.2;

interface DataSet {
  readonly name: string;
  readonly label: string;
  readonly count: number;
  readonly size: number;
}

const SETS: readonly DataSet[] = [
  { name: 'small', label: '5,000 × 10 KB', count: Math.max(50, Math.round(5000 * SCALE)), size: 10_000 },
  { name: 'medium', label: '200 × 5 MB', count: Math.max(4, Math.round(200 * SCALE)), size: 5 * MB },
  { name: 'large', label: '2 × 500 MB', count: 2, size: Math.max(20 * MB, Math.round(500 * MB * SCALE)) },
];

const TOOLS = ['baler', 'rclone', 'aws'] as const;
type Tool = (typeof TOOLS)[number];

interface RunResult {
  readonly seconds: number;
  readonly peakRssBytes: number;
  readonly files: number;
  readonly bytes: number;
  /** baler only: the tuner's peak concurrency. */
  readonly peakConcurrency?: number;
}

function say(line: string): void {
  process.stderr.write(`[bench:soak] ${line}\n`);
}

/** Run a command, polling its peak RSS every 50 ms; throws on a non-zero exit. */
async function measured(
  cmd: string,
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ seconds: number; peakRssBytes: number; stdout: string }> {
  const started = performance.now();
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr = (stderr + s).slice(-4000)));
  let peak = 0;
  const pid = child.pid;
  const timer = setInterval(() => {
    if (pid !== undefined) void procStatusHwm(pid).then((v) => (peak = Math.max(peak, v ?? 0)));
  }, 50);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const seconds = (performance.now() - started) / 1000;
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${String(code)}:\n${stderr}`);
  return { seconds, peakRssBytes: peak, stdout };
}

async function tree(dir: string): Promise<{ files: number; bytes: number }> {
  let files = 0;
  let bytes = 0;
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue;
    files += 1;
    bytes += (await stat(path.join(e.parentPath, e.name))).size;
  }
  return { files, bytes };
}

async function runTool(
  tool: Tool,
  set: DataSet,
  bucket: string,
  dest: string,
  local: Record<string, string>,
): Promise<RunResult> {
  const endpoint = local['AWS_ENDPOINT_URL_S3'] ?? '';
  const base: NodeJS.ProcessEnv = { ...process.env, ...local, BALER_NO_LOCAL_ENV: '1' };
  // rclone refuses a CA bundle variable pointing nowhere (DESIGN.md 8).
  delete base['AWS_CA_BUNDLE'];
  let r: { seconds: number; peakRssBytes: number; stdout: string };
  let peakConcurrency: number | undefined;
  if (tool === 'baler') {
    r = await measured(
      process.execPath,
      [CLI, 'soak', `s3://${bucket}/${set.name}`, dest, '--progress', 'none', '--json'],
      base,
    );
    const summary = JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { peakConcurrency?: number };
    peakConcurrency = summary.peakConcurrency;
  } else if (tool === 'rclone') {
    r = await measured(RCLONE, ['copy', `bench:${bucket}/${set.name}`, dest], {
      ...base,
      RCLONE_CONFIG_BENCH_TYPE: 's3',
      RCLONE_CONFIG_BENCH_PROVIDER: 'Ceph',
      RCLONE_CONFIG_BENCH_ENDPOINT: endpoint,
      RCLONE_CONFIG_BENCH_ACCESS_KEY_ID: local['AWS_ACCESS_KEY_ID'] ?? '',
      RCLONE_CONFIG_BENCH_SECRET_ACCESS_KEY: local['AWS_SECRET_ACCESS_KEY'] ?? '',
      RCLONE_CONFIG_BENCH_REGION: local['AWS_REGION'] ?? 'us-east-1',
    });
  } else {
    r = await measured(
      AWS,
      [
        's3',
        'cp',
        '--recursive',
        '--only-show-errors',
        '--endpoint-url',
        endpoint,
        `s3://${bucket}/${set.name}`,
        dest,
      ],
      base,
    );
  }
  const t = await tree(dest);
  if (t.files !== set.count || t.bytes !== set.count * set.size) {
    throw new Error(
      `${tool} on ${set.label}: ${t.files} files / ${t.bytes} bytes, expected ${set.count} / ${set.count * set.size}`,
    );
  }
  return {
    seconds: r.seconds,
    peakRssBytes: r.peakRssBytes,
    ...t,
    ...(peakConcurrency ? { peakConcurrency } : {}),
  };
}

async function upload(s3: S3Client, bucket: string, expected: Map<string, string>): Promise<void> {
  const limit = pLimit(16);
  for (const set of SETS) {
    const pattern = randomBytes(set.size);
    await Promise.all(
      Array.from({ length: set.count }, (_, i) =>
        limit(async () => {
          const body = Buffer.from(pattern);
          body.write(`${set.name}-${String(i).padStart(8, '0')}`, 0); // distinct objects
          const key = `${set.name}/${String(i).padStart(5, '0')}.bin`;
          expected.set(key, createHash('md5').update(body).digest('hex'));
          if (set.size > 16 * MiB) {
            await new Upload({
              client: s3,
              params: { Bucket: bucket, Key: key, Body: body },
              partSize: 8 * MiB,
            }).done();
          } else {
            await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
          }
        }),
      ),
    );
    say(`uploaded ${set.label}`);
  }
}

async function emptyAndDelete(s3: S3Client, bucket: string): Promise<void> {
  for (;;) {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    const keys = (page.Contents ?? []).flatMap((c) => (c.Key ? [{ Key: c.Key }] : []));
    if (keys.length === 0) break;
    await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
  }
  await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
}

async function ensureTools(): Promise<void> {
  const missing = [RCLONE, AWS].filter((p) => !existsSync(p));
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new Error(`missing ${missing.join(', ')}: apt-get install rclone awscli (as root)`);
  }
  say('installing the baselines: apt-get install rclone awscli');
  await measured('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'rclone', 'awscli'], {
    ...process.env,
    DEBIAN_FRONTEND: 'noninteractive',
  });
}

async function toolVersion(cmd: string, args: string[]): Promise<string> {
  const r = await measured(cmd, args, process.env);
  return r.stdout.split('\n')[0]?.trim() ?? cmd;
}

const mibps = (bytes: number, s: number) => bytes / MiB / s;

async function main(): Promise<void> {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const load = os.loadavg();
  await ensureTools();
  say('bringing the local stack up (reused if running)');
  await measured(process.execPath, [CLI, '--log-level', 'warn', 'local', 'up'], {
    ...process.env,
    BALER_HOME: HOME,
  });
  const local = parseEnvFile(readFileSync(localEnvFile(HOME), 'utf8'));
  const aws = createAwsClients(resolveAwsSettings(local));
  const bucket = `bench-soak-${randomBytes(4).toString('hex')}`;
  const work = await mkdtemp(path.join(os.tmpdir(), 'baler-bench-soak-'));
  const expected = new Map<string, string>();
  const started = performance.now();
  const results = new Map<string, RunResult[]>();
  try {
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await upload(aws.s3, bucket, expected);
    for (const set of SETS) {
      for (let run = 0; run < RUNS; run += 1) {
        for (const tool of TOOLS) {
          const dest = path.join(work, `${tool}-${set.name}-${run}`);
          const r = await runTool(tool, set, bucket, dest, local);
          say(
            `${set.label} ${tool} run ${run + 1}: ${r.seconds.toFixed(2)} s, ${mibps(r.bytes, r.seconds).toFixed(1)} MiB/s, ` +
              `${(set.count / r.seconds).toFixed(0)} objects/s, peak RSS ${(r.peakRssBytes / MiB).toFixed(0)} MiB` +
              (r.peakConcurrency ? `, peak concurrency ${r.peakConcurrency}` : ''),
          );
          if (tool === 'baler' && run === 0) {
            for (let i = 0; i < set.count; i += 1) {
              const key = `${set.name}/${String(i).padStart(5, '0')}.bin`;
              const got = await md5OfFile(path.join(dest, key.slice(set.name.length + 1)));
              if (got !== expected.get(key)) throw new Error(`baler: ${key} differs from what was uploaded`);
            }
          }
          if (!KEEP) await rm(dest, { recursive: true, force: true });
          const k = `${set.name}/${tool}`;
          results.set(k, [...(results.get(k) ?? []), r]);
        }
      }
    }
  } finally {
    if (!KEEP) {
      await emptyAndDelete(aws.s3, bucket).catch(() => undefined);
      await rm(work, { recursive: true, force: true });
    }
    aws.destroy();
  }
  const seconds = (performance.now() - started) / 1000;
  const best = (set: DataSet, tool: Tool) =>
    (results.get(`${set.name}/${tool}`) ?? []).reduce((a, b) => (b.seconds < a.seconds ? b : a));
  const rows: string[] = [];
  let allMet = true;
  for (const set of SETS) {
    const b = best(set, 'baler');
    const rc = best(set, 'rclone');
    const a = best(set, 'aws');
    const bytes = set.count * set.size;
    const ratio = rc.seconds / b.seconds;
    const met = ratio >= GOAL_RATIO;
    allMet &&= met;
    const cell = (r: RunResult) =>
      set.name === 'small'
        ? `${(set.count / r.seconds).toFixed(0)} objects/s (${r.seconds.toFixed(2)} s)`
        : `${mibps(bytes, r.seconds).toFixed(1)} MiB/s (${r.seconds.toFixed(2)} s)`;
    rows.push(
      `| ${set.label} | ${cell(b)} | ${cell(rc)} | ${cell(a)} | ${ratio.toFixed(2)} | ≥ ${GOAL_RATIO} | ${met ? 'yes' : '**no**'} |`,
    );
  }
  const rssRows = SETS.map((set) => {
    const peak = (tool: Tool) =>
      Math.max(...(results.get(`${set.name}/${tool}`) ?? []).map((r) => r.peakRssBytes));
    return `| ${set.label} | ${(peak('baler') / MiB).toFixed(0)} MiB | ${(peak('rclone') / MiB).toFixed(0)} MiB | ${(peak('aws') / MiB).toFixed(0)} MiB | ${Math.max(...(results.get(`${set.name}/baler`) ?? []).map((r) => r.peakConcurrency ?? 0))} |`;
  });
  const balerPeak = Math.max(
    ...SETS.flatMap((s) => (results.get(`${s.name}/baler`) ?? []).map((r) => r.peakRssBytes)),
  );
  const rssMet = balerPeak < RSS_GOAL;
  const versions = [await toolVersion(RCLONE, ['version']), await toolVersion(AWS, ['--version'])];
  const section = [
    SECTION,
    '',
    `Measured ${date} in one run (${seconds.toFixed(0)} s) on: ${await machine()}; load average at start ${load.map((l) => l.toFixed(2)).join(' / ')}.` +
      (SCALE < 1 ? ` **Development run at BENCH_SCALE=${SCALE}: not the goal's data sizes.**` : '') +
      ' Local radosgw on the same machine (civetweb, `tcp_nodelay=1`), so every tool shares the 2 cores with the S3 server.' +
      ` Baselines: ${versions.join('; ')}, both with their default concurrency (\`rclone copy\`: 4 transfers; \`aws s3 cp --recursive\`: 10 requests). MB = 10^6 bytes, MiB = 2^20.`,
    '',
    `| set | baler soak | rclone copy | aws s3 cp --recursive | baler / rclone | goal | met? |`,
    `| --- | ---: | ---: | ---: | ---: | --- | --- |`,
    ...rows,
    '',
    `Peak RSS (VmHWM, highest of the runs; goal for baler < 300 MB: ${rssMet ? 'met' : '**not met**'}, ${(balerPeak / MB).toFixed(0)} MB):`,
    '',
    '| set | baler | rclone | aws | baler peak concurrency |',
    '| --- | ---: | ---: | ---: | ---: |',
    ...rssRows,
    '',
    'How it was measured:',
    '',
    `- Data: random bytes, distinct per object, uploaded first (objects over 16 MiB by multipart upload with 8 MiB parts, so their ETags are multipart ETags and every tool verifies them by size). Each tool downloads each set into an empty directory; ${RUNS} runs per tool, interleaved (baler, rclone, aws, baler, …), the fastest reported. The page cache is not dropped between runs (radosgw's reads are warm for all tools alike after the first).`,
    "- Throughput is the set's bytes (or objects) divided by the wall time of the whole command, start-up and listing included. Every run's output is checked for file count and total size; baler's first run per set is also checked byte for byte (MD5 against the uploaded data).",
    `- baler runs with its defaults (concurrency starting at 8, up to 64, re-tuned every second; ranged GETs of 8 MiB, 8 per object, for objects ≥ 16 MiB).`,
    '',
    `Overall: ${allMet && rssMet ? 'all goals met' : 'not every goal met (see the rows marked **no**)'}.`,
    '',
  ].join('\n');
  say(`writing ${OUT}`);
  await writeSection(OUT, SECTION, section);
  process.stdout.write(section + '\n');
}

await main();
