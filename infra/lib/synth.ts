/**
 * One synthesis of the baler app from its context: what `infra/bin/baler.ts` runs, callable from tests.
 */
import { Validations, type App } from 'aws-cdk-lib';
import type { CloudAssembly } from 'aws-cdk-lib/cx-api';
import { AwsSolutionsChecks } from 'cdk-nag';

import { loadConfigFiles } from '../../src/core/config/index.js';
import { balerApp, buildBalerApp, type BalerStacks } from './app.js';
import { resolveImage, resolveInfraContext, type WorkerImage } from './context.js';
import { converterFromContext, type ConverterStack } from './stacks/ConverterStack.js';

/** Inputs of {@link synthesize}. */
export interface SynthOptions {
  /** App context (`baler:config`, `baler:settings`, `baler:account`, ...). */
  readonly context: Readonly<Record<string, unknown>>;
  /** Environment (`CDK_DEFAULT_ACCOUNT`). */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** Directory relative context paths are resolved against (infra/, where cdk.json is). */
  readonly baseDir: string;
  /** Repository root: the Docker build context and the converter's asset base. */
  readonly repoRoot: string;
  /**
   * Where the cloud assembly goes.
   * @default - the CDK CLI's CDK_OUTDIR, else a temporary directory
   */
  readonly outdir?: string;
  /**
   * Use this image instead of the context's (tests: no asset staging).
   * @default - from the context: ECR repository and tag, or the Dockerfile
   */
  readonly image?: WorkerImage;
}

/** The synthesized app. */
export interface SynthResult {
  readonly app: App;
  readonly stacks: BalerStacks;
  readonly converter: ConverterStack | undefined;
  readonly assembly: CloudAssembly;
}

/**
 * Load and validate the configuration (the CLI's own loader: a replication loop or any other configuration
 * error throws its ConfigError before anything is built), build every stack, run cdk-nag's AwsSolutions
 * checks and synthesize. Throws when a check fails.
 *
 * @example
 * await synthesize({ context: { 'baler:config': 'c.json', 'baler:settings': 's.json', 'baler:account': '111122223333' },
 *   env: process.env, baseDir: 'infra', repoRoot: '.' });
 */
export async function synthesize(o: SynthOptions): Promise<SynthResult> {
  const app = balerApp({
    context: { ...o.context },
    ...(o.outdir !== undefined ? { outdir: o.outdir } : {}),
  });
  const get = (key: string): unknown => app.node.tryGetContext(key);
  const ctx = resolveInfraContext(get, o.env, o.baseDir);
  const loaded = await loadConfigFiles(ctx.configPath, ctx.settingsPath);
  const image = o.image ?? resolveImage(ctx, o.repoRoot);
  const stacks = buildBalerApp(app, { loaded, accountId: ctx.accountId, image });
  const converter = converterFromContext(app, get, {
    loaded,
    accountId: ctx.accountId,
    repoRoot: o.repoRoot,
    alarmTopics: new Map([...stacks.regions].map(([region, s]) => [region, s.baseline.alarmTopic])),
  });
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const assembly = app.synth();
  return { app, stacks, converter, assembly };
}
