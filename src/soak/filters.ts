import { ConfigError } from '../core/errors.js';

/**
 * `--include`/`--exclude` with the AWS CLI's semantics: every object starts included, the filters are applied
 * in the order given, and the last one that matches decides. Patterns are matched against the key relative
 * to the source prefix with Python's `fnmatch` rules (which the AWS CLI uses): `*` matches any run of
 * characters *including* `/`, `?` one character, `[seq]` one character in seq, `[!seq]` one not in seq.
 * Matching is case-sensitive, as S3 keys are.
 */

/** One filter, in command-line order. */
export interface FilterRule {
  readonly type: 'include' | 'exclude';
  readonly pattern: string;
}

const SPECIAL = /[\\^$.|+(){}[\]]/g;

/**
 * Translate an fnmatch pattern into an anchored RegExp (the algorithm of Python's `fnmatch.translate`).
 *
 * @example
 * fnmatchToRegExp('*.db').test('deep/dir/x.db') // true: `*` crosses `/`
 */
export function fnmatchToRegExp(pattern: string): RegExp {
  let out = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const c = pattern[i] as string;
    if (c === '*') {
      out += '.*';
    } else if (c === '?') {
      out += '.';
    } else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j += 1;
      if (pattern[j] === ']') j += 1;
      while (j < pattern.length && pattern[j] !== ']') j += 1;
      if (j >= pattern.length) {
        out += '\\[';
      } else {
        let body = pattern.slice(i + 1, j);
        const negate = body.startsWith('!');
        if (negate) body = body.slice(1);
        // In a JS class `]`, `[`, `\` and a leading `^` need escaping; in fnmatch they are plain characters.
        body = body.replace(/[\\\][^]/g, '\\$&');
        out += `[${negate ? '^' : ''}${body}]`;
        i = j;
      }
    } else {
      out += c.replace(SPECIAL, '\\$&');
    }
  }
  try {
    // `u`: `?` is one character, also outside the BMP (an emoji is one `?`, as in Python).
    return new RegExp(`^${out}$`, 'su');
  } catch (e: unknown) {
    // Python drops a reversed range such as `[z-a]`; here it is a usage error rather than a silent no-match.
    throw new ConfigError(`invalid filter pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
  }
}

/**
 * Compile filters into one predicate over relative keys.
 *
 * @example
 * const keep = compileFilters([{ type: 'exclude', pattern: '*' }, { type: 'include', pattern: '*.db' }]);
 * keep('a/b.db') // true
 * keep('a/b.txt') // false
 */
export function compileFilters(rules: readonly FilterRule[]): (relativeKey: string) => boolean {
  const compiled = rules.map((r) => ({ include: r.type === 'include', re: fnmatchToRegExp(r.pattern) }));
  if (compiled.length === 0) return () => true;
  return (key) => {
    let included = true;
    for (const r of compiled) if (r.re.test(key)) included = r.include;
    return included;
  };
}
