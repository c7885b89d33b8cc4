import { ConfigError } from '../core/errors.js';

/** Every exit code baler uses. */
export const ExitCode = {
  /** Everything asked for was done. */
  Success: 0,
  /** An operation failed (some objects/files/checks failed, or a component did not start). */
  Failure: 1,
  /** Usage or configuration error: nothing was attempted. */
  Usage: 2,
  /** Interrupted by SIGINT/SIGTERM. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** Map an error thrown out of a command to its exit code. */
export function exitCodeFor(e: unknown): ExitCode {
  if (e instanceof ConfigError) return ExitCode.Usage;
  if (e instanceof Error && e.name === 'AbortError') return ExitCode.Interrupted;
  return ExitCode.Failure;
}
