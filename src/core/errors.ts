/**
 * One error base for the whole toolkit: a stable `code`, a readable message and the `cause`.
 *
 * @example
 * throw new ConfigError('settings.json: stack_name must be a non-empty string, got ""');
 */
export class BalerError extends Error {
  /** Stable, machine-readable error code (e.g. `CONFIG_INVALID`). */
  readonly code: string;

  constructor(code: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Invalid configuration, flags or environment: a usage error (exit code 2). */
export class ConfigError extends BalerError {
  constructor(message: string, options?: ErrorOptions) {
    super('CONFIG_INVALID', message, options);
  }
}

/** An SQS message body that is not a well-formed S3 event. */
export class S3EventParseError extends BalerError {
  constructor(message: string, options?: ErrorOptions) {
    super('S3_EVENT_INVALID', message, options);
  }
}

/** The local stack could not be started, inspected or stopped. */
export class LocalStackError extends BalerError {
  constructor(message: string, options?: ErrorOptions) {
    super('LOCAL_STACK', message, options);
  }
}

/** Render any thrown value as one line of text (for logs and CLI output). */
export function errorMessage(e: unknown): string {
  if (e instanceof Error) return e.message.replace(/\s*\n\s*/g, ' ');
  return String(e);
}
