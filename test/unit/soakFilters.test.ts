import { ConfigError } from '../../src/core/errors.js';
import { describe, expect, it } from 'vitest';
import { compileFilters, fnmatchToRegExp, type FilterRule } from '../../src/soak/filters.js';

const include = (pattern: string): FilterRule => ({ type: 'include', pattern });
const exclude = (pattern: string): FilterRule => ({ type: 'exclude', pattern });

/** Does `pattern` match the whole of `key`? */
const matches = (pattern: string, key: string) => fnmatchToRegExp(pattern).test(key);

describe('Function: fnmatchToRegExp', () => {
  it.each([
    // `*` matches any run of characters, `/` included, and the empty run.
    ['*', '', true],
    ['*', 'a/b/c.db', true],
    ['*.db', 'x.db', true],
    ['*.db', 'deep/dir/x.db', true],
    ['*.db', 'x.db.bak', false],
    ['logs/*', 'logs/2024/01/a.json', true],
    ['logs/*', 'other/logs/a.json', false],
    ['a*b*c', 'a/x/b/y/c', true],
    ['a*b*c', 'a/x/c/y/b', false],
    // `?` is exactly one character, `/` included.
    ['?', 'a', true],
    ['?', '', false],
    ['?', 'ab', false],
    ['a?c', 'a/c', true],
    ['a?c', 'a€c', true],
    ['a?c', 'a\nc', true],
    // `[seq]` and `[!seq]`: one character in (not in) the set; ranges work.
    ['[abc].txt', 'b.txt', true],
    ['[abc].txt', 'd.txt', false],
    ['[abc].txt', 'ab.txt', false],
    ['[a-c]', 'b', true],
    ['[a-c]', 'd', false],
    ['[!abc].txt', 'd.txt', true],
    ['[!abc].txt', 'a.txt', false],
    ['[!abc].txt', '.txt', false],
    ['[!a-c]', 'z', true],
    ['[!a-c]', 'c', false],
    // `^` first in a set is a literal (fnmatch negates only with `!`).
    ['[^a]', '^', true],
    ['[^a]', 'a', true],
    ['[^a]', 'b', false],
    // A backslash in a set is a literal backslash.
    ['[\\]', '\\', true],
    ['[\\]', 'a', false],
    // An unterminated `[` is a literal `[`.
    ['[', '[', true],
    ['a[b', 'a[b', true],
    ['a[b', 'ab', false],
    ['[!', '[!', true],
    ['a[*', 'a[xyz', true],
    ['a[*', 'axyz', false],
  ])('%j matches %j: %s', (pattern, key, expected) => {
    expect(matches(pattern, key)).toBe(expected);
  });

  it.each([
    ['a.b', 'a.b', 'axb'],
    ['a+b', 'a+b', 'aab'],
    ['(a)', '(a)', 'a'],
    ['a|b', 'a|b', 'a'],
    ['$x^', '$x^', 'x'],
    ['a{2}', 'a{2}', 'aa'],
    ['a\\b', 'a\\b', 'ab'],
    ['a\\*', 'a\\xyz', 'a*'],
    ['a/b', 'a/b', 'a'],
  ])('takes the regex specials in %j literally', (pattern, literal, notMatched) => {
    expect(matches(pattern, literal)).toBe(true);
    expect(matches(pattern, notMatched)).toBe(false);
  });

  // A `]` outside a set is a literal in fnmatch (Python: fnmatchcase('x]', 'x]') is True; translate gives `x\]`),
  // as are the unterminated `[]` and `[!]`.
  it.each([
    ['x]', 'x]', 'x'],
    [']', ']', 'a'],
    ['a]b', 'a]b', 'ab'],
    ['[a]]', 'a]', 'a'],
    ['[]', '[]', '['],
    ['[!]', '[!]', '!'],
  ])('takes a `]` outside a set in %j literally', (pattern, literal, notMatched) => {
    expect(matches(pattern, literal)).toBe(true);
    expect(matches(pattern, notMatched)).toBe(false);
  });

  it('treats `.` as a literal dot, not any character', () => {
    expect(matches('*.db', 'x.db')).toBe(true);
    expect(matches('*.db', 'xadb')).toBe(false);
  });

  it('is anchored at both ends', () => {
    expect(matches('b', 'abc')).toBe(false);
    expect(matches('a', 'ab')).toBe(false);
    expect(matches('b', 'ab')).toBe(false);
  });

  it('is case-sensitive, as S3 keys are', () => {
    expect(matches('*.DB', 'x.db')).toBe(false);
    expect(matches('*.db', 'x.DB')).toBe(false);
    expect(matches('[A-C]', 'b')).toBe(false);
  });

  it('matches keys with spaces, `+`, `%` and unicode literally', () => {
    expect(matches('my dir/*', 'my dir/a b.txt')).toBe(true);
    expect(matches('a+b%20c.txt', 'a+b%20c.txt')).toBe(true);
    expect(matches('a+b%20c.txt', 'a b c.txt')).toBe(false);
    expect(matches('données/*.csv', 'données/été.csv')).toBe(true);
    expect(matches('données/*.csv', 'donnees/ete.csv')).toBe(false);
    expect(matches('日本/*', '日本/ファイル')).toBe(true);
  });

  // A `]` right after `[` or `[!` belongs to the set, as in Python (fnmatchcase(']', '[]]') and
  // fnmatchcase('a', '[!]]') are True).
  it('matches `[]]` against "]" and `[]a]` against "a"', () => {
    expect(matches('[]]', ']')).toBe(true);
    expect(matches('[]]', 'a')).toBe(false);
    expect(matches('[]a]', 'a')).toBe(true);
    expect(matches('[]a]', ']')).toBe(true);
    expect(matches('[]a]', 'b')).toBe(false);
    expect(matches('[]a]', ']a')).toBe(false);
  });

  it('matches `[!]]` against one character other than "]", and not against "a]"', () => {
    expect(matches('[!]]', 'a')).toBe(true);
    expect(matches('[!]]', ']')).toBe(false);
    expect(matches('[!]]', 'a]')).toBe(false);
    expect(matches('[!]]', '')).toBe(false);
  });

  it.each([
    // `]` first in a set, also as the start of a range (`]` to `a`, as in Python).
    ['[]-a]', '^', true],
    ['[]-a]', 'b', false],
    ['[!]a]', 'b', true],
    ['[!]a]', 'a', false],
    // `[` in a set is a plain member.
    ['[[]', '[', true],
    ['[a[]', '[', true],
    ['[a[]', 'b', false],
    // `\` in a set is a plain member, never an escape (`[\d]` is "\" or "d", not a digit).
    ['[\\d]', 'd', true],
    ['[\\d]', '\\', true],
    ['[\\d]', '5', false],
    // `^` in a set is a plain member, also after `!`.
    ['[^]', '^', true],
    ['[!^]', 'a', true],
    ['[!^]', '^', false],
  ])('set %j matches %j: %s', (pattern, key, expected) => {
    expect(matches(pattern, key)).toBe(expected);
  });

  // `?` is "one character" in fnmatch, and Python counts code points (fnmatchcase('😀', '?') is True): the
  // RegExp has the `u` flag, so a character outside the BMP is one `?`.
  it('matches `?` against one character outside the BMP', () => {
    expect(matches('?', '😀')).toBe(true);
    expect(matches('a?.txt', 'a😀.txt')).toBe(true);
    expect(matches('??', '😀')).toBe(false);
    expect(matches('??', '😀😀')).toBe(true);
    expect(matches('[😀x]', '😀')).toBe(true);
    expect(matches('[!😀]', '😀')).toBe(false);
  });

  // Python drops a reversed range (fnmatch.translate('[z-a]') matches nothing); JavaScript cannot compile it.
  // baler refuses such a pattern with a usage error that names it, rather than silently matching nothing.
  it('refuses a reversed range `[z-a]` with a usage error naming the pattern', () => {
    expect(() => fnmatchToRegExp('[z-a]')).toThrow(ConfigError);
    expect(() => fnmatchToRegExp('x[z-a]')).toThrow(/invalid filter pattern "x\[z-a\]"/);
  });
});

