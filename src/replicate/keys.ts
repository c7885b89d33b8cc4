/**
 * Does an object key fall under a source's literal prefix and suffix filters (empty = any)?
 *
 * @example
 * matchesFilters('logs/a.json', 'logs/', '.json') // true
 */
export function matchesFilters(key: string, prefix: string, suffix: string): boolean {
  return key.startsWith(prefix) && key.endsWith(suffix) && key.length >= prefix.length + suffix.length;
}

/**
 * The key relative to the source prefix, as recorded in the manifest (`logs/2024/a.json` under `logs/` is
 * `2024/a.json`). Destinations get the original key; the relative key is for readers of the archive.
 *
 * @example
 * relativeKey('logs/2024/a.json', 'logs/') // '2024/a.json'
 */
export function relativeKey(key: string, prefix: string): string {
  if (!key.startsWith(prefix))
    throw new Error(`key ${JSON.stringify(key)} is not under prefix ${JSON.stringify(prefix)}`);
  return key.slice(prefix.length);
}
