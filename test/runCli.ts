import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/** The repository root and the built CLI the tests run (`npm test` builds it first). */
export const root = path.resolve(import.meta.dirname, '..');
export const cli = path.join(root, 'dist', 'cli.js');

export interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

/**
 * Run `node dist/cli.js ...args` with exactly `env`; resolve with its output and exit code (never reject on a
 * non-zero exit: the code is what the tests assert).
 */
export async function runCli(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CliResult> {
  try {
    const r = await exec(process.execPath, [cli, ...args], { env, maxBuffer: 64 * 1024 * 1024 });
    return { stdout: r.stdout, stderr: r.stderr, code: 0 };
  } catch (e: unknown) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}
