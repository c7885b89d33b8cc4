/**
 * What the CDK app reads from its context (`cdk.json`, `-c key=value`) and environment, validated once.
 */
import path from 'node:path';

import { Platform } from 'aws-cdk-lib/aws-ecr-assets';
import { Repository } from 'aws-cdk-lib/aws-ecr';
import { ContainerImage } from 'aws-cdk-lib/aws-ecs';
import type { Construct } from 'constructs';

import { ConfigError } from '../../src/core/errors.js';

/** Makes the worker image for a stack: the image is regional (ECR), so each stack gets its own reference. */
export type WorkerImage = (scope: Construct) => ContainerImage;

/** The app's inputs. */
export interface InfraContext {
  /** Path of replication_config.json. */
  readonly configPath: string;
  /** Path of settings.json. */
  readonly settingsPath: string;
  /** 12-digit AWS account id. */
  readonly accountId: string;
  /** ECR repository name of a pre-built image (the same name in every region), or undefined to build from the Dockerfile. */
  readonly imageRepository: string | undefined;
  /** Tag of the pre-built image. */
  readonly imageTag: string;
}

/** Context keys (prefix `baler:`). */
export const CONTEXT_KEYS = {
  config: 'baler:config',
  settings: 'baler:settings',
  account: 'baler:account',
  imageRepository: 'baler:imageRepository',
  imageTag: 'baler:imageTag',
} as const;

/**
 * Resolve the inputs: config and settings paths (relative to `baseDir`), the account (context
 * `baler:account`, else `CDK_DEFAULT_ACCOUNT` from the CLI's credentials), the image source.
 *
 * @throws ConfigError naming the missing key
 * @example
 * resolveInfraContext((k) => app.node.tryGetContext(k), process.env, process.cwd());
 */
export function resolveInfraContext(
  get: (key: string) => unknown,
  env: Readonly<Record<string, string | undefined>>,
  baseDir: string,
): InfraContext {
  const str = (key: string): string | undefined => {
    const v = get(key);
    if (v === undefined || v === null || v === '') return undefined;
    if (typeof v !== 'string')
      throw new ConfigError(`context ${key} must be a string, got ${JSON.stringify(v)}`);
    return v;
  };
  const need = (key: string): string => {
    const v = str(key);
    if (v === undefined) throw new ConfigError(`context ${key} is not set (cdk.json or -c ${key}=...)`);
    return v;
  };
  const accountId = str(CONTEXT_KEYS.account) ?? env['CDK_DEFAULT_ACCOUNT'];
  if (accountId === undefined || !/^\d{12}$/.test(accountId)) {
    throw new ConfigError(
      `the AWS account must be 12 digits: set -c ${CONTEXT_KEYS.account}=111122223333 (or run with credentials), got ${JSON.stringify(accountId ?? null)}`,
    );
  }
  return {
    configPath: path.resolve(baseDir, need(CONTEXT_KEYS.config)),
    settingsPath: path.resolve(baseDir, need(CONTEXT_KEYS.settings)),
    accountId,
    imageRepository: str(CONTEXT_KEYS.imageRepository),
    imageTag: str(CONTEXT_KEYS.imageTag) ?? 'latest',
  };
}

/**
 * The worker image: a pre-built image from an ECR repository of each region (context `baler:imageRepository`
 * and `baler:imageTag`), or else built from the repository's Dockerfile by `cdk deploy` (linux/amd64) and
 * published to each region's CDK asset repository. Synthesis never runs Docker; only deploy does.
 *
 * @example
 * const image = resolveImage(ctx, repoRoot);
 */
export function resolveImage(ctx: InfraContext, repoRoot: string): WorkerImage {
  const repo = ctx.imageRepository;
  if (repo !== undefined) {
    return (scope) =>
      ContainerImage.fromEcrRepository(
        Repository.fromRepositoryName(scope, 'WorkerImageRepository', repo),
        ctx.imageTag,
      );
  }
  const asset = ContainerImage.fromAsset(repoRoot, { platform: Platform.LINUX_AMD64, file: 'Dockerfile' });
  return () => asset;
}
