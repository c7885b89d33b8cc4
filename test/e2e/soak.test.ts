import { describe, expect, it } from 'vitest';
import { runCli } from '../runCli.js';

/** `baler soak …` without a local stack; usage errors must be found before any request is made. */
async function soak(args: string[], env: Record<string, string> = {}) {
  const fullEnv = {
    ...process.env,
    BALER_NO_LOCAL_ENV: '1',
    // Nothing listens here: a command that got as far as a request would fail with exit 1, not 2.
    AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'x',
    AWS_SECRET_ACCESS_KEY: 'y',
    ...env,
  };
  return runCli(['soak', ...args], fullEnv);
}

describe('Command: baler soak (built CLI)', () => {
  it('documents its options, the original env vars and its exit codes in --help', async () => {
    const r = await soak(['--help']);
    expect(r.code).toBe(0);
    for (const s of [
      '--include',
      '--exclude',
      '--shard',
      '--dry-run',
      '--checksum',
      '--max-speed',
      'MIN_PROCESSES',
      'MAX_PROCESSES',
      'MAX_SPEED',
      'OPTIMIZATION_INTERVAL',
      'MAX_RETRIES',
      'RETRY_DELAY',
      '130 interrupted',
    ]) {
      expect(r.stdout).toContain(s);
    }
  });

  it.each<{ args: string[]; env: Record<string, string>; error: RegExp }>([
    { args: ['s3://bucket/p', '/tmp/x', '--shard', '3/2'], env: {}, error: /--shard must be I\/N/ },
    {
      args: ['s3://bucket/p', '/tmp/x', '--max-concurrency', '0'],
      env: {},
      error: /--max-concurrency must be an integer ≥ 1/,
    },
    {
      args: ['s3://bucket/p', '/tmp/x'],
      env: { MIN_PROCESSES: 'lots' },
      error: /MIN_PROCESSES must be an integer ≥ 1, got "lots"/,
    },
    {
      args: ['s3://bucket/p', '/tmp/x'],
      env: { MIN_PROCESSES: '40', MAX_PROCESSES: '10' },
      error: /maximum concurrency \(10\) must be at least the minimum \(40\)/,
    },
    {
      args: ['s3://bucket/p', '/tmp/x', '--exclude', '[z-a]'],
      env: {},
      error: /invalid filter pattern "\[z-a\]"/,
    },
    { args: ['/not/s3', '/tmp/x'], env: {}, error: /expected an s3:\/\/bucket\/key URL/ },
    {
      args: ['s3://bucket/p', '/tmp/x'],
      env: { BALER_SOAK_READER: 'curl' },
      error: /BALER_SOAK_READER must be/,
    },
  ])('refuses bad input with exit 2 before any request: $error', async ({ args, env, error }) => {
    const r = await soak(args, env);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(error);
  });

  it('fails with exit 1 and a one-line error when the store cannot be reached', async () => {
    const r = await soak([
      's3://bucket/p',
      '/tmp/baler-e2e-unreachable',
      '--max-retries',
      '0',
      '--progress',
      'none',
    ]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^baler: list s3:\/\/bucket\/p\/: .*ECONNREFUSED/m);
  });
});