describe('Function: compileFilters', () => {
  it('includes everything without filters', () => {
    const keep = compileFilters([]);
    for (const key of ['', 'a', 'a/b/c.db', ' ', '.hidden', 'x/']) expect(keep(key), key).toBe(true);
  });

  it('includes what no filter matches (everything starts included)', () => {
    const keep = compileFilters([exclude('*.tmp')]);
    expect(keep('a.db')).toBe(true);
    expect(keep('a.tmp')).toBe(false);
    expect(keep('dir/a.tmp')).toBe(false);
  });

  it('an include alone excludes nothing', () => {
    const keep = compileFilters([include('*.db')]);
    expect(keep('a.db')).toBe(true);
    expect(keep('a.txt')).toBe(true);
  });

  it('keeps only .db files with the original README example `--exclude "*" --include "*.db"`', () => {
    const keep = compileFilters([exclude('*'), include('*.db')]);
    expect(keep('a.db')).toBe(true);
    expect(keep('deep/dir/b.db')).toBe(true);
    expect(keep('a.txt')).toBe(false);
    expect(keep('a.db/readme')).toBe(false);
    expect(keep('a.DB')).toBe(false);
  });

  it('lets the last matching filter win, in command-line order', () => {
    // Reversed, the same two filters exclude everything.
    const keep = compileFilters([include('*.db'), exclude('*')]);
    expect(keep('a.db')).toBe(false);
    expect(keep('a.txt')).toBe(false);
  });

  it('ignores filters that do not match when deciding', () => {
    const keep = compileFilters([exclude('*'), include('logs/*'), exclude('logs/tmp/*'), include('*.keep')]);
    expect(keep('logs/a.json')).toBe(true);
    expect(keep('logs/tmp/a.json')).toBe(false);
    expect(keep('logs/tmp/a.keep')).toBe(true);
    expect(keep('other/a.json')).toBe(false);
    expect(keep('other/a.keep')).toBe(true);
  });

  it('re-includes and re-excludes as often as the filters say', () => {
    const rules = [exclude('*'), include('*.db'), exclude('*.db'), include('a*')];
    const keep = compileFilters(rules);
    expect(keep('a.db')).toBe(true);
    expect(keep('b.db')).toBe(false);
    expect(keep('a.txt')).toBe(true);
    expect(keep('b.txt')).toBe(false);
  });

  it('matches keys relative to the prefix, whole: a pattern without `*` is the whole key', () => {
    const keep = compileFilters([exclude('a.db')]);
    expect(keep('a.db')).toBe(false);
    expect(keep('dir/a.db')).toBe(true);
    expect(keep('a.db.bak')).toBe(true);
  });

  it('handles keys with spaces, `+`, `%` and unicode', () => {
    const keep = compileFilters([exclude('*'), include('my dir/*'), include('*+*'), include('*%2F*')]);
    expect(keep('my dir/a b.txt')).toBe(true);
    expect(keep('mydir/a b.txt')).toBe(false);
    expect(keep('x/a+b.txt')).toBe(true);
    expect(keep('x/a b.txt')).toBe(false);
    expect(keep('a%2Fb')).toBe(true);
    expect(keep('a/b')).toBe(false);
    expect(compileFilters([exclude('été/*')])('été/ü.txt')).toBe(false);
    expect(compileFilters([exclude('été/*')])('ete/u.txt')).toBe(true);
  });

  it('does not share state between calls (each key is decided on its own)', () => {
    const keep = compileFilters([exclude('*'), include('*.db')]);
    const keys = ['a.db', 'b.txt', 'c.db', 'd.txt', 'a.db'];
    expect(keys.map(keep)).toEqual([true, false, true, false, true]);
  });
});
