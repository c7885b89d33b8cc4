import { once } from 'node:events';
import net from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli } from '../runCli.js';

/** A port on 127.0.0.1 that nothing listens on: bound by the OS, read, and closed again. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/**
 * The environment of a worker container whose queue (and every other AWS endpoint) is a closed port. One
 * attempt per call (`BALER_MAX_ATTEMPTS=1`) keeps each run well under a second.
 */
function unreachableEnv(port: number, queueUrl: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env['PATH'] ?? '',
    BALER_NO_LOCAL_ENV: '1',
    BALER_HOME: path.join(root, '.baler-e2e-none'),
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    AWS_ENDPOINT_URL: `http://127.0.0.1:${port}`,
    AWS_ACCESS_KEY_ID: 'AK',
    AWS_SECRET_ACCESS_KEY: 'SK',
    AWS_DEFAULT_REGION: 'us-east-1',
    BALER_MAX_ATTEMPTS: '1',
    SQS_QUEUE_URL: queueUrl,
    STACK_NAME: 'unreachable-test',
    BUCKET: 'outbound',
  };
}

// The container health rule (docs/DEPLOYMENT.md): a worker that cannot reach its queue exits non-zero, so
// that ECS replaces the task instead of leaving one that polls nothing.
describe('Command: baler source|target|convert --queue (queue unreachable)', () => {
  it.each(['source', 'target'])(
    '%s (container form) exits 1 at start-up, naming SQS_QUEUE_URL',
    async (role) => {
      // Prepare
      const port = await closedPort();
      const queueUrl = `http://127.0.0.1:${port}/000000000000/${role}-queue`;
      const t0 = Date.now();
      // Act
      const r = await runCli([role], unreachableEnv(port, queueUrl));
      // Assess
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(`baler: SQS_QUEUE_URL ${queueUrl}: cannot read the queue's attributes:`);
      expect(r.stderr).toMatch(/ECONNREFUSED/);
      expect(r.stdout).toBe(''); // no run summary: the worker never started
      expect(Date.now() - t0).toBeLessThan(10_000);
    },
    20_000,
  );

  it('convert --queue exits 1, naming the queue', async () => {
    // Prepare
    const port = await closedPort();
    const queueUrl = `http://127.0.0.1:${port}/000000000000/convert-queue`;
    const t0 = Date.now();
    // Act
    const r = await runCli(
      ['convert', 's3://in-bucket', 's3://out-bucket', '--queue', queueUrl, '--progress', 'none'],
      unreachableEnv(port, queueUrl),
    );
    // Assess
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`baler: ${queueUrl}: receive failed: `);
    expect(r.stderr).toMatch(/ECONNREFUSED/);
    expect(r.stdout).toBe('');
    expect(Date.now() - t0).toBeLessThan(10_000);
  }, 20_000);
});
