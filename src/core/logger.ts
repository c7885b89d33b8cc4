import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

/** Log levels pino accepts, lowest to highest. */
export const LogLevel = {
  trace: 'trace',
  debug: 'debug',
  info: 'info',
  warn: 'warn',
  error: 'error',
  fatal: 'fatal',
  silent: 'silent',
} as const;
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel];

/** Is `value` one of the pino level names? */
export function isLogLevel(value: string): value is LogLevel {
  return Object.hasOwn(LogLevel, value);
}

export interface LoggerSettings {
  /** Minimum level written. @defaultValue `info` */
  readonly level?: LogLevel;
  /** `service` key on every line (e.g. `source`, `soak`). @defaultValue `baler` */
  readonly service?: string;
  /** Where the JSON lines go. @defaultValue stderr (stdout stays free for command output) */
  readonly destination?: DestinationStream;
}

/**
 * Build the structured JSON logger. Lines carry `level` as a label, an ISO `time`, `service`, and the
 * `event` key each call site sets; errors go under `err`.
 *
 * @example
 * const log = createLogger({ level: 'debug', service: 'source' });
 * log.info({ event: 'batch_uploaded', bytes: 1024 }, 'archive uploaded');
 */
export function createLogger(settings: LoggerSettings = {}): Logger {
  const options: LoggerOptions = {
    level: settings.level ?? 'info',
    base: { service: settings.service ?? 'baler' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  };
  return pino(options, settings.destination ?? pino.destination({ fd: 2, sync: true }));
}
