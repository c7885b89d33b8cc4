import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');

/** Pids of live processes whose command line mentions `marker`. */
async function processesMentioning(marker: string): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    const cmd = await readFile(`/proc/${name}/cmdline`, 'utf8').catch(() => '');
    const stat = await readFile(`/proc/${name}/stat`, 'utf8').catch(() => '');
    const zombie = / Z /.test(stat.replace(/^.*\)/, ''));
    if (!zombie && cmd.split('\0').join(' ').includes(marker)) pids.push(Number(name));
  }
  return pids;
}

/** `n` distinct ports that were free a moment ago (bound to port 0 together, then released). */
async function freePorts(n: number): Promise<number[]> {
  const servers = Array.from({ length: n }, () => net.createServer());
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.listen(0, '127.0.0.1', r))));
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

describe('Command: baler local up/status/down (own home and ports)', () => {
  let home = '';
  const env = () => ({ ...process.env, BALER_HOME: home, BALER_NO_LOCAL_ENV: '1' });
  // Ports the OS hands out, so that nothing else on the machine (another test run) can hold them.
  let s3 = 0;
  let sqs = 0;
  let dynamodb = 0;
  const portArgs = async () => {
    const [a = 0, b = 0, c = 0, bridge = 0, mon = 0] = await freePorts(5);
    [s3, sqs, dynamodb] = [a, b, c];
    return [
      ...['--s3-port', `${s3}`, '--sqs-port', `${sqs}`, '--dynamodb-port', `${dynamodb}`],
      ...['--bridge-port', `${bridge}`, '--mon-port', `${mon}`, '--no-install', '--json'],
    ];
  };
  const baler = (...args: string[]) =>
    exec(process.execPath, [cli, ...args], { env: env(), timeout: 300_000 });

  afterAll(async () => {
    if (home) {
      await baler('local', 'down', '--purge').catch(() => undefined);
      await rm(home, { recursive: true, force: true });
    }
  });

  it('comes up, is harmless to bring up again, and leaves no process behind when brought down', async () => {
    // Prepare
    home = await mkdtemp(path.join(os.tmpdir(), 'baler-lifecycle-'));
    // Act: up twice
    const first = JSON.parse((await baler('local', 'up', ...(await portArgs()))).stdout) as {
      ports: { s3: number };
    };
    const statusBefore = JSON.parse((await baler('local', 'status', '--json')).stdout) as {
      components: { name: string; pid?: number; healthy: boolean }[];
    };
    const second = JSON.parse((await baler('local', 'up', '--json')).stdout) as { ports: { s3: number } };
    const statusAfter = JSON.parse((await baler('local', 'status', '--json')).stdout) as typeof statusBefore;
    const env = await readFile(path.join(home, 'local', 'env'), 'utf8');
    // Assess: both ups agree, every component answers, the second up restarted nothing
    expect(first.ports.s3).toBe(s3);
    expect(second.ports.s3).toBe(s3);
    expect(statusBefore.components.every((c) => c.healthy)).toBe(true);
    expect(statusAfter.components.map((c) => c.pid)).toEqual(statusBefore.components.map((c) => c.pid));
    expect(env).toContain(`AWS_ENDPOINT_URL_S3=http://127.0.0.1:${s3}`);
    expect(env).toContain(`AWS_ENDPOINT_URL_SQS=http://127.0.0.1:${sqs}`);
    expect(env).toContain(`AWS_ENDPOINT_URL_DYNAMODB=http://127.0.0.1:${dynamodb}`);
    expect(await processesMentioning(home)).not.toHaveLength(0);

    // Act: down
    await baler('local', 'down');
    const statusDown = baler('local', 'status', '--json');
    // Assess: nothing of ours runs, status says so with exit code 1, the env file is gone
    expect(await processesMentioning(home)).toEqual([]);
    await expect(statusDown).rejects.toMatchObject({ code: 1 });
    await expect(readFile(path.join(home, 'local', 'env'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });
});
