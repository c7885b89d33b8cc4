/**
 * Reading the two configuration files: the only I/O of the configuration layer.
 */
import { readFile } from 'node:fs/promises';

import { ConfigError } from '../errors.js';
import { parseConfigPair } from './parse.js';
import type { LoadedConfig } from './types.js';

/** Read a file as UTF-8 text, turning a failure into a ConfigError that names the file. */
async function readText(path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (e: unknown) {
    const code = (e as NodeJS.ErrnoException | undefined)?.code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'it is a directory' : String(e);
    throw new ConfigError(`${path}: cannot read the file: ${why}`, { cause: e });
  }
}

/**
 * Parse JSON text, reporting a syntax error with the file name and, when the engine gives the offset,
 * the line and column. A leading byte-order mark is ignored.
 *
 * @throws ConfigError when the text is not JSON
 * @example
 * parseJsonText('{"stack_name": "x"}', 'settings.json'); // { stack_name: 'x' }
 */
export function parseJsonText(text: string, file: string): unknown {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  try {
    return JSON.parse(body) as unknown;
  } catch (e: unknown) {
    const detail = e instanceof Error ? e.message : String(e);
    const offset = /at position (\d+)/.exec(detail);
    let where = '';
    if (offset && !/\bline \d+/.test(detail)) {
      const before = body.slice(0, Number(offset[1]));
      const lines = before.split('\n');
      where = ` at line ${lines.length}, column ${(lines[lines.length - 1]?.length ?? 0) + 1}`;
    }
    throw new ConfigError(`${file}: is not valid JSON${where}: ${detail}`, { cause: e });
  }
}

/**
 * Read and validate `replication_config.json` and `settings.json` together. Messages name the file as
 * given and the JSON path of each problem; every problem of both files is reported at once.
 *
 * @param configPath - path of `replication_config.json`
 * @param settingsPath - path of `settings.json`
 * @returns the frozen, typed configuration and settings
 * @throws ConfigError when a file cannot be read, is not JSON or breaks a rule
 * @example
 * const { config, settings } = await loadConfigFiles('replication_config.json', 'settings.json');
 */
export async function loadConfigFiles(configPath: string, settingsPath: string): Promise<LoadedConfig> {
  const [configText, settingsText] = await Promise.all([readText(configPath), readText(settingsPath)]);
  const configJson = parseJsonText(configText, configPath);
  const settingsJson = parseJsonText(settingsText, settingsPath);
  return parseConfigPair(configJson, settingsJson, { config: configPath, settings: settingsPath });
}
