/**
 * Parsing of the two configuration files' JSON values: schema, then the cross-field rules, then a deep
 * freeze. Pure: no I/O (loadConfigFiles in load.ts reads the files).
 */
import type { z } from 'zod';

import { fromZodIssues, issuesError, type AllowedKeysAt } from './issues.js';
import {
  replicationConfigKeysAt,
  replicationConfigSchema,
  settingsKeysAt,
  settingsSchema,
} from './schema.js';
import type { ConfigIssue, LoadedConfig, ReplicationConfig, Settings } from './types.js';
import {
  REPLICATION_CONFIG_FILE,
  SETTINGS_FILE,
  validateAgainstSettings,
  validateReplicationConfig,
  validateSettings,
} from './validate.js';

/** Freeze a plain JSON-like value and everything in it. */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

interface Checked<T> {
  readonly value: T | undefined;
  readonly issues: readonly ConfigIssue[];
  /** The ZodError, kept as the thrown error's cause. */
  readonly cause?: unknown;
}

function check<T>(
  schema: z.ZodType<T>,
  json: unknown,
  file: string,
  keysAt: AllowedKeysAt,
  rules: (value: T, file: string) => ConfigIssue[],
): Checked<T> {
  const result = schema.safeParse(json, { reportInput: true });
  if (!result.success) {
    return {
      value: undefined,
      issues: fromZodIssues(file, result.error.issues, keysAt),
      cause: result.error,
    };
  }
  return { value: result.data, issues: rules(result.data, file) };
}

function checkConfig(json: unknown, file: string): Checked<ReplicationConfig> {
  return check(replicationConfigSchema, json, file, replicationConfigKeysAt, validateReplicationConfig);
}

function checkSettings(json: unknown, file: string): Checked<Settings> {
  return check(settingsSchema, json, file, settingsKeysAt, validateSettings);
}

/**
 * Validate the parsed JSON of `replication_config.json` and return it typed, with defaults applied and
 * frozen. Every problem is reported at once, each with the file name and JSON path.
 *
 * @param json - the value of `JSON.parse` of the file
 * @param file - name used in messages
 * @throws ConfigError listing every problem found
 * @example
 * const config = parseReplicationConfig(JSON.parse(text));
 * config.sources[0]?.destinations[0]?.storageClass; // e.g. 'GLACIER_IR'
 */
export function parseReplicationConfig(json: unknown, file = REPLICATION_CONFIG_FILE): ReplicationConfig {
  const { value, issues, cause } = checkConfig(json, file);
  if (value === undefined || issues.length > 0) throw issuesError(issues, cause);
  return deepFreeze(value);
}

/**
 * Validate the parsed JSON of `settings.json` and return it typed, with defaults applied and frozen.
 *
 * @param json - the value of `JSON.parse` of the file
 * @param file - name used in messages
 * @throws ConfigError listing every problem found
 * @example
 * const settings = parseSettings({ stack_name: 's3-compressor', enabled_regions: [{ region: 'us-east-1', source_target: ['source'] }] });
 * settings.tags; // {}
 */
export function parseSettings(json: unknown, file = SETTINGS_FILE): Settings {
  const { value, issues, cause } = checkSettings(json, file);
  if (value === undefined || issues.length > 0) throw issuesError(issues, cause);
  return deepFreeze(value);
}

/**
 * Validate both files together: each on its own, then the configuration against the settings (every
 * source region enabled as `source`, every destination region as `target`). Problems of both files are
 * reported at once.
 *
 * @throws ConfigError listing every problem found
 * @example
 * const { config, settings } = parseConfigPair(configJson, settingsJson);
 */
export function parseConfigPair(
  configJson: unknown,
  settingsJson: unknown,
  files: { readonly config: string; readonly settings: string } = {
    config: REPLICATION_CONFIG_FILE,
    settings: SETTINGS_FILE,
  },
): LoadedConfig {
  const config = checkConfig(configJson, files.config);
  const settings = checkSettings(settingsJson, files.settings);
  const issues = [...config.issues, ...settings.issues];
  if (config.value !== undefined && settings.value !== undefined) {
    issues.push(...validateAgainstSettings(config.value, settings.value, files));
  }
  if (config.value === undefined || settings.value === undefined || issues.length > 0) {
    throw issuesError(issues, config.cause ?? settings.cause);
  }
  return deepFreeze({ config: config.value, settings: settings.value });
}
