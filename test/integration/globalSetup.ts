import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { parseEnvFile, localEnvFile } from '../../src/core/envFile.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
const home = path.join(root, '.baler');

declare module 'vitest' {
  export interface ProvidedContext {
    /** The SDK settings of the local stack (the env file `baler local up` wrote). */
    localEnv: Record<string, string>;
    /** The BALER_HOME of that stack. */
    localHome: string;
  }
}

let startedHere = false;

/**
 * Start the local stack once for the whole integration run (the built CLI, as a user would), unless one is
 * already running from this checkout, in which case it is reused and left running afterwards.
 */
export async function setup(project: TestProject): Promise<void> {
  const env = { ...process.env, BALER_HOME: home, BALER_NO_LOCAL_ENV: '1' };
  const status = await exec(process.execPath, [cli, 'local', 'status'], { env }).then(
    () => true,
    () => false,
  );
  if (!status) {
    await exec(process.execPath, [cli, 'local', 'up', '--log-level', 'warn'], { env, timeout: 900_000 });
    startedHere = true;
  }
  project.provide('localEnv', parseEnvFile(readFileSync(localEnvFile(home), 'utf8')));
  project.provide('localHome', home);
}

export async function teardown(): Promise<void> {
  if (!startedHere) return;
  await exec(process.execPath, [cli, 'local', 'down'], {
    env: { ...process.env, BALER_HOME: home, BALER_NO_LOCAL_ENV: '1' },
  });
}
