import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { mkdir, readFile, rm, writeFile, open } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { LocalStackError } from '../core/errors.js';
import { formatEnvFile, localEnvFile } from '../core/envFile.js';
import { cephHealth, cephHealthProblem, cephPids, startCeph, stopCeph } from './ceph.js';
import { livePidFromFile, portOpen, terminate, waitFor } from './process.js';

/** Loopback ports of the local stack. */
export interface LocalPorts {
  /** radosgw (S3 API and its SNS-style topics API). @defaultValue 7480 */
  readonly s3: number;
  /** fauxqs (SQS). @defaultValue 9324 */
  readonly sqs: number;
  /** dynalite (DynamoDB). @defaultValue 8000 */
  readonly dynamodb: number;
  /** Notification bridge (radosgw HTTP push -> SQS). @defaultValue 7490 */
  readonly bridge: number;
  /** Ceph monitor. @defaultValue 3300 */
  readonly mon: number;
}

export const DEFAULT_PORTS: LocalPorts = { s3: 7480, sqs: 9324, dynamodb: 8000, bridge: 7490, mon: 3300 };

/** Region the local stack's env file names unless told otherwise. */
export const DEFAULT_LOCAL_REGION = 'us-east-1';

const Port = z.number().int().min(1).max(65535);
const LocalState = z.object({
  version: z.literal(1),
  ports: z.object({ s3: Port, sqs: Port, dynamodb: Port, bridge: Port, mon: Port }),
  accessKey: z.string().min(1),
  secretKey: z.string().min(1),
  region: z.string().min(1),
});
export type LocalState = z.infer<typeof LocalState>;

/** Files and folders of a local stack under `{home}/local`. */
export function localPaths(home: string) {
  const dir = path.join(home, 'local');
  return {
    dir,
    state: path.join(dir, 'state.json'),
    env: localEnvFile(home),
    cephDir: path.join(dir, 'ceph'),
    servicesPid: path.join(dir, 'services.pid'),
    servicesLog: path.join(dir, 'services.log'),
    replicationRules: path.join(dir, 'replication-rules.json'),
  };
}

/** Read the stack's state file, or undefined when there is none. */
export async function readLocalState(home: string): Promise<LocalState | undefined> {
  let text: string;
  try {
    text = await readFile(localPaths(home).state, 'utf8');
  } catch {
    return undefined;
  }
  const parsed = LocalState.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new LocalStackError(`${localPaths(home).state} is not a valid state file: ${parsed.error.message}`);
  }
  return parsed.data;
}

