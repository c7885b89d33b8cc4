import { InvalidArgumentError } from 'commander';

/** commander argument parsers shared by the commands: each names the option in its error. */

/** A number ≥ 0 (seconds, dollars). */
export function nonNegative(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (value.trim() === '' || !Number.isFinite(n) || n < 0) {
      throw new InvalidArgumentError(`${name} must be a number ≥ 0, got ${value}`);
    }
    return n;
  };
}

/** An integer ≥ 1 (counts). */
export function positiveInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value)) || Number(value) < 1) {
      throw new InvalidArgumentError(`${name} must be an integer ≥ 1, got ${value}`);
    }
    return Number(value);
  };
}

/** A number > 0 (rates, sizes, intervals). */
export function positiveNumber(name: string) {
  const base = nonNegative(name);
  return (value: string): number => {
    const n = base(value);
    if (n === 0) throw new InvalidArgumentError(`${name} must be > 0, got ${value}`);
    return n;
  };
}

/** An integer ≥ 0 (retry counts). */
export function nonNegativeInt(name: string) {
  return (value: string): number => {
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
      throw new InvalidArgumentError(`${name} must be an integer ≥ 0, got ${value}`);
    }
    return Number(value);
  };
}

/** `--source N`: the index of a source in replication_config.json. */
export function sourceIndex(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) {
    throw new InvalidArgumentError(`--source must be an integer ≥ 0, got ${value}`);
  }
  return n;
}
