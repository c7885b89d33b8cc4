import { randomBytes, randomUUID, createHash } from 'node:crypto';
import { mkdir, rm, writeFile, access } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Logger } from '../core/logger.js';
import { LocalStackError } from '../core/errors.js';
import { livePidFromFile, onPath, portOpen, run, terminate, waitFor, withLogTail } from './process.js';

/** Debian packages that provide a one-node Ceph with radosgw. */
export const CEPH_PACKAGES = ['ceph-mon', 'ceph-osd', 'radosgw', 'ceph-common'] as const;

/** Programs the local stack runs from those packages. */
const CEPH_PROGRAMS = ['ceph-mon', 'ceph-osd', 'radosgw', 'radosgw-admin', 'ceph', 'monmaptool'] as const;

/** Storage classes added to radosgw's default placement (AWS names; all land in the same pool locally). */
export const EXTRA_STORAGE_CLASSES = [
  'STANDARD_IA',
  'ONEZONE_IA',
  'INTELLIGENT_TIERING',
  'GLACIER',
  'GLACIER_IR',
  'DEEP_ARCHIVE',
  'REDUCED_REDUNDANCY',
] as const;

/** Regions that get a local KMS key (`arn:aws:kms:{region}:000000000000:key/baler-local`). */
export const LOCAL_KMS_REGIONS = [
  'us-east-1',
  'us-east-2',
  'us-west-2',
  'eu-west-1',
  'eu-central-1',
  'ap-southeast-2',
  'ap-northeast-1',
] as const;

/** The local stack's KMS key for a region: an ARN that passes config validation and that radosgw knows. */
export function localKmsKeyArn(region: string): string {
  return `arn:aws:kms:${region}:000000000000:key/baler-local`;
}

/**
 * KMS key ids radosgw's testing KMS backend accepts for SSE-KMS: two short test ids and one ARN per region in
 * {@link LOCAL_KMS_REGIONS}, so configurations with `kms_key_arn` work locally.
 */
export const LOCAL_KMS_KEY_IDS = [
  'testkey-1',
  'testkey-2',
  ...LOCAL_KMS_REGIONS.map(localKmsKeyArn),
] as const;

export interface CephOptions {
  /** State directory (`.baler/local/ceph`). */
  readonly dir: string;
  /** radosgw (S3) port on 127.0.0.1. */
  readonly s3Port: number;
  /** Ceph monitor port on 127.0.0.1. */
  readonly monPort: number;
  readonly accessKey: string;
  readonly secretKey: string;
  readonly log: Logger;
  /** Install the Debian packages when missing (only works as root). @defaultValue true */
  readonly install?: boolean;
}

/** The daemons of the one-node cluster, with the pid file each writes. */
const DAEMONS = ['client.rgw.a', 'osd.0', 'mon.a'] as const;
type Daemon = (typeof DAEMONS)[number];

interface CephPaths {
  readonly conf: string;
  readonly runDir: string;
  readonly logDir: string;
  readonly bootstrapped: string;
}

