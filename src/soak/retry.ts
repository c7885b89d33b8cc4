import { isNotFound, isPreconditionFailed } from '../core/s3Errors.js';

/** How a failed request is handled. */
export const FailureKind = {
  /** Retry after backoff; tells the tuner to back off (503 SlowDown, 429, connection errors, timeouts). */
  throttle: 'throttle',
  /** Retry after backoff (other 5xx, truncated bodies). */
  retryable: 'retryable',
  /** The object changed since it was listed (412 on If-Match): start it again from scratch. */
  changed: 'changed',
  /** The object is gone (404): report it skipped. */
  gone: 'gone',
  /** Retrying cannot help (403, 400, local disk errors): report it failed. */
  fatal: 'fatal',
} as const;
export type FailureKind = (typeof FailureKind)[keyof typeof FailureKind];

const THROTTLE_CODES = new Set([
  'SlowDown',
  'Throttling',
  'ThrottlingException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'RequestThrottled',
  'ServiceUnavailable',
]);
const NETWORK_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
]);
const LOCAL_FATAL = new Set([
  'ENOSPC',
  'EACCES',
  'EPERM',
  'EROFS',
  'EISDIR',
  'ENOTDIR',
  'EEXIST',
  'EDQUOT',
  'ENAMETOOLONG',
]);

interface ErrorLike {
  name?: unknown;
  code?: unknown;
  Code?: unknown;
  message?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * Tell retryable from fatal failures by HTTP status, S3 error code and Node error code.
 *
 * @example
 * classifyFailure({ name: 'SlowDown', $metadata: { httpStatusCode: 503 } }) // 'throttle'
 */
export function classifyFailure(e: unknown): FailureKind {
  if (typeof e !== 'object' || e === null) return FailureKind.retryable;
  const err = e as ErrorLike;
  const status = typeof err.$metadata?.httpStatusCode === 'number' ? err.$metadata.httpStatusCode : undefined;
  const name = typeof err.name === 'string' ? err.name : '';
  const code = typeof err.code === 'string' ? err.code : typeof err.Code === 'string' ? err.Code : '';
  if (LOCAL_FATAL.has(code)) return FailureKind.fatal;
  if (isPreconditionFailed(e)) return FailureKind.changed;
  if (isNotFound(e)) return FailureKind.gone;
  if (status === 503 || status === 429 || THROTTLE_CODES.has(name) || THROTTLE_CODES.has(code)) {
    return FailureKind.throttle;
  }
  if (NETWORK_CODES.has(code) || name === 'TimeoutError' || name === 'RequestTimeout') {
    return FailureKind.throttle;
  }
  if (status !== undefined && status >= 500) return FailureKind.retryable;
  if (name === 'BodyTruncatedError' || name === 'VerifyError') return FailureKind.retryable;
  if (status !== undefined && status >= 400) return FailureKind.fatal;
  // No HTTP status and no known code: a socket or stream failure ("socket hang up", a body cut short).
  return FailureKind.throttle;
}

/**
 * Exponential backoff with full jitter: a uniform delay in [0, min(cap, base × 2^attempt)).
 *
 * @example
 * backoffMs(3, 1000, 20_000, Math.random) // somewhere in [0, 8000)
 */
export function backoffMs(attempt: number, baseMs: number, capMs: number, random: () => number): number {
  return Math.floor(random() * Math.min(capMs, baseMs * 2 ** attempt));
}
