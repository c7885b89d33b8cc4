import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, root, runCli } from '../runCli.js';
import { VERSION } from '../../src/cli/program.js';

/** Run the built CLI without any local stack settings; resolve with stdout, stderr and the exit code. */
async function baler(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, BALER_NO_LOCAL_ENV: '1', BALER_HOME: path.join(root, '.baler-e2e-none') };
  return runCli(args, env);
}

describe('Command: baler (built CLI)', () => {
  it('prints help listing the commands, exit 0', async () => {
    const r = await baler('--help');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Usage: baler/);
    expect(r.stdout).toMatch(/local\s/);
    expect(r.stdout).toMatch(/demo\s/);
    expect(r.stdout).toMatch(/--no-local-env/);
  });

  it('prints the package version', async () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
    const r = await baler('--version');
    expect(VERSION).toBe(pkg.version);
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('describes the local subcommands', async () => {
    const r = await baler('local', '--help');
    expect(r.code).toBe(0);
    for (const sub of ['up', 'status', 'down', 'smoke'])
      expect(r.stdout).toMatch(new RegExp(`\\n\\s+${sub}\\b`));
    expect(r.stdout).not.toMatch(/\bservices\b/);
  });

  it.each([
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['local', 'up', '--s3-port', '99999'], /port must be 1-65535, got 99999/],
    [['--log-level', 'loud', 'local', 'status'], /log level must be one of .*; got loud/],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const r = await baler(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });

  it('reports a stopped stack with exit 1', async () => {
    const r = await baler('local', 'status', '--json');
    expect(r.code).toBe(1);
    const status = JSON.parse(r.stdout) as { components: { healthy: boolean }[] };
    expect(status.components.length).toBeGreaterThan(0);
    expect(status.components.every((c) => !c.healthy)).toBe(true);
  });

  it('exits quietly with its own exit code when its stdout is closed early (`baler local status | head -1`)', async () => {
    // Prepare: the reader of stdout goes away before the CLI writes anything (it takes ~0.3 s to start)
    const env = { ...process.env, BALER_NO_LOCAL_ENV: '1', BALER_HOME: path.join(root, '.baler-e2e-none') };
    const child = spawn(process.execPath, [cli, 'local', 'status'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy();
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));

    // Act
    const [code] = (await once(child, 'close')) as [number | null];

    // Assess: status's own code for a stopped stack, and no crash report
    expect(stderr).not.toMatch(/EPIPE|Unhandled 'error'/);
    expect(code).toBe(1);
  });
});