function cephPaths(dir: string): CephPaths {
  // Unix socket paths are limited to 107 bytes; deep checkouts get their admin sockets in a short tmp dir.
  const longest = path.join(dir, 'run', 'client.rgw.a.asok');
  const runDir =
    Buffer.byteLength(longest) < 100
      ? path.join(dir, 'run')
      : path.join(os.tmpdir(), `baler-ceph-${createHash('sha256').update(dir).digest('hex').slice(0, 12)}`);
  return {
    conf: path.join(dir, 'ceph.conf'),
    runDir,
    logDir: path.join(dir, 'log'),
    bootstrapped: path.join(dir, 'bootstrapped'),
  };
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

/**
 * Make sure the Ceph programs are installed. As root, missing Debian packages are installed with apt-get;
 * otherwise the error says exactly what to install.
 */
export async function ensureCephInstalled(log: Logger, install = true): Promise<void> {
  const missing: string[] = [];
  for (const p of CEPH_PROGRAMS) if (!(await onPath(p))) missing.push(p);
  if (missing.length === 0) return;
  const cmd = `apt-get install -y --no-install-recommends ${CEPH_PACKAGES.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!install || !isRoot || !(await onPath('apt-get'))) {
    throw new LocalStackError(
      `Ceph is not installed (missing ${missing.join(', ')}). The local S3 endpoint is Ceph radosgw; install it ` +
        `with: sudo apt-get update && sudo ${cmd}`,
    );
  }
  log.info(
    { event: 'ceph_install', packages: CEPH_PACKAGES },
    `installing ${CEPH_PACKAGES.join(' ')} (apt-get)`,
  );
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  await run('apt-get', ['update', '-qq'], { env, timeoutMs: 600_000 });
  await run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...CEPH_PACKAGES], {
    env,
    timeoutMs: 900_000,
  });
}

function cephConf(o: CephOptions, p: CephPaths, fsid: string): string {
  const keys = LOCAL_KMS_KEY_IDS.map((id) => `${id}=${randomBytes(32).toString('base64')}`).join(' ');
  return `# written by baler local up; one mon, one osd, one radosgw, auth off, loopback only
[global]
fsid = ${fsid}
mon host = v2:127.0.0.1:${o.monPort}
mon initial members = a
public network = 127.0.0.0/8
auth cluster required = none
auth service required = none
auth client required = none
run dir = ${p.runDir}
admin socket = ${p.runDir}/$name.asok
log file = ${p.logDir}/$name.log
pid file = ${p.runDir}/$name.pid
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon max pg per osd = 1000
mon warn on pool no redundancy = false
mon data avail warn = 2
# ceph-mon refuses to start when its filesystem has under 5% free (its default), silently for a daemon:
# a development stack on a 95%-full disk must still come up.
mon data avail crit = 1
mon warn on insecure global id reclaim allowed = false
osd crush chooseleaf type = 0
ms bind ipv6 = false
[mon]
mon data = ${o.dir}/mon.$id
[osd]
osd data = ${o.dir}/osd.$id
osd objectstore = bluestore
osd memory target = 1073741824
bluestore block path = ${o.dir}/osd.$id/block.file
bluestore block create = true
# A sparse file, but bluestore spreads its writes over the whole device and a file cannot be discarded, so
# after enough benchmark runs the file is as large on disk as this size. 16 and 32 GiB filled up within a
# day of tests and benchmarks (overwritten and deleted objects come back only after rgw gc's 2-4 minutes).
bluestore block size = 68719476736
bluestore cache autotune = false
bluestore cache size = 268435456
[client.rgw.a]
# civetweb, not beast: beast aborts radosgw 16 on DeleteObjects in a bucket with notifications.
# tcp_nodelay=1: without it every small GET waits ~44 ms (Nagle + delayed ACK).
rgw frontends = civetweb port=127.0.0.1:${o.s3Port} num_threads=64 tcp_nodelay=1
# Level 1 logs two lines per request: 0.5 GB a day of benchmarks. Errors are still logged.
debug rgw = 0/5
rgw dns name = localhost
rgw thread pool size = 64
# Space of deleted and overwritten objects comes back after minutes, not radosgw's default 2-3 hours:
# benchmarks write and delete gigabytes per run, which otherwise fill the OSD after a few runs.
rgw gc obj min wait = 120
rgw gc processor period = 120
rgw gc processor max time = 120
# radosgw forces ms_mon_client_mode=secure, impossible with auth=none (EACCES loop); override:
ms mon client mode = crc
rgw crypt require ssl = false
rgw crypt s3 kms backend = testing
rgw crypt s3 kms encryption keys = ${keys}
`;
}

/**
 * The problem in `ceph health` output that stops S3 writes, if any: a full OSD or pool blocks every write, so
 * radosgw requests hang. (Warnings such as "no active mgr" are expected on this one-node cluster.)
 *
 * @example
 * cephHealthProblem('HEALTH_ERR no active mgr; 1 full osd(s); 7 pool(s) full') // '1 full osd(s); 7 pool(s) full'
 */
export function cephHealthProblem(health: string): string | undefined {
  const parts = health
    .replace(/^HEALTH_\w+\s*/, '')
    .split(/;\s*/)
    .filter((p) => /\bfull\b/i.test(p));
  return parts.length ? parts.join('; ') : undefined;
}

/** `ceph health` of the cluster in `dir`, or undefined when it does not answer in 5 s. */
export async function cephHealth(dir: string): Promise<string | undefined> {
  const p = cephPaths(dir);
  try {
    return (
      await run('ceph', ['health'], { env: { ...process.env, CEPH_CONF: p.conf }, timeoutMs: 5_000 })
    ).trim();
  } catch {
    return undefined;
  }
}

/** Pids of the daemons that are running from this state directory. */
export async function cephPids(dir: string): Promise<Record<string, number | undefined>> {
  const p = cephPaths(dir);
  const out: Record<string, number | undefined> = {};
  for (const d of DAEMONS) out[d] = await livePidFromFile(path.join(p.runDir, `${d}.pid`), p.conf);
  return out;
}

async function rgwAnswers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Start the one-node cluster: bootstrap it on first use (about 30 s), else restart the daemons that are
 * not running on the existing data (a few seconds). Idempotent: running daemons are left alone.
 */
export async function startCeph(o: CephOptions): Promise<{ endpoint: string; bootstrapped: boolean }> {
  await ensureCephInstalled(o.log, o.install ?? true);
  const p = cephPaths(o.dir);
  const env = { ...process.env, CEPH_CONF: p.conf };
  const exec = (file: string, args: string[], timeoutMs = 60_000) => run(file, args, { env, timeoutMs });
  const daemon = (name: Daemon, file: string, args: string[]) =>
    exec(file, args).catch(async (e: unknown) => {
      throw await withLogTail(e, path.join(p.logDir, `${name}.log`));
    });
  const pids = await cephPids(o.dir);
  const fresh = !(await exists(p.bootstrapped));
  if (fresh) {
    if (Object.values(pids).some((x) => x !== undefined)) await stopCeph(o.dir);
    for (const port of [o.s3Port, o.monPort]) {
      if (await portOpen(port)) {
        throw new LocalStackError(
          `port ${port} on 127.0.0.1 is taken by another process; choose another port`,
        );
      }
    }
    o.log.info({ event: 'ceph_bootstrap', dir: o.dir }, 'bootstrapping a one-node Ceph cluster');
    await rm(o.dir, { recursive: true, force: true });
    await mkdir(path.join(o.dir, 'mon.a'), { recursive: true });
    await mkdir(path.join(o.dir, 'osd.0'), { recursive: true });
    await mkdir(p.runDir, { recursive: true });
    await mkdir(p.logDir, { recursive: true });
    const fsid = randomUUID();
    await writeFile(p.conf, cephConf(o, p, fsid));
    const monmap = path.join(o.dir, 'monmap');
    await exec('monmaptool', [
      '--create',
      '--addv',
      'a',
      `[v2:127.0.0.1:${o.monPort}]`,
      '--fsid',
      fsid,
      monmap,
    ]);
    await exec('ceph-mon', ['--mkfs', '-i', 'a', '--monmap', monmap, '-c', p.conf]);
    await daemon('mon.a', 'ceph-mon', ['-i', 'a', '-c', p.conf]);
    await waitFor(
      'ceph-mon',
      () =>
        exec('ceph', ['mon', 'stat'], 5_000).then(
          () => true,
          () => false,
        ),
      30_000,
    );
    const osdUuid = randomUUID();
    const osdId = (await exec('ceph', ['osd', 'new', osdUuid])).trim();
    if (osdId !== '0') throw new LocalStackError(`expected osd id 0 from a fresh cluster, got ${osdId}`);
    await exec('ceph-osd', ['-i', '0', '-c', p.conf, '--mkfs', '--osd-uuid', osdUuid], 120_000);
    await exec('ceph', ['osd', 'crush', 'add-bucket', 'localhost', 'host']);
    await exec('ceph', ['osd', 'crush', 'move', 'localhost', 'root=default']);
    await exec('ceph', ['osd', 'crush', 'add', 'osd.0', '1.0', 'host=localhost']);
    await daemon('osd.0', 'ceph-osd', ['-i', '0', '-c', p.conf]);
    await waitFor(
      'ceph-osd',
      async () => /1 up/.test(await exec('ceph', ['osd', 'stat'], 5_000).catch(() => '')),
      60_000,
    );
    // The first radosgw start creates the default zone, zonegroup and pools.
    await daemon('client.rgw.a', 'radosgw', ['-c', p.conf, '-n', 'client.rgw.a']);
    await waitFor('radosgw', () => rgwAnswers(o.s3Port), 60_000);
    for (const sc of EXTRA_STORAGE_CLASSES) {
      await exec('radosgw-admin', [
        ...['-c', p.conf, 'zonegroup', 'placement', 'add', '--rgw-zonegroup', 'default'],
        ...['--placement-id', 'default-placement', '--storage-class', sc],
      ]);
      await exec('radosgw-admin', [
        ...[
          '-c',
          p.conf,
          'zone',
          'placement',
          'add',
          '--rgw-zone',
          'default',
          '--placement-id',
          'default-placement',
        ],
        ...['--storage-class', sc, '--data-pool', 'default.rgw.buckets.data'],
      ]);
    }
    await exec('radosgw-admin', [
      ...['-c', p.conf, 'user', 'create', '--uid=baler', '--display-name=baler'],
      ...[`--access-key=${o.accessKey}`, `--secret-key=${o.secretKey}`],
    ]);
    // radosgw reads the placement's storage classes at start: restart it.
    const rgw = (await cephPids(o.dir))['client.rgw.a'];
    if (rgw) await terminate(rgw);
    await daemon('client.rgw.a', 'radosgw', ['-c', p.conf, '-n', 'client.rgw.a']);
    await waitFor('radosgw', () => rgwAnswers(o.s3Port), 60_000);
    await writeFile(p.bootstrapped, new Date().toISOString() + '\n');
    return { endpoint: `http://127.0.0.1:${o.s3Port}`, bootstrapped: true };
  }
  await mkdir(p.runDir, { recursive: true });
  if (!pids['mon.a']) {
    await daemon('mon.a', 'ceph-mon', ['-i', 'a', '-c', p.conf]);
    await waitFor(
      'ceph-mon',
      () =>
        exec('ceph', ['mon', 'stat'], 5_000).then(
          () => true,
          () => false,
        ),
      30_000,
    );
  }
  if (!pids['osd.0']) {
    await daemon('osd.0', 'ceph-osd', ['-i', '0', '-c', p.conf]);
  }
  await waitFor(
    'ceph-osd',
    async () => /1 up/.test(await exec('ceph', ['osd', 'stat'], 5_000).catch(() => '')),
    60_000,
  );
  if (!pids['client.rgw.a']) await daemon('client.rgw.a', 'radosgw', ['-c', p.conf, '-n', 'client.rgw.a']);
  await waitFor('radosgw', () => rgwAnswers(o.s3Port), 60_000);
  return { endpoint: `http://127.0.0.1:${o.s3Port}`, bootstrapped: false };
}

/** Stop the daemons started from this state directory (radosgw, then osd, then mon). Others are untouched. */
export async function stopCeph(dir: string): Promise<number[]> {
  const pids = await cephPids(dir);
  const stopped: number[] = [];
  for (const d of DAEMONS) {
    const pid = pids[d];
    if (pid === undefined) continue;
    await terminate(pid, 15_000);
    stopped.push(pid);
  }
  return stopped;
}
