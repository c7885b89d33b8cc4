import { describe, expect, it } from 'vitest';
import { metricsModeFor } from '../../src/cli/context.js';
import { ConfigError } from '../../src/core/errors.js';
import { ExitCode, exitCodeFor } from '../../src/cli/exitCode.js';
import { BalerError } from '../../src/core/errors.js';

describe('Function: metricsModeFor', () => {
  it('writes metrics to the log on the local stack and as EMF elsewhere', () => {
    expect(metricsModeFor({ BALER_LOCAL: '1' })).toBe('log');
    expect(metricsModeFor({})).toBe('emf');
  });

  it('lets BALER_METRICS decide, and rejects other values', () => {
    expect(metricsModeFor({ BALER_LOCAL: '1', BALER_METRICS: 'emf' })).toBe('emf');
    expect(metricsModeFor({ BALER_METRICS: 'log' })).toBe('log');
    expect(() => metricsModeFor({ BALER_METRICS: 'stdout' })).toThrow(ConfigError);
  });
});

describe('Function: exitCodeFor', () => {
  it('maps configuration errors to 2, aborts to 130 and other failures to 1', () => {
    const abort = new Error('stop');
    abort.name = 'AbortError';
    expect(exitCodeFor(new ConfigError('bad'))).toBe(ExitCode.Usage);
    expect(exitCodeFor(abort)).toBe(ExitCode.Interrupted);
    expect(exitCodeFor(new BalerError('X', 'x'))).toBe(ExitCode.Failure);
    expect(exitCodeFor('weird')).toBe(ExitCode.Failure);
  });
});
