import { spawn } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';

const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');

describe('Command: baler (shutdown)', () => {
  it('exits 130 within the grace period when a request hangs after SIGTERM', async () => {
    // Prepare: an SQS endpoint that accepts connections and never answers
    const sockets: net.Socket[] = [];
    const blackHole = net.createServer((s) => sockets.push(s));
    await new Promise<void>((resolve) => blackHole.listen(0, '127.0.0.1', resolve));
    const { port } = blackHole.address() as net.AddressInfo;
    const child = spawn(process.execPath, [cli, 'source'], {
      env: {
        PATH: process.env['PATH'] ?? '',
        BALER_NO_LOCAL_ENV: '1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
        AWS_ACCESS_KEY_ID: 'AK',
        AWS_SECRET_ACCESS_KEY: 'SK',
        AWS_DEFAULT_REGION: 'us-east-1',
        SQS_QUEUE_URL: `http://127.0.0.1:${port}/000000000000/q`,
        STACK_NAME: 'shutdown-test',
        BUCKET: 'outbound',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    for (let i = 0; i < 100 && sockets.length === 0; i++) await sleep(100);
    // Act
    const t0 = Date.now();
    child.kill('SIGTERM');
    const [code] = (await once(child, 'exit')) as [number | null];
    const seconds = (Date.now() - t0) / 1000;
    blackHole.close();
    for (const s of sockets) s.destroy();
    // Assess
    expect(sockets.length).toBeGreaterThan(0);
    expect(code).toBe(130);
    expect(seconds).toBeGreaterThan(25);
    expect(seconds).toBeLessThan(45);
    expect(stderr).toMatch(/still busy 30 s after SIGTERM; exiting/);
  }, 60_000);
});
