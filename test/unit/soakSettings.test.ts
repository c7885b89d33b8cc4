import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { resolveTunables, SOAK_DEFAULTS, SOAK_ENV } from '../../src/soak/settings.js';

const MiB = 1024 * 1024;

/** The ConfigError `fn` throws (fails the test when it throws nothing or something else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

describe('Function: resolveTunables', () => {
  it('uses the defaults without flags or env', () => {
    expect(resolveTunables({}, {})).toEqual({
      minConcurrency: 8,
      maxConcurrency: 64,
      maxBytesPerSec: undefined,
      optimizationIntervalMs: 1000,
      maxRetries: 5,
      retryDelayMs: 1000,
      partSizeBytes: 8 * MiB,
      multipartThresholdBytes: 16 * MiB,
      partConcurrency: 8,
    });
    expect(SOAK_DEFAULTS.minConcurrency).toBe(8);
  });

  it("names the original Soaker's env vars", () => {
    expect(SOAK_ENV).toEqual({
      minConcurrency: 'MIN_PROCESSES',
      maxConcurrency: 'MAX_PROCESSES',
      maxSpeedMiBps: 'MAX_SPEED',
      optimizationIntervalSec: 'OPTIMIZATION_INTERVAL',
      maxRetries: 'MAX_RETRIES',
      retryDelaySec: 'RETRY_DELAY',
    });
  });

  describe('env vars', () => {
    it('reads MIN_PROCESSES and MAX_PROCESSES', () => {
      const r = resolveTunables({}, { MIN_PROCESSES: '4', MAX_PROCESSES: '32' });
      expect(r.minConcurrency).toBe(4);
      expect(r.maxConcurrency).toBe(32);
    });

    it('reads MAX_SPEED in MiB/s and returns bytes/s', () => {
      expect(resolveTunables({}, { MAX_SPEED: '50' }).maxBytesPerSec).toBe(50 * MiB);
      expect(resolveTunables({}, { MAX_SPEED: '0.5' }).maxBytesPerSec).toBe(MiB / 2);
    });

    it('reads OPTIMIZATION_INTERVAL in seconds and returns ms', () => {
      expect(resolveTunables({}, { OPTIMIZATION_INTERVAL: '5' }).optimizationIntervalMs).toBe(5000);
      expect(resolveTunables({}, { OPTIMIZATION_INTERVAL: '0.25' }).optimizationIntervalMs).toBe(250);
    });

    it('reads MAX_RETRIES, including 0', () => {
      expect(resolveTunables({}, { MAX_RETRIES: '12' }).maxRetries).toBe(12);
      expect(resolveTunables({}, { MAX_RETRIES: '0' }).maxRetries).toBe(0);
    });

    it('reads RETRY_DELAY in seconds and returns ms, including 0 and fractions', () => {
      expect(resolveTunables({}, { RETRY_DELAY: '2' }).retryDelayMs).toBe(2000);
      expect(resolveTunables({}, { RETRY_DELAY: '0.5' }).retryDelayMs).toBe(500);
      expect(resolveTunables({}, { RETRY_DELAY: '0' }).retryDelayMs).toBe(0);
    });

    it('treats empty or blank values as not set', () => {
      const r = resolveTunables({}, { MIN_PROCESSES: '', MAX_SPEED: '  ', MAX_RETRIES: '' });
      expect(r.minConcurrency).toBe(8);
      expect(r.maxBytesPerSec).toBeUndefined();
      expect(r.maxRetries).toBe(5);
    });

    it('ignores unrelated env vars', () => {
      expect(resolveTunables({}, { MIN_CONCURRENCY: '2', PROCESSES: '3' })).toEqual(resolveTunables({}, {}));
    });
  });

  it('lets flags win over env vars', () => {
    const env = {
      MIN_PROCESSES: '2',
      MAX_PROCESSES: '10',
      MAX_SPEED: '5',
      OPTIMIZATION_INTERVAL: '9',
      MAX_RETRIES: '9',
      RETRY_DELAY: '9',
    };
    const r = resolveTunables(
      {
        minConcurrency: 16,
        maxConcurrency: 128,
        maxSpeedMiBps: 100,
        optimizationIntervalSec: 2,
        maxRetries: 3,
        retryDelaySec: 0.1,
      },
      env,
    );
    expect(r).toMatchObject({
      minConcurrency: 16,
      maxConcurrency: 128,
      maxBytesPerSec: 100 * MiB,
      optimizationIntervalMs: 2000,
      maxRetries: 3,
      retryDelayMs: 100,
    });
  });

  it('does not validate an env var that a flag overrides', () => {
    expect(resolveTunables({ minConcurrency: 4 }, { MIN_PROCESSES: 'lots' }).minConcurrency).toBe(4);
  });

  it('takes a flag of 0 (not "unset") for retries and delay', () => {
    const r = resolveTunables({ maxRetries: 0, retryDelaySec: 0 }, { MAX_RETRIES: '7', RETRY_DELAY: '7' });
    expect(r.maxRetries).toBe(0);
    expect(r.retryDelayMs).toBe(0);
  });

  it.each([
    ['MIN_PROCESSES', 'abc', 'MIN_PROCESSES must be an integer ≥ 1, got "abc"'],
    ['MIN_PROCESSES', '0', 'MIN_PROCESSES must be an integer ≥ 1, got "0"'],
    ['MIN_PROCESSES', '2.5', 'MIN_PROCESSES must be an integer ≥ 1, got "2.5"'],
    ['MIN_PROCESSES', '-4', 'MIN_PROCESSES must be an integer ≥ 1, got "-4"'],
    ['MAX_PROCESSES', 'Infinity', 'MAX_PROCESSES must be an integer ≥ 1, got "Infinity"'],
    ['MAX_PROCESSES', '8 cores', 'MAX_PROCESSES must be an integer ≥ 1, got "8 cores"'],
    ['MAX_SPEED', 'fast', 'MAX_SPEED must be a number ≥ 0, got "fast"'],
    ['MAX_SPEED', '-1', 'MAX_SPEED must be a number ≥ 0, got "-1"'],
    ['MAX_SPEED', '10MB', 'MAX_SPEED must be a number ≥ 0, got "10MB"'],
    ['OPTIMIZATION_INTERVAL', 'NaN', 'OPTIMIZATION_INTERVAL must be a number ≥ 0, got "NaN"'],
    ['OPTIMIZATION_INTERVAL', '-1', 'OPTIMIZATION_INTERVAL must be a number ≥ 0, got "-1"'],
    ['MAX_RETRIES', '1.5', 'MAX_RETRIES must be an integer ≥ 0, got "1.5"'],
    ['MAX_RETRIES', '-1', 'MAX_RETRIES must be an integer ≥ 0, got "-1"'],
    ['RETRY_DELAY', '1s', 'RETRY_DELAY must be a number ≥ 0, got "1s"'],
    // Plain decimals only: Number() would read these as 16, 1000, 5, 1000 and 8.
    ['MAX_PROCESSES', '0x10', 'MAX_PROCESSES must be an integer ≥ 1, got "0x10"'],
    ['MAX_PROCESSES', '1e3', 'MAX_PROCESSES must be an integer ≥ 1, got "1e3"'],
    ['MIN_PROCESSES', '0b101', 'MIN_PROCESSES must be an integer ≥ 1, got "0b101"'],
    ['MAX_SPEED', '1e3', 'MAX_SPEED must be a number ≥ 0, got "1e3"'],
    ['OPTIMIZATION_INTERVAL', '0x10', 'OPTIMIZATION_INTERVAL must be a number ≥ 0, got "0x10"'],
    ['MAX_RETRIES', '1e3', 'MAX_RETRIES must be an integer ≥ 0, got "1e3"'],
    ['RETRY_DELAY', '0o10', 'RETRY_DELAY must be a number ≥ 0, got "0o10"'],
    ['MAX_PROCESSES', '4 4', 'MAX_PROCESSES must be an integer ≥ 1, got "4 4"'],
  ])('rejects %s=%j as a ConfigError naming the variable and value', (name, value, message) => {
    const e = configError(() => resolveTunables({}, { [name]: value }));
    expect(e.message).toBe(message);
  });

  it('accepts decimals with surrounding whitespace', () => {
    const r = resolveTunables({}, { MAX_PROCESSES: ' 32 ', MAX_SPEED: '\t2.5\n' });
    expect(r.maxConcurrency).toBe(32);
    expect(r.maxBytesPerSec).toBe(2.5 * MiB);
  });

  it('rejects a max speed of 0 (a rate must be positive), naming the flag and the env var', () => {
    for (const [flags, env] of [
      [{}, { MAX_SPEED: '0' }],
      [{ maxSpeedMiBps: 0 }, {}],
    ] as const) {
      expect(configError(() => resolveTunables(flags, env)).message).toBe(
        '--max-speed / MAX_SPEED must be > 0 MiB/s, got 0',
      );
    }
  });

  it('rejects an optimization interval below 0.1 s, naming the flag and the env var', () => {
    expect(configError(() => resolveTunables({}, { OPTIMIZATION_INTERVAL: '0.05' })).message).toBe(
      '--optimization-interval / OPTIMIZATION_INTERVAL must be ≥ 0.1 s, got 0.05',
    );
    expect(configError(() => resolveTunables({ optimizationIntervalSec: 0 }, {})).message).toBe(
      '--optimization-interval / OPTIMIZATION_INTERVAL must be ≥ 0.1 s, got 0',
    );
    expect(resolveTunables({}, { OPTIMIZATION_INTERVAL: '0.1' }).optimizationIntervalMs).toBe(100);
  });

  describe('min and max concurrency together', () => {
    it('rejects max < min, from env or flags, naming both', () => {
      for (const [flags, env] of [
        [{}, { MIN_PROCESSES: '16', MAX_PROCESSES: '8' }],
        [{ minConcurrency: 16, maxConcurrency: 8 }, {}],
        [{ maxConcurrency: 8 }, { MIN_PROCESSES: '16' }],
      ] as const) {
        const e = configError(() => resolveTunables(flags, env));
        expect(e.message).toBe('the maximum concurrency (8) must be at least the minimum (16)');
      }
    });

    it('lowers the default min to a max below 8 given alone (flag or MAX_PROCESSES)', () => {
      for (const [flags, env] of [
        [{}, { MAX_PROCESSES: '4' }],
        [{ maxConcurrency: 4 }, {}],
        [{ maxConcurrency: 4 }, { MAX_PROCESSES: '32' }],
      ] as const) {
        const r = resolveTunables(flags, env);
        expect([r.minConcurrency, r.maxConcurrency]).toEqual([4, 4]);
      }
      const one = resolveTunables({}, { MAX_PROCESSES: '1' });
      expect([one.minConcurrency, one.maxConcurrency]).toEqual([1, 1]);
    });

    it('keeps the default min of 8 under a max of 8 or more given alone', () => {
      const at8 = resolveTunables({}, { MAX_PROCESSES: '8' });
      expect([at8.minConcurrency, at8.maxConcurrency]).toEqual([8, 8]);
      const at12 = resolveTunables({ maxConcurrency: 12 }, {});
      expect([at12.minConcurrency, at12.maxConcurrency]).toEqual([8, 12]);
    });

    it('still rejects an explicit min above an explicit max below 8', () => {
      for (const [flags, env] of [
        [{}, { MIN_PROCESSES: '6', MAX_PROCESSES: '4' }],
        [{ minConcurrency: 6 }, { MAX_PROCESSES: '4' }],
        [{ minConcurrency: 6, maxConcurrency: 4 }, {}],
      ] as const) {
        expect(configError(() => resolveTunables(flags, env)).message).toBe(
          'the maximum concurrency (4) must be at least the minimum (6)',
        );
      }
      const r = resolveTunables({}, { MIN_PROCESSES: '2', MAX_PROCESSES: '4' });
      expect([r.minConcurrency, r.maxConcurrency]).toEqual([2, 4]);
    });

    it('accepts max = min', () => {
      const r = resolveTunables({}, { MIN_PROCESSES: '12', MAX_PROCESSES: '12' });
      expect([r.minConcurrency, r.maxConcurrency]).toEqual([12, 12]);
    });

    it('raises the default max to min when MIN_PROCESSES > 64', () => {
      expect(resolveTunables({}, { MIN_PROCESSES: '100' }).maxConcurrency).toBe(100);
      expect(resolveTunables({ minConcurrency: 65 }, {}).maxConcurrency).toBe(65);
      expect(resolveTunables({}, { MIN_PROCESSES: '64' }).maxConcurrency).toBe(64);
      expect(resolveTunables({}, { MIN_PROCESSES: '2' }).maxConcurrency).toBe(64);
    });
  });

  describe('parts', () => {
    it('converts part size and threshold from MiB to bytes', () => {
      const r = resolveTunables({ partSizeMiB: 5, multipartThresholdMiB: 100, partConcurrency: 3 }, {});
      expect(r.partSizeBytes).toBe(5 * MiB);
      expect(r.multipartThresholdBytes).toBe(100 * MiB);
      expect(r.partConcurrency).toBe(3);
    });

    it('rounds fractional MiB to whole bytes', () => {
      expect(resolveTunables({ partSizeMiB: 1.3 }, {}).partSizeBytes).toBe(Math.round(1.3 * MiB));
      expect(Number.isInteger(resolveTunables({ partSizeMiB: 1.3 }, {}).partSizeBytes)).toBe(true);
    });

    it('rejects a part size below 1 MiB', () => {
      expect(configError(() => resolveTunables({ partSizeMiB: 0.5 }, {})).message).toBe(
        '--part-size must be ≥ 1 MiB, got 0.5',
      );
      expect(resolveTunables({ partSizeMiB: 1 }, {}).partSizeBytes).toBe(MiB);
    });
  });
});