/** The SDK settings a client needs to use the stack: what `.baler/local/env` holds. */
export function localEnvVars(state: LocalState): Record<string, string> {
  return {
    AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${state.ports.s3}`,
    AWS_ENDPOINT_URL_SQS: `http://127.0.0.1:${state.ports.sqs}`,
    AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${state.ports.dynamodb}`,
    AWS_ACCESS_KEY_ID: state.accessKey,
    AWS_SECRET_ACCESS_KEY: state.secretKey,
    AWS_REGION: state.region,
    BALER_LOCAL: '1',
    BALER_LOCAL_BRIDGE_PORT: String(state.ports.bridge),
  };
}

export interface UpOptions {
  readonly home: string;
  readonly ports?: Partial<LocalPorts>;
  readonly region?: string;
  readonly log: Logger;
  /** Install missing Debian packages (as root). @defaultValue true */
  readonly install?: boolean;
}

/** Absolute path of the built CLI entry, used to start the services process. */
function cliEntry(): string {
  return fileURLToPath(new URL('../cli.js', import.meta.url));
}

async function servicesPid(home: string): Promise<number | undefined> {
  const p = localPaths(home);
  return livePidFromFile(p.servicesPid, `--home ${home}`);
}

async function httpAnswers(port: number, pathName = '/'): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${pathName}`, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Bring the local stack up (idempotent): Ceph radosgw, then the services process (fauxqs, dynalite, bridge).
 * Writes `state.json` and the env file. Components already running are left as they are.
 */
export async function localUp(o: UpOptions): Promise<LocalState> {
  const p = localPaths(o.home);
  await mkdir(p.dir, { recursive: true });
  const previous = await readLocalState(o.home);
  const state: LocalState = {
    version: 1,
    ports: { ...DEFAULT_PORTS, ...previous?.ports, ...o.ports },
    accessKey: previous?.accessKey ?? `BALER${randomBytes(8).toString('hex').toUpperCase()}`,
    secretKey: previous?.secretKey ?? randomBytes(24).toString('base64url'),
    region: o.region ?? previous?.region ?? DEFAULT_LOCAL_REGION,
  };
  const running = await localStatus(o.home);
  if (previous && running.some((c) => c.pid !== undefined)) {
    const changed = (Object.keys(state.ports) as (keyof LocalPorts)[]).filter(
      (k) => state.ports[k] !== previous.ports[k],
    );
    if (changed.length > 0) {
      throw new LocalStackError(
        `the local stack is running with other ports (${changed.map((k) => `${k}=${previous.ports[k]}`).join(', ')}); ` +
          `run 'baler local down' first to change them`,
      );
    }
  }
  if (previous && (previous.ports.s3 !== state.ports.s3 || previous.ports.mon !== state.ports.mon)) {
    // The monitor's address is baked into its monmap: a new port means a new cluster.
    await rm(p.cephDir, { recursive: true, force: true });
  }
  await writeFile(p.state, JSON.stringify(state, null, 2) + '\n');
  const t0 = Date.now();
  const ceph = await startCeph({
    dir: p.cephDir,
    s3Port: state.ports.s3,
    monPort: state.ports.mon,
    accessKey: state.accessKey,
    secretKey: state.secretKey,
    log: o.log,
    install: o.install ?? true,
  });
  o.log.debug({ event: 'ceph_ready', durationMs: Date.now() - t0, bootstrapped: ceph.bootstrapped });
  if (!(await servicesPid(o.home))) {
    for (const port of [state.ports.sqs, state.ports.dynamodb, state.ports.bridge]) {
      if (await portOpen(port)) {
        throw new LocalStackError(
          `port ${port} on 127.0.0.1 is taken by another process; choose another port`,
        );
      }
    }
    const logFile = await open(p.servicesLog, 'a');
    const args = [
      cliEntry(),
      'local',
      'services',
      ...['--home', o.home],
      ...['--sqs-port', String(state.ports.sqs), '--dynamodb-port', String(state.ports.dynamodb)],
      ...['--bridge-port', String(state.ports.bridge), '--s3-port', String(state.ports.s3)],
      ...['--region', state.region],
    ];
    const child = spawn(process.execPath, args, {
      detached: true,
      stdio: ['ignore', logFile.fd, logFile.fd],
      env: {
        ...process.env,
        BALER_NO_LOCAL_ENV: '1',
        AWS_ACCESS_KEY_ID: state.accessKey,
        AWS_SECRET_ACCESS_KEY: state.secretKey,
      },
    });
    child.unref();
    await logFile.close();
    let exited: number | null = null;
    child.once('exit', (code) => (exited = code ?? -1));
    await waitFor(
      'the local services (fauxqs, dynalite, bridge)',
      async () => {
        if (exited !== null) {
          const tail = (await readFile(p.servicesLog, 'utf8').catch(() => ''))
            .split('\n')
            .slice(-5)
            .join('\n');
          throw new LocalStackError(
            `local services exited with code ${exited}; log ${p.servicesLog}:\n${tail}`,
          );
        }
        return (
          (await servicesPid(o.home)) !== undefined && (await httpAnswers(state.ports.bridge, '/health'))
        );
      },
      30_000,
    );
  }
  await writeFile(
    p.env,
    formatEnvFile(localEnvVars(state), 'Written by `baler local up`; removed by `baler local down`.'),
  );
  return state;
}

export interface ComponentStatus {
  readonly name: string;
  readonly pid: number | undefined;
  readonly endpoint: string | undefined;
  /** Whether the endpoint answered a request just now. */
  readonly healthy: boolean;
}

/** Every component of the stack with its pid (if ours and alive) and whether it answers. */
export async function localStatus(home: string): Promise<ComponentStatus[]> {
  const p = localPaths(home);
  const state = await readLocalState(home);
  const ceph = await cephPids(p.cephDir);
  const svc = await servicesPid(home);
  const ports = state?.ports ?? DEFAULT_PORTS;
  const on = async (pid: number | undefined, port: number, pathName?: string) =>
    pid !== undefined && (await httpAnswers(port, pathName));
  // A full OSD makes every S3 write hang while radosgw still answers: report it as a component.
  const health = ceph['mon.a'] !== undefined ? await cephHealth(p.cephDir) : undefined;
  const problem = health === undefined ? undefined : cephHealthProblem(health);
  const healthRow: ComponentStatus[] =
    problem === undefined
      ? []
      : [
          {
            name: `ceph storage: ${problem} (baler local down --purge resets it)`,
            pid: undefined,
            endpoint: undefined,
            healthy: false,
          },
        ];
  return [
    ...healthRow,
    {
      name: 'ceph-mon',
      pid: ceph['mon.a'],
      endpoint: `127.0.0.1:${ports.mon}`,
      healthy: ceph['mon.a'] !== undefined,
    },
    { name: 'ceph-osd', pid: ceph['osd.0'], endpoint: undefined, healthy: ceph['osd.0'] !== undefined },
    {
      name: 's3 (radosgw)',
      pid: ceph['client.rgw.a'],
      endpoint: `http://127.0.0.1:${ports.s3}`,
      healthy: await on(ceph['client.rgw.a'], ports.s3),
    },
    {
      name: 'sqs (fauxqs)',
      pid: svc,
      endpoint: `http://127.0.0.1:${ports.sqs}`,
      healthy: await on(svc, ports.sqs),
    },
    {
      name: 'dynamodb (dynalite)',
      pid: svc,
      endpoint: `http://127.0.0.1:${ports.dynamodb}`,
      healthy: await on(svc, ports.dynamodb),
    },
    {
      name: 'notification bridge',
      pid: svc,
      endpoint: `http://127.0.0.1:${ports.bridge}`,
      healthy: await on(svc, ports.bridge, '/health'),
    },
  ];
}

/**
 * Stop what `localUp` started from this home (by pid file, checked against the process's command line) and
 * remove the env file. Data stays for a fast next start unless `purge`.
 */
export async function localDown(home: string, purge = false): Promise<number[]> {
  const p = localPaths(home);
  const stopped: number[] = [];
  const svc = await servicesPid(home);
  if (svc !== undefined) {
    await terminate(svc);
    stopped.push(svc);
  }
  await rm(p.servicesPid, { force: true });
  stopped.push(...(await stopCeph(p.cephDir)));
  await rm(p.env, { force: true });
  if (purge) await rm(p.dir, { recursive: true, force: true });
  return stopped;
}
