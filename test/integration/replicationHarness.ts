import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { inject } from 'vitest';
import { LOCAL_ACCOUNT_ID, parseConfigPair, topology, type Topology } from '../../src/core/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { provisionLocal } from '../../src/local/provision.js';
import { readLocalState } from '../../src/local/stack.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
export const cli = path.join(root, 'dist', 'cli.js');

/** A replication config provisioned on the local stack, written to files the CLI can read. */
export interface ProvisionedConfig {
  readonly dir: string;
  readonly topology: Topology;
  /** Run the built CLI with `--config/--settings` of this config appended; resolves with stdout. */
  baler(...args: string[]): Promise<{ stdout: string; stderr: string }>;
  /** The same, but returns the exit code instead of throwing. */
  balerCode(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }>;
  /** Start the CLI in the background (for kill tests). */
  spawnBaler(...args: string[]): ChildProcess;
}

/** Provision `configJson`/`settingsJson` (unique names are the caller's job) and write them to a temp dir. */
export async function provisionConfig(
  configJson: unknown,
  settingsJson: unknown,
): Promise<ProvisionedConfig> {
  const home = inject('localHome');
  const state = await readLocalState(home);
  if (!state) throw new Error('no local stack');
  const loaded = parseConfigPair(configJson, settingsJson);
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-replication-'));
  const config = path.join(dir, 'replication_config.json');
  const settings = path.join(dir, 'settings.json');
  await writeFile(config, JSON.stringify(configJson));
  await writeFile(settings, JSON.stringify(settingsJson));
  await provisionLocal(home, state, loaded, createLogger({ level: 'warn' }));
  const env = { ...process.env, BALER_HOME: home, LOG_LEVEL: 'warn' };
  const argv = (args: string[]) => [cli, ...args, '--config', config, '--settings', settings];
  const baler = (...args: string[]) =>
    exec(process.execPath, argv(args), { env, timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
  return {
    dir,
    topology: topology(loaded, LOCAL_ACCOUNT_ID),
    baler,
    balerCode: (...args: string[]) =>
      baler(...args).then(
        (r) => ({ ...r, code: 0 }),
        (e: unknown) => {
          const err = e as { stdout: string; stderr: string; code: number };
          return { stdout: err.stdout, stderr: err.stderr, code: err.code };
        },
      ),
    spawnBaler: (...args: string[]) =>
      spawn(process.execPath, argv(args), { env, stdio: ['ignore', 'pipe', 'pipe'] }),
  };
}

/** Settings for a one-source-region, given-target-regions stack with a unique name. */
export function settingsFor(stackName: string, targets: readonly string[]): unknown {
  return {
    stack_name: stackName,
    enabled_regions: [
      { region: 'us-east-1', source_target: ['source'] },
      ...targets.map((region) => ({ region, source_target: ['target'] })),
    ],
  };
}
