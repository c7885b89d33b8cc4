#!/usr/bin/env node
/**
 * `cdk synth|deploy` entry point: reads replication_config.json and settings.json through the same loader
 * as the CLI (`loadConfigFiles`), so a configuration error — a replication loop included — stops synthesis
 * with the same message `baler local up` gives, and runs cdk-nag's AwsSolutions checks on every stack.
 *
 * Context (infra/cdk.json or `-c`): `baler:config`, `baler:settings`, `baler:account` (else the CLI's
 * credentials), `baler:imageRepository` + `baler:imageTag` (else the image is built from the Dockerfile).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { BalerError, ConfigError } from '../../src/core/errors.js';
import { synthesize } from '../lib/synth.js';

/** The repository root: the Docker build context and where `dist/` is. */
function repoRoot(): string {
  // Compiled to .baler/infra-build/infra/bin/baler.js, or run from source at infra/bin/baler.ts.
  const bin = path.dirname(fileURLToPath(import.meta.url));
  const root = path.resolve(bin, '..', '..');
  const build = path.join('.baler', 'infra-build');
  return root.endsWith(path.sep + build) ? path.resolve(root, '..', '..') : root;
}

/**
 * Context when the app runs by itself (`npm run synth`), not under the CDK CLI: infra/cdk.json's `context`,
 * then `-c key=value` / `--context key=value` arguments. Under the CLI (CDK_OUTDIR set) the CLI passes both.
 */
function standaloneContext(root: string, argv: readonly string[]): Record<string, unknown> {
  const cdkJson = JSON.parse(readFileSync(path.join(root, 'infra', 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const context: Record<string, unknown> = { ...cdkJson.context };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const pair =
      a === '-c' || a === '--context' ? argv[++i] : a?.startsWith('--context=') ? a.slice(10) : undefined;
    if (pair === undefined) continue;
    const eq = pair.indexOf('=');
    if (eq < 1) throw new ConfigError(`context argument must be key=value, got ${JSON.stringify(pair)}`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

async function main(): Promise<void> {
  const root = repoRoot();
  const underCli = process.env['CDK_OUTDIR'] !== undefined;
  const { assembly } = await synthesize({
    // Under the CLI, the App reads the CLI's context itself; standalone, the context is cdk.json's and -c's.
    context: underCli ? {} : standaloneContext(root, process.argv.slice(2)),
    env: process.env,
    // Relative paths in the context are relative to infra/, where cdk.json is.
    baseDir: underCli ? process.cwd() : path.join(root, 'infra'),
    repoRoot: root,
    ...(underCli ? {} : { outdir: path.join(root, '.baler', 'cdk.out') }),
  });
  if (!underCli)
    process.stdout.write(`synthesized ${assembly.stacks.length} stacks into ${assembly.directory}\n`);
}

main().catch((e: unknown) => {
  if (e instanceof BalerError) {
    process.stderr.write(`baler infra: ${e.message}\n`);
    process.exit(2);
  }
  throw e;
});
