/**
 * Builders of small, valid configuration JSON values for the config tests, and a helper that returns the
 * message of the ConfigError a call throws.
 */
import { expect } from 'vitest';

import { ConfigError } from '../../../src/core/errors.js';

type Json = Record<string, unknown>;

/** A valid `source` object; `overrides` replace or add fields (`undefined` removes one). */
export function source(overrides: Json = {}): Json {
  return strip({ region: 'us-east-1', bucket: 'src-bucket', ...overrides });
}

/** A valid `destinations[]` entry. */
export function destination(overrides: Json = {}): Json {
  return strip({ region: 'eu-west-1', bucket: 'dst-bucket', ...overrides });
}

/** One `replication_configuration[]` entry. */
export function rule(src: Json = source(), ...dests: Json[]): Json {
  return { source: src, destinations: dests.length > 0 ? dests : [destination()] };
}

/** A whole `replication_config.json` value. */
export function configJson(...rules: Json[]): Json {
  return { replication_configuration: rules.length > 0 ? rules : [rule()] };
}

/** A whole `settings.json` value enabling us-east-1, eu-west-1 and ap-southeast-2 for both roles. */
export function settingsJson(overrides: Json = {}): Json {
  return strip({
    stack_name: 'baler-test',
    enabled_regions: ['us-east-1', 'eu-west-1', 'ap-southeast-2'].map((region, i) => ({
      region,
      vpc_cidr: `10.${i}.0.0/16`,
      source_target: ['source', 'target'],
      availability_zones: 3,
    })),
    ...overrides,
  });
}

function strip(o: Json): Json {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Run `fn`, assert it throws a ConfigError and return the error's message. */
export function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}

/** Like {@link errorOf} for an async call. */
export async function asyncErrorOf(fn: () => Promise<unknown>): Promise<string> {
  try {
    await fn();
  } catch (e: unknown) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as ConfigError).message;
  }
  throw new Error('expected a ConfigError, nothing was thrown');
}
