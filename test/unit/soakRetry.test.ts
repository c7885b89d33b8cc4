import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { backoffMs, classifyFailure, FailureKind } from '../../src/soak/retry.js';
import { VerifyError } from '../../src/soak/soaker.js';

/** An error shaped like the AWS SDK v3's service exceptions. */
function sdkError(name: string, httpStatusCode?: number, message = name): Error {
  const e = new Error(message) as Error & { $metadata: { httpStatusCode?: number } };
  e.name = name;
  e.$metadata = httpStatusCode === undefined ? {} : { httpStatusCode };
  return e;
}

/** An error shaped like Node's system errors. */
function nodeError(code: string, message = `${code}: failed`): Error {
  return Object.assign(new Error(message), { code });
}

describe('Function: classifyFailure', () => {
  it.each([
    ['503 SlowDown', sdkError('SlowDown', 503), FailureKind.throttle],
    ['503 ServiceUnavailable', sdkError('ServiceUnavailable', 503), FailureKind.throttle],
    ['503 with an unknown name', sdkError('Unknown', 503), FailureKind.throttle],
    ['429', sdkError('TooManyRequestsException', 429), FailureKind.throttle],
    ['429 with an unknown name', sdkError('Whatever', 429), FailureKind.throttle],
    ['SlowDown without a status', sdkError('SlowDown'), FailureKind.throttle],
    ['a throttling S3 `Code`', { Code: 'SlowDown' }, FailureKind.throttle],
    ['500 InternalError', sdkError('InternalError', 500), FailureKind.retryable],
    ['502', sdkError('BadGateway', 502), FailureKind.retryable],
    ['504', sdkError('GatewayTimeout', 504), FailureKind.retryable],
    ['412 PreconditionFailed', sdkError('PreconditionFailed', 412), FailureKind.changed],
    ['412 with an unknown name', sdkError('Unknown', 412), FailureKind.changed],
    ['PreconditionFailed without a status', sdkError('PreconditionFailed'), FailureKind.changed],
    ['404 NoSuchKey', sdkError('NoSuchKey', 404), FailureKind.gone],
    ['404 NotFound (HeadObject)', sdkError('NotFound', 404), FailureKind.gone],
    ['NoSuchKey without a status', sdkError('NoSuchKey'), FailureKind.gone],
    ['403 AccessDenied', sdkError('AccessDenied', 403), FailureKind.fatal],
    ['400 InvalidArgument', sdkError('InvalidArgument', 400), FailureKind.fatal],
    ['416 InvalidRange', sdkError('InvalidRange', 416), FailureKind.fatal],
    ['400 RequestTimeout (client too slow)', sdkError('RequestTimeout', 400), FailureKind.throttle],
    ['ECONNRESET', nodeError('ECONNRESET'), FailureKind.throttle],
    ['ETIMEDOUT', nodeError('ETIMEDOUT'), FailureKind.throttle],
    ['ECONNREFUSED', nodeError('ECONNREFUSED'), FailureKind.throttle],
    ['EPIPE', nodeError('EPIPE'), FailureKind.throttle],
    ['ERR_STREAM_PREMATURE_CLOSE', nodeError('ERR_STREAM_PREMATURE_CLOSE'), FailureKind.throttle],
    ['TimeoutError', sdkError('TimeoutError'), FailureKind.throttle],
    ['"socket hang up" (no status, no code)', new Error('socket hang up'), FailureKind.throttle],
    ['ENOSPC', nodeError('ENOSPC'), FailureKind.fatal],
    ['EACCES', nodeError('EACCES'), FailureKind.fatal],
    ['ENAMETOOLONG', nodeError('ENAMETOOLONG'), FailureKind.fatal],
    ['EROFS', nodeError('EROFS'), FailureKind.fatal],
    ['EDQUOT', nodeError('EDQUOT'), FailureKind.fatal],
    ['VerifyError (by name)', sdkError('VerifyError'), FailureKind.retryable],
    ['VerifyError (the class)', new VerifyError('size mismatch'), FailureKind.retryable],
    ['BodyTruncatedError', sdkError('BodyTruncatedError'), FailureKind.retryable],
    ['a string', 'boom', FailureKind.retryable],
    ['null', null, FailureKind.retryable],
    ['undefined', undefined, FailureKind.retryable],
  ])('%s → %s', (_label, error, expected) => {
    expect(classifyFailure(error)).toBe(expected);
  });

  it('puts local disk errors first: ENOSPC is fatal even with a 5xx status on the same error', () => {
    const e = Object.assign(sdkError('InternalError', 500), { code: 'ENOSPC' });
    expect(classifyFailure(e)).toBe(FailureKind.fatal);
  });

  it('never says gone or changed for an error without a 404/412 status or name', () => {
    for (const e of [new ConfigError('bad'), nodeError('EIO'), sdkError('Foo', 418), {}]) {
      const kind = classifyFailure(e);
      expect(kind).not.toBe(FailureKind.gone);
      expect(kind).not.toBe(FailureKind.changed);
    }
  });
});

describe('Function: backoffMs', () => {
  it('is 0 with random 0', () => {
    for (const attempt of [0, 1, 5, 30]) expect(backoffMs(attempt, 1000, 30_000, () => 0)).toBe(0);
  });

  it('is just below base × 2^attempt with random ≈ 1', () => {
    const almostOne = () => 1 - Number.EPSILON;
    expect(backoffMs(0, 1000, 30_000, almostOne)).toBe(999);
    expect(backoffMs(1, 1000, 30_000, almostOne)).toBe(1999);
    expect(backoffMs(3, 1000, 30_000, almostOne)).toBe(7999);
  });

  it('is capped', () => {
    const almostOne = () => 1 - Number.EPSILON;
    expect(backoffMs(5, 1000, 30_000, almostOne)).toBe(29_999); // 32 s capped at 30 s
    expect(backoffMs(60, 1000, 30_000, almostOne)).toBe(29_999);
    expect(backoffMs(5000, 1000, 30_000, almostOne)).toBe(29_999); // 2^5000 is Infinity
  });

  it('scales with the random draw (full jitter)', () => {
    expect(backoffMs(2, 1000, 30_000, () => 0.5)).toBe(2000);
    expect(backoffMs(2, 1000, 30_000, () => 0.25)).toBe(1000);
  });

  it('is an integer in [0, min(cap, base × 2^attempt)) for any draw', () => {
    for (let attempt = 0; attempt < 20; attempt += 1) {
      for (const r of [0, 0.1, 0.5, 0.9, 0.999999]) {
        const ms = backoffMs(attempt, 250, 30_000, () => r);
        expect(Number.isInteger(ms)).toBe(true);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThan(Math.min(30_000, 250 * 2 ** attempt));
      }
    }
  });

  it('is 0 with a base of 0 (RETRY_DELAY=0)', () => {
    expect(backoffMs(10, 0, 30_000, () => 0.99)).toBe(0);
  });
});
