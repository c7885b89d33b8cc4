/**
 * Turning problems into messages: JSON paths, values as received, zod issues and the one `ConfigError`
 * that reports all of them.
 */
import type { z } from 'zod';

import { ConfigError } from '../errors.js';
import type { ConfigIssue } from './types.js';

/** Most problems listed in one error message; the rest are counted. */
const MAX_LISTED_ISSUES = 20;
/** Longest rendering of a received value in a message. */
const MAX_VALUE_CHARS = 80;

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Render a path as JavaScript-style access: `a[1].b`, with non-identifier keys quoted (`tags["Cost Center"]`).
 *
 * @example
 * jsonPath(['replication_configuration', 1, 'destinations', 0, 'storage_class']);
 * // 'replication_configuration[1].destinations[0].storage_class'
 */
export function jsonPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else if (typeof part === 'string' && IDENTIFIER.test(part)) out += out === '' ? part : `.${part}`;
    else out += `[${JSON.stringify(String(part))}]`;
  }
  return out;
}

/**
 * Render a received value for a message, on one line and at most {@link MAX_VALUE_CHARS} characters:
 * strings quoted, other values as JSON.
 *
 * @example
 * showValue('FROZEN'); // '"FROZEN"'
 */
export function showValue(value: unknown): string {
  let text: string;
  if (value === undefined) text = 'nothing';
  else if (typeof value === 'number' || typeof value === 'boolean' || value === null) text = String(value);
  else if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    // Never in parsed JSON; JSON.stringify would return undefined or throw for them.
    text = `a ${typeof value}`;
  } else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = 'an unprintable value';
    }
  }
  return text.length > MAX_VALUE_CHARS ? `${text.slice(0, MAX_VALUE_CHARS - 1)}…` : text;
}

/** The JSON type of a value, in words, for "must be a string, got a number 42"-style messages. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  array: 'an array',
  object: 'an object',
  record: 'an object',
};

/** Allowed keys of the object at a path, for "unknown field" messages; `undefined` if unknown. */
export type AllowedKeysAt = (path: readonly PropertyKey[]) => readonly string[] | undefined;

/** Convert one zod issue to a message that names the value received and what is allowed. */
function zodIssueMessage(issue: z.core.$ZodIssue, allowedKeysAt: AllowedKeysAt): string {
  const got = showValue(issue.input);
  switch (issue.code) {
    case 'invalid_type': {
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      if (issue.input === undefined) return `is required (${expected})`;
      return `must be ${expected}, got ${typeOf(issue.input)} ${got}`;
    }
    case 'invalid_value':
      return `must be one of ${issue.values.map((v) => String(v)).join(', ')}, got ${got}`;
    case 'too_small': {
      if (issue.origin === 'array')
        return `must have at least ${issue.minimum} entr${issue.minimum === 1 ? 'y' : 'ies'}, got ${got}`;
      if (issue.origin === 'string') return `must be at least ${issue.minimum} characters long, got ${got}`;
      return `must be ${issue.inclusive === false ? '>' : '≥'} ${issue.minimum}, got ${got}`;
    }
    case 'too_big': {
      if (issue.origin === 'array')
        return `must have at most ${issue.maximum} entries, got ${(issue.input as unknown[] | undefined)?.length ?? got}`;
      if (issue.origin === 'string') return `must be at most ${issue.maximum} characters long, got ${got}`;
      return `must be ${issue.inclusive === false ? '<' : '≤'} ${issue.maximum}, got ${got}`;
    }
    case 'unrecognized_keys': {
      const allowed = allowedKeysAt(issue.path);
      const names = issue.keys.map((k) => JSON.stringify(k)).join(', ');
      const single = issue.keys.length === 1;
      const hints = allowed
        ? issue.keys.map((k) => didYouMean(k, allowed, single)).filter((h) => h !== '')
        : [];
      const allowedText = allowed ? `; allowed: ${allowed.join(', ')}` : '';
      return `unknown field${issue.keys.length > 1 ? 's' : ''} ${names}${hints.length ? ` (${hints.join('; ')})` : ''}${allowedText}`;
    }
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}, got ${got}`;
    case 'custom':
      return issue.message;
    default:
      return `${issue.message}, got ${got}`;
  }
}

/** Render each zod issue as a {@link ConfigIssue} of `file`. */
export function fromZodIssues(
  file: string,
  issues: readonly z.core.$ZodIssue[],
  allowedKeysAt: AllowedKeysAt,
): ConfigIssue[] {
  return issues.map((issue) => ({
    file,
    path: jsonPath(issue.path),
    message: zodIssueMessage(issue, allowedKeysAt),
  }));
}

/** Suggest the closest allowed key to a misspelt one, or `""` when none is close. */
function didYouMean(key: string, allowed: readonly string[], single: boolean): string {
  let best = '';
  let bestDistance = Infinity;
  for (const candidate of allowed) {
    const d = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(key.length / 4))
    ? `did you mean "${best}"${single ? '' : ` for "${key}"`}?`
    : '';
}

/** Levenshtein distance; both strings are short field names. */
function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur.push(Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = cur;
  }
  return prev[b.length] ?? 0;
}

/**
 * Render one issue as `file: path: message`.
 *
 * @example
 * formatIssue({ file: 'settings.json', path: 'stack_name', message: 'is required (a string)' });
 * // 'settings.json: stack_name: is required (a string)'
 */
export function formatIssue(issue: ConfigIssue): string {
  return issue.path === ''
    ? `${issue.file}: ${issue.message}`
    : `${issue.file}: ${issue.path}: ${issue.message}`;
}

/**
 * Build the one error that reports every issue: the issue itself when there is one, otherwise a count
 * followed by one line per issue.
 *
 * @example
 * throw issuesError([{ file: 'settings.json', path: 'tags', message: 'must be an object, got an array []' }]);
 */
export function issuesError(issues: readonly ConfigIssue[], cause?: unknown): ConfigError {
  const options = cause === undefined ? undefined : { cause };
  const [first] = issues;
  if (issues.length === 1 && first) return new ConfigError(formatIssue(first), options);
  const listed = issues.slice(0, MAX_LISTED_ISSUES).map((i) => `  - ${formatIssue(i)}`);
  if (issues.length > MAX_LISTED_ISSUES) listed.push(`  - … and ${issues.length - MAX_LISTED_ISSUES} more`);
  return new ConfigError(`${issues.length} configuration problems:\n${listed.join('\n')}`, options);
}
