import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import {
  nonNegative,
  nonNegativeInt,
  positiveInt,
  positiveNumber,
  sourceIndex,
} from '../../src/cli/options.js';

describe('CLI argument parsers', () => {
  it('nonNegative takes numbers ≥ 0 and names the option otherwise', () => {
    const p = nonNegative('--until-idle');
    expect(p('0')).toBe(0);
    expect(p('2.5')).toBe(2.5);
    for (const bad of ['', ' ', '-1', 'soon', 'Infinity']) {
      expect(() => p(bad)).toThrow(InvalidArgumentError);
    }
    expect(() => p('-1')).toThrow('--until-idle must be a number ≥ 0, got -1');
  });
  it('positiveInt takes whole numbers from 1', () => {
    const p = positiveInt('--regions');
    expect(p('3')).toBe(3);
    for (const bad of ['0', '1.5', '-2', 'two', ''])
      expect(() => p(bad)).toThrow('--regions must be an integer ≥ 1');
  });
  it('sourceIndex takes whole numbers from 0', () => {
    expect(sourceIndex('0')).toBe(0);
    for (const bad of ['-1', '1.5', 'a'])
      expect(() => sourceIndex(bad)).toThrow('--source must be an integer ≥ 0');
  });
});

describe('positiveNumber / nonNegativeInt', () => {
  it('accept what they name and refuse the rest, naming the option', () => {
    expect(positiveNumber('--max-speed')('2.5')).toBe(2.5);
    expect(() => positiveNumber('--max-speed')('0')).toThrow('--max-speed must be > 0, got 0');
    expect(() => positiveNumber('--max-speed')('-1')).toThrow(/--max-speed must be a number ≥ 0/);
    expect(nonNegativeInt('--max-retries')('0')).toBe(0);
    expect(() => nonNegativeInt('--max-retries')('1.5')).toThrow(
      '--max-retries must be an integer ≥ 0, got 1.5',
    );
  });
});
