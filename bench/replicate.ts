/**
 * Replication benchmark against named baselines (the issue's goals), measured on this machine in one run,
 * with the real product: the built CLI's `source` and `target` workers on the local stack.
 *
 *  (a) source throughput on large compressible objects at level 12  vs  `zstd -12 -T2` on the same bytes
 *      from local disk;
 *  (b) source objects/s on 10 KiB objects                           vs  plain concurrent GETs of the objects;
 *  (c) target restore MB/s                                           vs  plain concurrent PUTs of the objects;
 *  (d) peak RSS of each worker process, and files the workers created (none allowed).
 * For (c) it also accounts the CPU of the target, the baselines, radosgw and the OSD (bench/cpu.ts).
 *
 * Results replace the section "## Replication (npm run bench:replicate)" of docs/BENCHMARKS.md.
 *
 * Run: npm run bench:replicate  (builds dist/ and this file, brings the local stack up if needed; ~10 min)
 * Env: BENCH_SCALE=0.05 shrinks the data for development (the section then says so);
 *      BENCH_OUT=file writes the section to another file; BENCH_KEEP=1 keeps buckets and queues afterwards;
 *      BENCH_ZSTD=path of the zstd CLI (default /usr/bin/zstd).
 */
import { seededRandom } from '../src/core/random.js';
import { CpuMeter, cpuBetween, type CpuWindow } from './cpu.js';
import { benchSettings, machine, procStatusHwm, writeSection } from './report.js';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, open, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import {
  DeleteQueueCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  PurgeQueueCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import pLimit from 'p-limit';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../src/core/awsClients.js';
import { localEnvFile, parseEnvFile } from '../src/core/envFile.js';
import { cephPids } from '../src/local/ceph.js';
import { localPaths } from '../src/local/stack.js';
import {
  deadLetterQueueName,
  inboundBucketName,
  LOCAL_ACCOUNT_ID,
  outboundBucketName,
  sourceQueueName,
  targetQueueName,
} from '../src/core/config/index.js';

// ---------------------------------------------------------------------------------------------------------
// Parameters
// ---------------------------------------------------------------------------------------------------------

const MiB = 1024 * 1024;
const MB = 1_000_000;
const { root: ROOT, cli: CLI, home: HOME, out: OUT, keep: KEEP, scale: SCALE } = benchSettings();
const ZSTD = process.env['BENCH_ZSTD'] ?? '/usr/bin/zstd';
/** A directory to keep each worker's log in (BENCH_LOGS=dir). */
const LOGS = process.env['BENCH_LOGS'] ? path.resolve(process.env['BENCH_LOGS']) : undefined;
/** `large` or `small` runs one phase only and prints its lines without writing the report (for profiling). */
const ONLY = process.env['BENCH_ONLY'] ?? '';
/** Extra Node options for the workers (BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof", for profiling). */
const NODE_ARGS = (process.env['BENCH_NODE_ARGS'] ?? '').split(' ').filter((a) => a !== '');
if (!['', 'large', 'small'].includes(ONLY)) throw new Error(`BENCH_ONLY must be large or small, got ${ONLY}`);
const SECTION = '## Replication (npm run bench:replicate)';

const LEVEL = 12;
const LARGE_COUNT = 16;
/** Above the target's 1 MiB small-object threshold at any scale, so the large-object path is measured. */
const LARGE_SIZE = Math.max(MiB + 64 * 1024, Math.round((64 * MiB * SCALE) / 4096) * 4096);
const SMALL_COUNT = Math.max(100, Math.round(5000 * SCALE));
const SMALL_SIZE = 10 * 1024;
/** The source's HEAD/tagging concurrency is 16 and it opens up to 32 GETs ahead: both are measured. */
const GET_CONCURRENCIES = [16, 32] as const;
/** The target's PUT concurrency. */
const PUT_CONCURRENCY = 16;
const RSS_GOAL_BYTES = 256 * MiB;
/** CPU time of the workers, the baselines' processes, radosgw and the OSD, sampled all through the run. */
const cpu = new CpuMeter(100);

const STACK = 'bench-repl';
const SOURCE_REGION = 'us-east-1';
const TARGET_REGION = 'eu-west-1';
const SOURCE_BUCKET = `${STACK}-source`;
const DEST_BUCKET = `${STACK}-dest-eu`;
const PUT_BUCKET = `${STACK}-put-baseline`;
const PREFIX = 'data/';
const OUTBOUND_BUCKET = outboundBucketName(STACK, LOCAL_ACCOUNT_ID, SOURCE_REGION);
const INBOUND_BUCKET = inboundBucketName(STACK, LOCAL_ACCOUNT_ID, TARGET_REGION);
const SOURCE_QUEUE = sourceQueueName(SOURCE_BUCKET, PREFIX);
const TARGET_QUEUE = targetQueueName(STACK, TARGET_REGION);

const started = performance.now();
function say(text: string): void {
  process.stdout.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Data: deterministic JSON log lines with varied fields (realistic, compressible text)
// ---------------------------------------------------------------------------------------------------------

const SERVICES = [
  'checkout',
  'cart',
  'search',
  'auth',
  'payments',
  'inventory',
  'shipping',
  'recommendations',
  'profile',
  'notifications',
  'pricing',
  'gateway',
];
const LEVELS = ['info', 'info', 'info', 'info', 'info', 'info', 'debug', 'debug', 'warn', 'error'];
const METHODS = ['GET', 'GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE'];
const RESOURCES = ['orders', 'users', 'items', 'carts', 'sessions', 'invoices', 'reviews', 'addresses'];
const STATUSES = [200, 200, 200, 200, 200, 200, 200, 201, 204, 304, 400, 401, 404, 429, 500, 503];
const REGIONS = ['us-east-1', 'us-west-2', 'eu-west-1', 'eu-central-1', 'ap-southeast-2'];
const AGENTS = [
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36',
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15',
  'Mozilla/5.0 (X11; Linux x86_64; rv:125.0) Gecko/20100101 Firefox/125.0',
  'okhttp/4.12.0',
  'python-requests/2.31.0',
  'aws-sdk-js/3.540.0 ua/2.0 os/linux lang/js md/nodejs#20.12.0',
];
const MESSAGES = [
  'request completed',
  'cache miss, loaded from database',
  'upstream call retried',
  'rate limit applied',
  'session refreshed',
  'payment authorised',
  'validation failed for field',
  'slow query detected',
];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

function hex(rnd: () => number, digits: number): string {
  let s = '';
  while (s.length < digits)
    s += Math.floor(rnd() * 0x100000000)
      .toString(16)
      .padStart(8, '0');
  return s.slice(0, digits);
}

/**
 * `size` bytes of JSON lines (ASCII), the same for the same seed. The last line is padding (spaces) to
 * reach the exact size.
 */
function logText(seed: number, size: number): Buffer {
  const rnd = seededRandom(seed);
  let t = Date.UTC(2026, 9, 1) + seed * 1000;
  const lines: string[] = [];
  let n = 0;
  for (;;) {
    t += Math.floor(rnd() * 40);
    const status = pick(rnd, STATUSES);
    const line =
      JSON.stringify({
        ts: new Date(t).toISOString(),
        level: status >= 500 ? 'error' : pick(rnd, LEVELS),
        service: pick(rnd, SERVICES),
        host: `ip-10-0-${Math.floor(rnd() * 8)}-${Math.floor(rnd() * 250)}`,
        region: pick(rnd, REGIONS),
        traceId: hex(rnd, 32),
        spanId: hex(rnd, 16),
        method: pick(rnd, METHODS),
        path: `/api/v${1 + Math.floor(rnd() * 2)}/${pick(rnd, RESOURCES)}/${Math.floor(rnd() ** 2 * 1e6)}`,
        status,
        bytes: Math.floor(rnd() * rnd() * 200_000),
        latencyMs: Math.round(rnd() * rnd() * 250_000) / 100,
        userId: `u-${Math.floor(rnd() ** 3 * 500_000)}`,
        userAgent: pick(rnd, AGENTS),
        msg: pick(rnd, MESSAGES),
      }) + '\n';
    if (n + line.length > size - 1) break;
    lines.push(line);
    n += line.length;
  }
  const rest = size - n;
  if (rest > 0) lines.push(' '.repeat(rest - 1) + '\n');
  return Buffer.from(lines.join(''), 'latin1');
}

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

/** The S3 ETag (unquoted) of `body` as the target writes it: one PUT up to 16 MiB, else 8 MiB parts. */
function restoredEtag(body: Buffer): string {
  if (body.length <= 16 * MiB) return md5(body);
  const parts: Buffer[] = [];
  for (let off = 0; off < body.length; off += 8 * MiB) {
    parts.push(
      createHash('md5')
        .update(body.subarray(off, off + 8 * MiB))
        .digest(),
    );
  }
  return `${md5(Buffer.concat(parts))}-${parts.length}`;
}

interface BenchObject {
  readonly key: string;
  readonly size: number;
  readonly md5: string;
  /** The ETag the restored copy must have (a multipart ETag for staged objects). */
  readonly restoredEtag: string;
}

// ---------------------------------------------------------------------------------------------------------
// Local stack helpers
// ---------------------------------------------------------------------------------------------------------

interface Stack {
  readonly s3: S3Client;
  readonly sourceSqs: SQSClient;
  readonly targetSqs: SQSClient;
  readonly clients: AwsClients[];
}

function connect(): Stack {
  const env = parseEnvFile(readFileSync(localEnvFile(HOME), 'utf8'), localEnvFile(HOME));
  const home = createAwsClients(resolveAwsSettings({ ...env, AWS_REGION: SOURCE_REGION }));
  const target = createAwsClients(resolveAwsSettings({ ...env, AWS_REGION: TARGET_REGION }));
  return { s3: home.s3, sourceSqs: home.sqs, targetSqs: target.sqs, clients: [home, target] };
}

function errorName(e: unknown): string {
  return (e as { name?: string }).name ?? '';
}

async function ensureBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } catch (e: unknown) {
    if (errorName(e) !== 'BucketAlreadyOwnedByYou' && errorName(e) !== 'BucketAlreadyExists') throw e;
  }
}

