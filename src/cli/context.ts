import { balerHome, readLocalEnv, type Env } from '../core/envFile.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, isLogLevel, type Logger, type LogLevel } from '../core/logger.js';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../core/awsClients.js';
import { createMetrics, type Metrics, type MetricsMode } from '../core/metrics.js';
import type { ExitCode } from './exitCode.js';

/** CloudWatch namespace unless `BALER_METRICS_NAMESPACE` (or, later, settings) names another. */
export const DEFAULT_METRICS_NAMESPACE = 'Baler';

/**
 * Where metrics go: `log` (EMF documents inside the JSON log) on the local stack (`BALER_LOCAL=1`) or when
 * `BALER_METRICS=log`; `emf` through aws-embedded-metrics otherwise.
 */
export function metricsModeFor(env: Env): MetricsMode {
  if (env['BALER_METRICS'] === 'log' || env['BALER_METRICS'] === 'emf') return env['BALER_METRICS'];
  if (env['BALER_METRICS'] !== undefined && env['BALER_METRICS'] !== '') {
    throw new ConfigError(
      `BALER_METRICS must be "log" or "emf", got ${JSON.stringify(env['BALER_METRICS'])}`,
    );
  }
  return env['BALER_LOCAL'] === '1' ? 'log' : 'emf';
}

/** Options every command has (set on the root program). */
export interface GlobalOptions {
  /** `--no-local-env` turns this off. */
  readonly localEnv: boolean;
  readonly logLevel?: string;
}

/** What a command gets from the edge: the environment it runs in, a logger, and AWS clients on demand. */
export interface CommandContext {
  readonly env: Env;
  readonly cwd: string;
  /** `BALER_HOME` or `./.baler`. */
  readonly home: string;
  readonly log: Logger;
  /** True when the local stack's env file was applied (metrics then go to the log). */
  readonly localMode: boolean;
  /** Build the AWS clients (once). */
  aws(): AwsClients;
  /** A metrics recorder for this command's service (the one dimension), in the mode {@link metricsModeFor} picks. */
  metrics(): Metrics;
  /** The root abort signal: SIGINT/SIGTERM abort it. */
  readonly signal: AbortSignal;
}

/** How a command gets its context (the service name binds its logs and metrics). */
export type MakeContext = (service?: string) => CommandContext;
/** Runs a command body: sets the exit code, prints an error on one line. */
export type Run = (fn: () => Promise<ExitCode>) => Promise<void>;

/**
 * Build the command context. Unless `--no-local-env` or `BALER_NO_LOCAL_ENV=1`, the local stack's env file
 * (`.baler/local/env`) is applied over `process.env`, so a running local stack is the default target. Its
 * values are copied into `process.env` too, so that the SDK's own resolution (credentials) sees them.
 */
export function createContext(opts: GlobalOptions, signal: AbortSignal, service = 'baler'): CommandContext {
  const cwd = process.cwd();
  const home = balerHome(process.env, cwd);
  const useLocal = opts.localEnv && process.env['BALER_NO_LOCAL_ENV'] !== '1';
  const local = useLocal ? readLocalEnv(home) : {};
  Object.assign(process.env, local);
  const env: Env = { ...process.env };
  const level = opts.logLevel ?? env['LOG_LEVEL'] ?? 'info';
  const normalized = level.toLowerCase();
  if (!isLogLevel(normalized)) {
    throw new ConfigError(
      `log level must be one of trace, debug, info, warn, error, fatal, silent; got ${level}`,
    );
  }
  const log = createLogger({ level: normalized satisfies LogLevel, service });
  let aws: AwsClients | undefined;
  return {
    env,
    cwd,
    home,
    log,
    localMode: env['BALER_LOCAL'] === '1',
    aws: () => (aws ??= createAwsClients(resolveAwsSettings(env))),
    metrics: () =>
      createMetrics({
        namespace: env['BALER_METRICS_NAMESPACE'] || DEFAULT_METRICS_NAMESPACE,
        service,
        mode: metricsModeFor(env),
        logger: log,
      }),
    signal,
  };
}
