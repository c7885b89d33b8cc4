import { ConfigError } from '../core/errors.js';
import type { Env } from '../core/envFile.js';

/** Defaults of the tunables (flags win over the original Soaker's env vars, which win over these). */
export const SOAK_DEFAULTS = {
  minConcurrency: 8,
  maxConcurrency: 64,
  optimizationIntervalSec: 1,
  maxRetries: 5,
  retryDelaySec: 1,
  partSizeMiB: 8,
  multipartThresholdMiB: 16,
  partConcurrency: 8,
} as const;

/** The tunables as flags give them (undefined = not given). */
export interface SoakTunables {
  readonly minConcurrency?: number;
  readonly maxConcurrency?: number;
  /** MiB/s */
  readonly maxSpeedMiBps?: number;
  readonly optimizationIntervalSec?: number;
  readonly maxRetries?: number;
  readonly retryDelaySec?: number;
  readonly partSizeMiB?: number;
  readonly multipartThresholdMiB?: number;
  readonly partConcurrency?: number;
}

/** Resolved tunables, in the engine's units. */
export interface ResolvedTunables {
  readonly minConcurrency: number;
  readonly maxConcurrency: number;
  readonly maxBytesPerSec: number | undefined;
  readonly optimizationIntervalMs: number;
  readonly maxRetries: number;
  readonly retryDelayMs: number;
  readonly partSizeBytes: number;
  readonly multipartThresholdBytes: number;
  readonly partConcurrency: number;
}

/** The original Soaker's env var for each tunable it had. */
export const SOAK_ENV = {
  minConcurrency: 'MIN_PROCESSES',
  maxConcurrency: 'MAX_PROCESSES',
  maxSpeedMiBps: 'MAX_SPEED',
  optimizationIntervalSec: 'OPTIMIZATION_INTERVAL',
  maxRetries: 'MAX_RETRIES',
  retryDelaySec: 'RETRY_DELAY',
} as const;

const MiB = 1024 * 1024;
/** S3 allows a GET range of any size, but below 1 MiB the request overhead dominates. */
const MIN_PART_MIB = 1;

function fromEnv(env: Env, name: string, integer: boolean, min: number): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const n = /^\s*\d+(\.\d+)?\s*$/.test(raw) ? Number(raw) : NaN;
  if (!Number.isFinite(n) || n < min || (integer && !Number.isInteger(n))) {
    throw new ConfigError(
      `${name} must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got ${JSON.stringify(raw)}`,
    );
  }
  return n;
}

/**
 * Merge flags, the original's env vars (`MIN_PROCESSES`, `MAX_PROCESSES`, `MAX_SPEED` in MiB/s,
 * `OPTIMIZATION_INTERVAL` and `RETRY_DELAY` in seconds, `MAX_RETRIES`) and {@link SOAK_DEFAULTS}, and check
 * them together. A "process" of the original is one concurrent request here.
 *
 * @example
 * resolveTunables({ maxConcurrency: 32 }, { MIN_PROCESSES: '4' }).minConcurrency // 4
 */
export function resolveTunables(flags: SoakTunables, env: Env): ResolvedTunables {
  const pick = (key: keyof typeof SOAK_ENV, integer: boolean, min: number) =>
    flags[key] ?? fromEnv(env, SOAK_ENV[key], integer, min);
  const minGiven = pick('minConcurrency', true, 1);
  const maxGiven = pick('maxConcurrency', true, 1);
  // A default bound gives way to the other one given explicitly.
  const minConcurrency = minGiven ?? Math.min(SOAK_DEFAULTS.minConcurrency, maxGiven ?? Infinity);
  const maxConcurrency = maxGiven ?? Math.max(SOAK_DEFAULTS.maxConcurrency, minConcurrency);
  if (maxConcurrency < minConcurrency) {
    throw new ConfigError(
      `the maximum concurrency (${maxConcurrency}) must be at least the minimum (${minConcurrency})`,
    );
  }
  const maxSpeed = pick('maxSpeedMiBps', false, 0);
  if (maxSpeed !== undefined && maxSpeed <= 0)
    throw new ConfigError(`--max-speed / MAX_SPEED must be > 0 MiB/s, got ${maxSpeed}`);
  const partSizeMiB = flags.partSizeMiB ?? SOAK_DEFAULTS.partSizeMiB;
  if (partSizeMiB < MIN_PART_MIB)
    throw new ConfigError(`--part-size must be ≥ ${MIN_PART_MIB} MiB, got ${partSizeMiB}`);
  const interval = pick('optimizationIntervalSec', false, 0) ?? SOAK_DEFAULTS.optimizationIntervalSec;
  if (interval < 0.1)
    throw new ConfigError(`--optimization-interval / OPTIMIZATION_INTERVAL must be ≥ 0.1 s, got ${interval}`);
  return {
    minConcurrency,
    maxConcurrency,
    maxBytesPerSec: maxSpeed !== undefined ? maxSpeed * MiB : undefined,
    optimizationIntervalMs: interval * 1000,
    maxRetries: pick('maxRetries', true, 0) ?? SOAK_DEFAULTS.maxRetries,
    retryDelayMs: (pick('retryDelaySec', false, 0) ?? SOAK_DEFAULTS.retryDelaySec) * 1000,
    partSizeBytes: Math.round(partSizeMiB * MiB),
    multipartThresholdBytes: Math.round(
      (flags.multipartThresholdMiB ?? SOAK_DEFAULTS.multipartThresholdMiB) * MiB,
    ),
    partConcurrency: flags.partConcurrency ?? SOAK_DEFAULTS.partConcurrency,
  };
}