/** Delete every object (and unfinished multipart upload) of a bucket; a missing bucket is fine. */
async function emptyBucket(s3: S3Client, bucket: string): Promise<void> {
  try {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, MaxKeys: 1000 }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key === undefined ? [] : [{ Key: o.Key }]));
      if (keys.length === 0) break;
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys, Quiet: true } }));
    }
    const uploads = await s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of uploads.Uploads ?? []) {
      if (u.Key === undefined || u.UploadId === undefined) continue;
      await s3.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
    }
  } catch (e: unknown) {
    if (errorName(e) !== 'NoSuchBucket') throw e;
  }
}

async function deleteBucket(s3: S3Client, bucket: string): Promise<void> {
  await emptyBucket(s3, bucket);
  try {
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (e: unknown) {
    if (errorName(e) !== 'NoSuchBucket') throw e;
  }
}

async function queueUrl(sqs: SQSClient, name: string): Promise<string | undefined> {
  try {
    return (await sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch {
    return undefined;
  }
}

async function queueDepth(sqs: SQSClient, url: string): Promise<{ visible: number; inFlight: number }> {
  const r = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return {
    visible: Number(r.Attributes?.['ApproximateNumberOfMessages'] ?? 0),
    inFlight: Number(r.Attributes?.['ApproximateNumberOfMessagesNotVisible'] ?? 0),
  };
}

/** Wait until `want` messages are visible in the queue (the S3 notifications arrived). */
async function waitForMessages(sqs: SQSClient, url: string, want: number, what: string): Promise<void> {
  const deadline = Date.now() + 300_000;
  for (;;) {
    const { visible } = await queueDepth(sqs, url);
    if (visible >= want) return;
    if (Date.now() > deadline) {
      throw new Error(`${what}: only ${visible} of ${want} messages arrived in the queue within 300 s`);
    }
    await sleep(500);
  }
}

async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) out.set(o.Key, (o.ETag ?? '').replace(/"/g, ''));
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Running a worker as a user would, watching its memory and files
// ---------------------------------------------------------------------------------------------------------

interface LogEvent {
  readonly event: string;
  /** Epoch ms of the line (the log's own `time`). */
  readonly at: number;
  readonly fields: Record<string, unknown>;
}

interface WorkerRun {
  readonly label: string;
  readonly code: number | null;
  readonly stdout: string;
  readonly spawnedAt: number;
  readonly exitedAt: number;
  readonly events: LogEvent[];
  /** Highest VmHWM seen (the kernel's peak resident set of the process, worker threads included). */
  readonly peakRssBytes: number;
  /** Regular files the process held open for writing at some poll, plus new entries in its cwd and TMPDIR. */
  readonly files: string[];
}

/** Regular files `pid` has open for writing (pipes, sockets, /dev and anonymous files aside). */
async function writableFiles(pid: number): Promise<string[]> {
  const out: string[] = [];
  let fds: string[];
  try {
    fds = await readdir(`/proc/${pid}/fd`);
  } catch {
    return out;
  }
  for (const fd of fds) {
    try {
      const target = await readlink(`/proc/${pid}/fd/${fd}`);
      if (!target.startsWith('/') || /^\/(dev|proc|sys|memfd:)/.test(target)) continue;
      const info = await readFile(`/proc/${pid}/fdinfo/${fd}`, 'utf8');
      const flags = /^flags:\s+([0-7]+)/m.exec(info)?.[1];
      if (flags !== undefined && (parseInt(flags, 8) & 3) !== 0) out.push(target);
    } catch {
      // The fd closed between readdir and readlink.
    }
  }
  return out;
}

async function listTree(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true });
  return entries.map((e) => path.join(dir, e));
}

/**
 * Run `node dist/cli.js --log-level info ARGS` in an empty working directory with its own empty TMPDIR;
 * collect its JSON log events, poll its peak RSS every 100 ms and its open files every 500 ms.
 */
async function runWorker(label: string, args: readonly string[], timeoutMs = 900_000): Promise<WorkerRun> {
  const sandbox = await mkdtemp(path.join(os.tmpdir(), 'baler-bench-worker-'));
  const cwd = path.join(sandbox, 'cwd');
  const tmp = path.join(sandbox, 'tmp');
  await mkdir(cwd);
  await mkdir(tmp);
  const env: NodeJS.ProcessEnv = { ...process.env, BALER_HOME: HOME, TMPDIR: tmp, TMP: tmp, TEMP: tmp };
  delete env['LOG_LEVEL'];
  const spawnedAt = Date.now();
  const child = spawn(process.execPath, [...NODE_ARGS, CLI, '--log-level', 'info', ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${label}: could not start ${CLI}`);
  cpu.watch(label, pid);
  const events: LogEvent[] = [];
  const tail: string[] = [];
  let stdout = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (stdout += s));
  const logFile = LOGS ? path.join(LOGS, `${label.replace(/[^\w-]+/g, '_')}.log`) : undefined;
  const logLines: string[] = [];
  createInterface({ input: child.stderr }).on('line', (line) => {
    if (logFile) logLines.push(line);
    tail.push(line.length > 500 ? `${line.slice(0, 500)}…` : line);
    if (tail.length > 40) tail.shift();
    try {
      const o = JSON.parse(line) as Record<string, unknown>;
      if (typeof o['event'] !== 'string') return;
      const at = typeof o['time'] === 'string' ? Date.parse(o['time']) : Number.NaN;
      events.push({ event: o['event'], at: Number.isNaN(at) ? Date.now() : at, fields: o });
    } catch {
      // Not a JSON log line (e.g. "baler: ..." on a usage error): kept in the tail only.
    }
  });
  let peak = 0;
  const files = new Set<string>();
  let ticks = 0;
  let polling = false;
  const timer = setInterval(() => {
    if (polling) return;
    polling = true;
    ticks += 1;
    void (async () => {
      peak = Math.max(peak, (await procStatusHwm(pid)) ?? 0);
      if (ticks % 5 === 0) for (const f of await writableFiles(pid)) files.add(f);
    })().finally(() => (polling = false));
  }, 100);
  const killer = setTimeout(() => child.kill('SIGTERM'), timeoutMs);
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (c) => {
      resolve(c);
    });
  });
  const exitedAt = Date.now();
  cpu.unwatch(label);
  clearInterval(timer);
  clearTimeout(killer);
  for (const f of [...(await listTree(cwd)), ...(await listTree(tmp))]) files.add(f);
  await rm(sandbox, { recursive: true, force: true });
  if (logFile) {
    await mkdir(path.dirname(logFile), { recursive: true });
    await writeFile(logFile, logLines.join('\n') + '\n');
  }
  if (code !== 0) {
    throw new Error(`${label} exited with code ${String(code)}; last log lines:\n${tail.join('\n')}`);
  }
  return { label, code, stdout, spawnedAt, exitedAt, events, peakRssBytes: peak, files: [...files] };
}

/** When the last `event` line was logged. */
function lastEventAt(run: WorkerRun, event: string): number {
  const times = run.events.filter((e) => e.event === event).map((e) => e.at);
  if (times.length === 0) throw new Error(`${run.label}: no ${event} log line`);
  return Math.max(...times);
}

/** Seconds from spawn to the last `event` line (the `--until-idle` tail excluded). */
function activeSeconds(run: WorkerRun, event: string): number {
  return (lastEventAt(run, event) - run.spawnedAt) / 1000;
}

/** CPU spent from spawn to the last `event` line: the window {@link activeSeconds} measures. */
function activeCpu(run: WorkerRun, event: string): CpuWindow {
  return cpuBetween(cpu.samples, run.spawnedAt, lastEventAt(run, event));
}

function sumField(run: WorkerRun, event: string, field: string): number {
  return run.events
    .filter((e) => e.event === event)
    .reduce((a, e) => {
      const v = e.fields[field];
      return a + (typeof v === 'number' ? v : 0);
    }, 0);
}

/** The JSON summary the worker printed last on stdout. */
function summaryOf(run: WorkerRun): unknown {
  const line = run.stdout.trim().split('\n').pop() ?? '';
  return JSON.parse(line);
}

interface SourceSummary {
  batches: number;
  objects: number;
  rawBytes: number;
  archiveBytes: number;
  skipped: number;
  failedBatches: number;
}

interface TargetSummary {
  archives: number;
  objects: number;
  bytes: number;
  failed: number;
}

// ---------------------------------------------------------------------------------------------------------
// Baselines
// ---------------------------------------------------------------------------------------------------------

/** `zstd -12 -T2 -q -c FILE > /dev/null`, wall time; the output is counted, not kept. */
async function zstdBaseline(file: string): Promise<{ seconds: number; outBytes: number }> {
  const t0 = performance.now();
  const child = spawn(ZSTD, [`-${LEVEL}`, '-T2', '-q', '-c', file], { stdio: ['ignore', 'pipe', 'inherit'] });
  let outBytes = 0;
  child.stdout.on('data', (c: Buffer) => (outBytes += c.length));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`${ZSTD} exited with code ${String(code)}`);
  return { seconds: (performance.now() - t0) / 1000, outBytes };
}

async function zstdVersion(): Promise<string> {
  const child = spawn(ZSTD, ['--version'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (s: string) => (out += s));
  await new Promise((resolve) => child.once('close', resolve));
  return /v(\d+\.\d+\.\d+)/.exec(out)?.[1] ?? 'unknown';
}

/** Plain concurrent GETs of `keys`, bodies read to the end. */
async function getBaseline(s3: S3Client, keys: readonly string[], concurrency: number): Promise<number> {
  const limit = pLimit(concurrency);
  const t0 = performance.now();
  await Promise.all(
    keys.map((Key) =>
      limit(async () => {
        const r = await s3.send(new GetObjectCommand({ Bucket: SOURCE_BUCKET, Key }));
        for await (const _ of r.Body as Readable) {
          // drain
        }
      }),
    ),
  );
  return (performance.now() - t0) / 1000;
}

/** `own` (a process name), radosgw, the OSD and the whole machine in a window, CPU-seconds. */
function cpuSummary(w: CpuWindow, own: string): string {
  const p = (name: string) => fmt(w.processes[name] ?? 0, 2);
  return (
    `${own} ${p(own)} CPU-s, radosgw ${p('radosgw')}, ceph-osd ${p('ceph-osd')}; machine busy ` +
    `${fmt(w.machineBusy, 2)} of ${fmt(w.machineTotal, 2)} CPU-s over ${fmt(w.seconds, 2)} s`
  );
}

/** A baseline's wall time and the CPU spent meanwhile. */
interface Timed {
  readonly seconds: number;
  readonly cpu: CpuWindow;
}

/** Plain concurrent PUTs of the objects to an empty bucket. */
async function putBaseline(
  s3: S3Client,
  objects: readonly BenchObject[],
  body: (i: number) => Buffer | Readable,
): Promise<Timed> {
  await emptyBucket(s3, PUT_BUCKET);
  const limit = pLimit(PUT_CONCURRENCY);
  await cpu.sample();
  const from = Date.now();
  const t0 = performance.now();
  await Promise.all(
    objects.map((o, i) =>
      limit(() =>
        s3.send(
          new PutObjectCommand({
            Bucket: PUT_BUCKET,
            Key: o.key,
            Body: body(i),
            ContentLength: o.size,
            ContentType: 'application/x-ndjson',
          }),
        ),
      ),
    ),
  );
  const seconds = (performance.now() - t0) / 1000;
  await cpu.sample();
  const window = cpuBetween(cpu.samples, from, Date.now());
  await emptyBucket(s3, PUT_BUCKET);
  return { seconds, cpu: window };
}

// ---------------------------------------------------------------------------------------------------------
// One phase: upload, source, target, baselines
// ---------------------------------------------------------------------------------------------------------

interface PhaseResult {
  readonly objects: readonly BenchObject[];
  readonly rawBytes: number;
  readonly source: WorkerRun;
  readonly sourceSummary: SourceSummary;
  readonly sourceSeconds: number;
  readonly target: WorkerRun;
  readonly targetSummary: TargetSummary;
  readonly targetSeconds: number;
  /** CPU from the target's spawn to its last restored archive. */
  readonly targetCpu: CpuWindow;
  readonly putSeconds: number;
  readonly putCpu: CpuWindow;
  readonly verified: number;
}

function sourceArgs(dir: string): string[] {
  return [
    'source',
    ...configArgs(dir),
    '--all',
    '--until-idle',
    '3',
    '--level',
    String(LEVEL),
    '--retry-delay',
    '1',
  ];
}

function configArgs(dir: string): string[] {
  return [
    '--config',
    path.join(dir, 'replication_config.json'),
    '--settings',
    path.join(dir, 'settings.json'),
  ];
}

async function runSourceAndTarget(
  stack: Stack,
  dir: string,
  urls: { source: string; target: string },
  objects: readonly BenchObject[],
  label: string,
  beforeTarget: () => Promise<void>,
  putBody: (i: number) => Buffer | Readable,
): Promise<PhaseResult> {
  const rawBytes = objects.reduce((a, o) => a + o.size, 0);
  say(`${label}: waiting for ${objects.length} S3 notifications in ${SOURCE_QUEUE}`);
  await waitForMessages(stack.sourceSqs, urls.source, objects.length, label);

  say(`${label}: running the source worker`);
  const source = await runWorker(`source (${label})`, sourceArgs(dir));
  const sourceSummary = summaryOf(source) as SourceSummary;
  if (sourceSummary.objects !== objects.length || sourceSummary.failedBatches > 0) {
    throw new Error(
      `${label}: the source archived ${sourceSummary.objects} of ${objects.length} objects (${sourceSummary.failedBatches} failed batches)`,
    );
  }
  const sourceSeconds = activeSeconds(source, 'batch_done');
  say(
    `${label}: source ${sourceSummary.objects} objects, ${(rawBytes / MB).toFixed(1)} MB -> ${(sourceSummary.archiveBytes / MB).toFixed(1)} MB in ${sourceSummary.batches} archive(s), ${sourceSeconds.toFixed(2)} s, peak RSS ${(source.peakRssBytes / MiB).toFixed(0)} MiB`,
  );

  await beforeTarget();

  say(`${label}: waiting for ${sourceSummary.batches} replicated archive(s) in ${TARGET_QUEUE}`);
  await waitForMessages(stack.targetSqs, urls.target, sourceSummary.batches, `${label} (target)`);
  say(`${label}: running the target worker`);
  const target = await runWorker(`target (${label})`, [
    'target',
    ...configArgs(dir),
    '--region',
    TARGET_REGION,
    '--until-idle',
    '3',
    '--retry-delay',
    '1',
  ]);
  const targetSummary = summaryOf(target) as TargetSummary;
  if (targetSummary.objects !== objects.length || targetSummary.failed > 0) {
    throw new Error(
      `${label}: the target restored ${targetSummary.objects} of ${objects.length} objects (${targetSummary.failed} failed)`,
    );
  }
  const targetSeconds = activeSeconds(target, 'archive_restored');
  const targetCpu = activeCpu(target, 'archive_restored');
  const written = await listKeys(stack.s3, DEST_BUCKET, objects[0]?.key.replace(/[^/]*$/, '') ?? PREFIX);
  const verified = objects.filter((o) => written.get(o.key) === o.restoredEtag).length;
  say(
    `${label}: target ${targetSummary.objects} objects in ${targetSeconds.toFixed(2)} s, peak RSS ${(target.peakRssBytes / MiB).toFixed(0)} MiB; ${verified}/${objects.length} destination ETags match`,
  );

  say(`${label}: plain PUT baseline (${PUT_CONCURRENCY} in flight)`);
  const { seconds: putSeconds, cpu: putCpu } = await putBaseline(stack.s3, objects, putBody);
  say(`${label}: plain PUTs ${putSeconds.toFixed(2)} s`);
  say(`${label}: CPU, target: ${cpuSummary(targetCpu, target.label)}`);
  say(`${label}: CPU, plain PUTs: ${cpuSummary(putCpu, 'bench')}`);
  return {
    objects,
    rawBytes,
    source,
    sourceSummary,
    sourceSeconds,
    target,
    targetSummary,
    targetSeconds,
    targetCpu,
    putSeconds,
    putCpu,
    verified,
  };
}

async function largePhase(
  stack: Stack,
  dir: string,
  urls: { source: string; target: string },
  dataFile: string,
): Promise<{ phase: PhaseResult; zstd: { seconds: number; outBytes: number }; signedPut: Timed }> {
  say(
    `large: generating and uploading ${LARGE_COUNT} × ${(LARGE_SIZE / MiB).toFixed(1)} MiB of JSON logs (also to ${dataFile})`,
  );
  const objects: BenchObject[] = [];
  const fh = await open(dataFile, 'w');
  const inflight: Promise<unknown>[] = [];
  try {
    for (let i = 0; i < LARGE_COUNT; i++) {
      const body = logText(1000 + i, LARGE_SIZE);
      const key = `${PREFIX}large/part-${String(i).padStart(2, '0')}.jsonl`;
      objects.push({ key, size: body.length, md5: md5(body), restoredEtag: restoredEtag(body) });
      await fh.write(body);
      const put = stack.s3.send(
        new PutObjectCommand({
          Bucket: SOURCE_BUCKET,
          Key: key,
          Body: body,
          ContentLength: body.length,
          ContentType: 'application/x-ndjson',
        }),
      );
      put.catch(() => undefined);
      inflight.push(put);
      if (inflight.length >= 2) await inflight.shift();
    }
    await Promise.all(inflight);
  } finally {
    await fh.close();
  }
  let zstd = { seconds: 0, outBytes: 0 };
  const offsets = objects.map((_, i) => i * LARGE_SIZE);
  const phase = await runSourceAndTarget(
    stack,
    dir,
    urls,
    objects,
    'large',
    async () => {
      // While S3 replication (emulated) copies the archive: not overlapping any measured worker.
      say(`large: zstd -${LEVEL} -T2 baseline on ${dataFile}`);
      zstd = await zstdBaseline(dataFile);
      say(`large: zstd ${zstd.seconds.toFixed(2)} s`);
    },
    (i) =>
      createReadStream(dataFile, {
        start: offsets[i] ?? 0,
        end: (offsets[i] ?? 0) + LARGE_SIZE - 1,
      }),
  );
  // A reference, not the goal's baseline: the same PUTs with the bytes in memory, which the SDK signs with
  // their SHA-256 (S3 checks it), the integrity the target's writes have. Streamed bodies go unsigned.
  say(`large: signed PUT reference (${PUT_CONCURRENCY} in flight, bodies in memory)`);
  const data = await readFile(dataFile);
  const signedPut = await putBaseline(stack.s3, objects, (i) =>
    data.subarray(offsets[i] ?? 0, (offsets[i] ?? 0) + LARGE_SIZE),
  );
  say(`large: signed PUTs ${signedPut.seconds.toFixed(2)} s`);
  say(`large: CPU, signed PUTs: ${cpuSummary(signedPut.cpu, 'bench')}`);
  return { phase, zstd, signedPut };
}

async function smallPhase(
  stack: Stack,
  dir: string,
  urls: { source: string; target: string },
): Promise<{ phase: PhaseResult; gets: { concurrency: number; seconds: number }[] }> {
  say(`small: generating and uploading ${SMALL_COUNT} × ${SMALL_SIZE / 1024} KiB JSON objects`);
  const bodies: Buffer[] = [];
  const objects: BenchObject[] = [];
  for (let i = 0; i < SMALL_COUNT; i++) {
    const body = logText(500_000 + i, SMALL_SIZE);
    bodies.push(body);
    objects.push({
      key: `${PREFIX}small/${String(i).padStart(5, '0')}.jsonl`,
      size: body.length,
      md5: md5(body),
      restoredEtag: restoredEtag(body),
    });
  }
  const limit = pLimit(32);
  await Promise.all(
    objects.map((o, i) =>
      limit(() =>
        stack.s3.send(
          new PutObjectCommand({
            Bucket: SOURCE_BUCKET,
            Key: o.key,
            Body: bodies[i],
            ContentLength: o.size,
            ContentType: 'application/x-ndjson',
          }),
        ),
      ),
    ),
  );
  const gets: { concurrency: number; seconds: number }[] = [];
  const phase = await runSourceAndTarget(
    stack,
    dir,
    urls,
    objects,
    'small',
    async () => {
      // After the source run, so radosgw's caches are as warm for the baseline as they were for the worker.
      for (const concurrency of GET_CONCURRENCIES) {
        const seconds = await getBaseline(
          stack.s3,
          objects.map((o) => o.key),
          concurrency,
        );
        gets.push({ concurrency, seconds });
        say(
          `small: plain GETs, ${concurrency} in flight: ${seconds.toFixed(2)} s (${(objects.length / seconds).toFixed(0)} objects/s)`,
        );
      }
    },
    (i) => bodies[i] ?? Buffer.alloc(0),
  );
  return { phase, gets };
}

// ---------------------------------------------------------------------------------------------------------
// Report
// ---------------------------------------------------------------------------------------------------------

const fmt = (n: number, digits = 1) => n.toFixed(digits);
const ratioCell = (r: number) => fmt(r, 2);
const met = (ok: boolean) => (ok ? 'yes' : '**no**');

interface Results {
  readonly machine: string;
  readonly date: string;
  readonly loadAvg: readonly number[];
  readonly zstdVersion: string;
  readonly large: PhaseResult;
  readonly zstd: { seconds: number; outBytes: number };
  /** The large phase's PUTs with in-memory (signed) bodies: a reference for (c), not its baseline. */
  readonly signedPut: Timed;
  readonly small: PhaseResult;
  readonly gets: readonly { concurrency: number; seconds: number }[];
  readonly totalSeconds: number;
}

function render(r: Results): string {
  const L = r.large;
  const S = r.small;
  const srcMBs = L.rawBytes / MB / L.sourceSeconds;
  const zstdMBs = L.rawBytes / MB / r.zstd.seconds;
  const a = srcMBs / zstdMBs;
  const srcObjs = S.objects.length / S.sourceSeconds;
  const bestGet = r.gets.reduce((best, g) => (g.seconds < best.seconds ? g : best));
  const getObjs = S.objects.length / bestGet.seconds;
  const b = srcObjs / getObjs;
  const tgtL = L.rawBytes / MB / L.targetSeconds;
  const putL = L.rawBytes / MB / L.putSeconds;
  const signedL = L.rawBytes / MB / r.signedPut.seconds;
  const tgtS = S.rawBytes / MB / S.targetSeconds;
  const putS = S.rawBytes / MB / S.putSeconds;
  const srcPeak = Math.max(L.source.peakRssBytes, S.source.peakRssBytes);
  const tgtPeak = Math.max(L.target.peakRssBytes, S.target.peakRssBytes);
  const files = [L.source, L.target, S.source, S.target].flatMap((w) =>
    w.files.map((f) => `${w.label}: ${f}`),
  );
  const mib = (n: number) => `${fmt(n / MiB, 0)} MiB`;
  const largeDesc = `${LARGE_COUNT} × ${fmt(LARGE_SIZE / MiB, LARGE_SIZE % MiB === 0 ? 0 : 1)} MiB`;
  const smallDesc = `${S.objects.length.toLocaleString('en-US')} × ${SMALL_SIZE / 1024} KiB`;
  const lines: string[] = [];
  const row = (...cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  lines.push(SECTION, '');
  if (SCALE !== 1) {
    lines.push(
      `> **Development run at BENCH_SCALE=${SCALE}: reduced data, not a result.** Run \`npm run bench:replicate\`` +
        ' at full scale on a quiet machine to replace this section.',
      '',
    );
  }
  lines.push(
    `Measured ${r.date} in one run (${fmt(r.totalSeconds, 0)} s) on: ${r.machine}; load average at start ` +
      `${r.loadAvg.map((x) => fmt(x, 2)).join(' / ')}. Local stack: Ceph radosgw (S3), fauxqs (SQS) and dynalite on ` +
      'the same machine, so the workers share the 2 cores with the S3 server. Workers are the built CLI ' +
      `(\`node dist/cli.js source|target\`), level ${LEVEL}. MB = 10^6 bytes.`,
    '',
  );
  row('measure', 'baler', 'baseline', 'ratio', 'goal', 'met?');
  row('---', '---:', '---', '---:', '---', '---');
  row(
    `(a) source throughput, ${largeDesc} JSON logs, level ${LEVEL}`,
    `${fmt(srcMBs)} MB/s`,
    `\`zstd -${LEVEL} -T2\` ${r.zstdVersion}, same bytes from local disk: ${fmt(zstdMBs)} MB/s`,
    ratioCell(a),
    '≥ 1.0',
    met(a >= 1),
  );
  row(
    `(b) source objects/s, ${smallDesc} JSON`,
    `${fmt(srcObjs, 0)} objects/s`,
    `plain GETs, ${bestGet.concurrency} in flight: ${fmt(getObjs, 0)} objects/s`,
    ratioCell(b),
    '≥ 0.5',
    met(b >= 0.5),
  );
  row(
    `(c) target restore, ${largeDesc}`,
    `${fmt(tgtL)} MB/s`,
    `plain PUTs, ${PUT_CONCURRENCY} in flight: ${fmt(putL)} MB/s`,
    ratioCell(tgtL / putL),
    '≥ 0.7',
    met(tgtL / putL >= 0.7),
  );
  row(
    `(c) reference only: target restore, ${largeDesc}`,
    `${fmt(tgtL)} MB/s`,
    `signed PUTs (bodies in memory), ${PUT_CONCURRENCY} in flight: ${fmt(signedL)} MB/s`,
    ratioCell(tgtL / signedL),
    '—',
    '—',
  );
  row(
    `(c) target restore, ${smallDesc}`,
    `${fmt(tgtS)} MB/s (${fmt(S.objects.length / S.targetSeconds, 0)} objects/s)`,
    `plain PUTs, ${PUT_CONCURRENCY} in flight: ${fmt(putS)} MB/s`,
    ratioCell(tgtS / putS),
    '≥ 0.7',
    met(tgtS / putS >= 0.7),
  );
  row(
    '(d) peak RSS, source worker',
    `${mib(srcPeak)} (large ${mib(L.source.peakRssBytes)}, small ${mib(S.source.peakRssBytes)})`,
    '—',
    '—',
    '< 256 MiB',
    met(srcPeak < RSS_GOAL_BYTES),
  );
  row(
    '(d) peak RSS, target worker',
    `${mib(tgtPeak)} (large ${mib(L.target.peakRssBytes)}, small ${mib(S.target.peakRssBytes)})`,
    '—',
    '—',
    '< 256 MiB',
    met(tgtPeak < RSS_GOAL_BYTES),
  );
  row(
    '(d) files created by the workers',
    files.length === 0 ? 'none' : `${files.length}: ${files.slice(0, 5).join(', ')}`,
    '—',
    '—',
    'none',
    met(files.length === 0),
  );
  lines.push('');
  lines.push(
    'Against the original Python system. Its figures are quoted from the issue: measured by the project’s ' +
      'steering on this machine class; not re-measured here.',
    '',
  );
  row('measure', 'baler (this run)', 'original (quoted)', 'baler / original');
  row('---', '---:', '---:', '---:');
  row('objects/s, 10 KiB objects', fmt(srcObjs, 0), '~75', fmt(srcObjs / 75, 1));
  row(
    'source MB/s, 64 MiB objects, level 12',
    fmt(srcMBs),
    '27-33',
    `${fmt(srcMBs / 33, 2)}-${fmt(srcMBs / 27, 2)}`,
  );
  row('… as a ratio to `zstd -12 -T2`', ratioCell(a), '0.82', fmt(a / 0.82, 2));
  row(
    'peak RSS',
    mib(Math.max(srcPeak, tgtPeak)),
    '1.05 GiB',
    fmt(Math.max(srcPeak, tgtPeak) / (1.05 * 1024 ** 3), 2),
  );
  row('temporary disk', files.length === 0 ? '0' : `${files.length} file(s)`, '760 MiB', '—');
  lines.push('');
  const sumBatchS = sumField(L.source, 'batch_done', 'durationMs') / 1000;
  const sumBatchSmall = sumField(S.source, 'batch_done', 'durationMs') / 1000;
  lines.push(
    'How it was measured:',
    '',
    `- Data: deterministic JSON log lines (15 varied fields, random trace ids). Large set ${largeDesc} ` +
      `(${fmt(L.rawBytes / MB)} MB); small set ${smallDesc} (${fmt(S.rawBytes / MB)} MB). Uploaded to the source ` +
      'bucket first; each worker started once all S3 notifications were in its queue. The source uses the ' +
      'default batch limits (1,000 objects / 256 MiB / 20 s), so the data makes several archives.',
    `- Worker times run from spawn to the last \`batch_done\` (source) or \`archive_restored\` (target) log ` +
      'line, so process start-up, gathering from SQS, GET/HEAD/tags and the target’s verification are ' +
      'included and the `--until-idle` tail is not. The per-batch durations overlap (the source prepares ' +
      'the next batch while it packs one), so their sum can exceed the wall time. ' +
      `Source large: ${fmt(L.sourceSeconds, 2)} s (sum of batch durations ${fmt(sumBatchS, 2)} s), ` +
      `${L.sourceSummary.batches} archive(s), ${fmt(L.sourceSummary.archiveBytes / MB)} MB ` +
      `(ratio ${fmt(L.rawBytes / L.sourceSummary.archiveBytes, 2)}; zstd CLI ${fmt(L.rawBytes / r.zstd.outBytes, 2)}). ` +
      `Source small: ${fmt(S.sourceSeconds, 2)} s (sum of batch durations ${fmt(sumBatchSmall, 2)} s), ` +
      `${S.sourceSummary.batches} archive(s), ratio ${fmt(S.rawBytes / S.sourceSummary.archiveBytes, 2)}. ` +
      `Target: large ${fmt(L.targetSeconds, 2)} s (archive processing alone ${fmt(sumField(L.target, 'archive_restored', 'durationMs') / 1000, 2)} s), ` +
      `small ${fmt(S.targetSeconds, 2)} s (archive processing alone ${fmt(sumField(S.target, 'archive_restored', 'durationMs') / 1000, 2)} s).`,
    `- (a) baseline: the same bytes as one file in ${os.tmpdir()} (just written, so in the page cache), ` +
      `\`${ZSTD} -${LEVEL} -T2 -q -c FILE\` with the output counted and discarded, wall time ` +
      `${fmt(r.zstd.seconds, 2)} s.`,
    `- (b) baseline: GetObject of every small object, bodies read to the end, run after the source worker ` +
      `(radosgw equally warm): ${r.gets.map((g) => `${g.concurrency} in flight ${fmt(S.objects.length / g.seconds, 0)} objects/s`).join(', ')}; ` +
      'the faster one is the baseline.',
    `- (c) baseline: PutObject of the same objects (same keys, bytes, content type) to an empty bucket, ` +
      `${PUT_CONCURRENCY} in flight (large ones streamed from the local file): large ${fmt(L.putSeconds, 2)} s, ` +
      `small ${fmt(S.putSeconds, 2)} s. Restored objects checked: ${L.verified + S.verified} of ` +
      `${L.objects.length + S.objects.length} destination ETags equal those of the generated data (its MD5; for objects over 16 MiB, which the target writes by multipart upload, the MD5 of its 8 MiB parts’ MD5s with the part count).`,
    `- (c) reference: the large objects PUT again with their bytes in memory, which the SDK signs with ` +
      `their SHA-256 (\`x-amz-content-sha256\`) and S3 checks, as it does for every part the target writes; ` +
      `streamed bodies (the baseline above) go unsigned and unchecked. ${fmt(r.signedPut.seconds, 2)} s, so ` +
      `signing alone runs plain PUTs at ${ratioCell(L.putSeconds / r.signedPut.seconds)} of the baseline.`,
    '- (d) VmHWM of /proc/PID/status polled every 100 ms (the kernel’s peak resident set, worker threads ' +
      'included). Files: each worker ran in an empty working directory with its own empty TMPDIR, both listed ' +
      'after exit, and its open file descriptors were checked every 500 ms for regular files opened for writing.',
    '',
  );
  lines.push(...cpuSection(r));
  return lines.join('\n');
}

/**
 * Where (c)'s time goes: CPU of the target, of the baselines' process, of radosgw and of the OSD, and of the whole
 * machine, in the large phase. A wall-time ratio on a machine the server shares factors (up to the 100 ms
 * sampling) into how much CPU each side needs and how fully each kept the cores busy.
 */
function cpuSection(r: Results): string[] {
  const L = r.large;
  const GB = L.rawBytes / 1e9;
  const lines: string[] = [];
  const row = (...cells: string[]) => lines.push(`| ${cells.join(' | ')} |`);
  const perGb = (n: number | undefined) => fmt((n ?? 0) / GB, 2);
  const runs: [string, string, CpuWindow][] = [
    ['target worker, spawn to last archive restored', L.target.label, L.targetCpu],
    ['plain PUTs, the (c) baseline (bench process)', 'bench', L.putCpu],
    ['signed PUTs, reference (bench process)', 'bench', r.signedPut.cpu],
  ];
  lines.push(
    `CPU accounting, large phase (${fmt(L.rawBytes / MB)} MB): CPU-seconds per GB, user + system, all threads, ` +
      'from /proc/PID/stat and /proc/stat sampled every 100 ms. “Machine” counts every process and the kernel.',
    '',
  );
  row('run', 'wall s', 'its process', 'radosgw', 'ceph-osd', 'machine', 'machine busy');
  row('---', '---:', '---:', '---:', '---:', '---:', '---:');
  for (const [name, own, w] of runs) {
    row(
      name,
      fmt(w.seconds, 2),
      perGb(w.processes[own]),
      perGb(w.processes['radosgw']),
      perGb(w.processes['ceph-osd']),
      perGb(w.machineBusy),
      `${fmt((100 * w.machineBusy) / w.machineTotal, 0)}%`,
    );
  }
  const t = L.targetCpu;
  const p = L.putCpu;
  const cpuFactor = p.machineBusy / t.machineBusy;
  const putBusy = p.machineBusy / p.machineTotal;
  const busyFactor = t.machineBusy / t.machineTotal / putBusy;
  lines.push(
    '',
    `(c) large ≈ ${fmt(cpuFactor, 2)} (the plain PUTs’ machine CPU ÷ the target’s) × ${fmt(busyFactor, 2)} ` +
      '(how busy the target kept the machine ÷ how busy the PUTs did). Even with the cores fully busy, the ' +
      `target’s CPU per GB would allow at most ${fmt(cpuFactor / putBusy, 2)} (the first factor ÷ the PUTs’ ` +
      `${fmt(100 * putBusy, 0)}%), as long as the workers share the cores with the S3 server.`,
    '',
  );
  return lines;
}

/** Replace the section in `file` (or append it; create the file if needed), keeping other sections. */
// ---------------------------------------------------------------------------------------------------------
// Main
// ---------------------------------------------------------------------------------------------------------

async function provisionBench(dir: string): Promise<void> {
  const config = {
    replication_configuration: [
      {
        source: {
          region: SOURCE_REGION,
          bucket: SOURCE_BUCKET,
          prefix_filter: PREFIX,
          // The default batch limits (1,000 objects / 256 MiB / 20 s): what a deployment runs with.
        },
        destinations: [{ region: TARGET_REGION, bucket: DEST_BUCKET }],
      },
    ],
  };
  const settings = {
    stack_name: STACK,
    enabled_regions: [
      { region: SOURCE_REGION, source_target: ['source'] },
      { region: TARGET_REGION, source_target: ['target'] },
    ],
  };
  await writeFile(path.join(dir, 'replication_config.json'), JSON.stringify(config, null, 2));
  await writeFile(path.join(dir, 'settings.json'), JSON.stringify(settings, null, 2));
  const child = spawn(process.execPath, [CLI, '--log-level', 'warn', 'local', 'up', ...configArgs(dir)], {
    cwd: ROOT,
    env: { ...process.env, BALER_HOME: HOME },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  if (code !== 0) throw new Error(`baler local up exited with code ${String(code)}`);
}

async function main(): Promise<void> {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  const loadAvg = os.loadavg();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-bench-replicate-'));
  say(`scale ${SCALE}; work dir ${dir}; results -> ${OUT}`);
  say('bringing the local stack up (reused if running) and provisioning the bench config');
  await provisionBench(dir);
  const stack = connect();
  const daemons = await cephPids(localPaths(HOME).cephDir);
  for (const [daemon, name] of [
    ['client.rgw.a', 'radosgw'],
    ['osd.0', 'ceph-osd'],
  ] as const) {
    const pid = daemons[daemon];
    if (pid === undefined) throw new Error(`the local stack's ${name} is not running`);
    cpu.watch(name, pid);
  }
  cpu.watch('bench', process.pid);
  const urls = {
    source: (await queueUrl(stack.sourceSqs, SOURCE_QUEUE)) ?? '',
    target: (await queueUrl(stack.targetSqs, TARGET_QUEUE)) ?? '',
  };
  if (!urls.source || !urls.target)
    throw new Error(`queues ${SOURCE_QUEUE} / ${TARGET_QUEUE} not provisioned`);
  try {
    // Leftovers of an interrupted run, and the provisioning's test events.
    for (const b of [SOURCE_BUCKET, DEST_BUCKET, OUTBOUND_BUCKET, INBOUND_BUCKET])
      await emptyBucket(stack.s3, b);
    await ensureBucket(stack.s3, PUT_BUCKET);
    await emptyBucket(stack.s3, PUT_BUCKET);
    await sleep(1000);
    await stack.sourceSqs.send(new PurgeQueueCommand({ QueueUrl: urls.source }));
    await stack.targetSqs.send(new PurgeQueueCommand({ QueueUrl: urls.target }));

    if (ONLY === 'small') {
      await smallPhase(stack, dir, urls);
      return;
    }
    const large = await largePhase(stack, dir, urls, path.join(dir, 'large.jsonl'));
    await rm(path.join(dir, 'large.jsonl'), { force: true });
    if (ONLY === 'large') return;
    const small = await smallPhase(stack, dir, urls);
    const results: Results = {
      machine: await machine(),
      date,
      loadAvg,
      zstdVersion: await zstdVersion(),
      large: large.phase,
      zstd: large.zstd,
      signedPut: large.signedPut,
      small: small.phase,
      gets: small.gets,
      totalSeconds: (performance.now() - started) / 1000,
    };
    const section = render(results);
    await writeSection(OUT, SECTION, section);
    process.stdout.write(`\n${section}\n`);
    say(`wrote ${OUT}`);
  } finally {
    if (KEEP) {
      say(`BENCH_KEEP=1: left buckets, queues and ${dir}`);
    } else {
      say('cleaning up buckets, queues and temp files');
      for (const b of [SOURCE_BUCKET, DEST_BUCKET, PUT_BUCKET, OUTBOUND_BUCKET, INBOUND_BUCKET]) {
        await deleteBucket(stack.s3, b).catch((e: unknown) => {
          say(`could not delete bucket ${b}: ${String(e)}`);
        });
      }
      const queues: [SQSClient, string][] = [
        [stack.sourceSqs, SOURCE_QUEUE],
        [stack.sourceSqs, deadLetterQueueName(SOURCE_QUEUE)],
        [stack.targetSqs, TARGET_QUEUE],
        [stack.targetSqs, deadLetterQueueName(TARGET_QUEUE)],
      ];
      for (const [sqs, name] of queues) {
        const url = await queueUrl(sqs, name);
        if (url) await sqs.send(new DeleteQueueCommand({ QueueUrl: url })).catch(() => undefined);
      }
      await rm(dir, { recursive: true, force: true });
    }
    for (const c of stack.clients) c.destroy();
    cpu.stop();
  }
}

main().catch((e: unknown) => {
  process.stderr.write(
    `bench:replicate failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`,
  );
  process.exitCode = 1;
});
