import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';
import {
  localTarget,
  NAME_MAX_BYTES,
  normalizePrefix,
  PATH_MAX_BYTES,
  RESUME_SUFFIX,
  RESUME_TMP_SUFFIX,
} from '../../src/soak/keyPath.js';

const DEST = '/data/dest';
/** The longest last segment: room is left for `NAME.partial.json.tmp` (255 − 17 = 238 bytes). */
const MAX_LAST = NAME_MAX_BYTES - Buffer.byteLength(RESUME_TMP_SUFFIX);

/** Is `p` strictly below `dir` (not `dir` itself, not a sibling like `dir-x`)? */
function isInside(dir: string, p: string): boolean {
  const rel = path.relative(path.resolve(dir), p);
  return rel !== '' && rel !== '..' && !rel.startsWith(`..${path.sep}`) && !path.isAbsolute(rel);
}

function expectRefused(key: string, reason: RegExp, dest = DEST) {
  const t = localTarget(dest, key);
  expect(t.ok, `${JSON.stringify(key)} should be refused`).toBe(false);
  if (!t.ok) expect(t.reason).toMatch(reason);
}

describe('Function: localTarget', () => {
  it.each([
    ['a.json', '/data/dest/a.json'],
    ['logs/a b.json', '/data/dest/logs/a b.json'],
    ['a+b%20c.txt', '/data/dest/a+b%20c.txt'],
    ['été/日本/ü.csv', '/data/dest/été/日本/ü.csv'],
    ['...', '/data/dest/...'],
    ['..a/b..', '/data/dest/..a/b..'],
    ['.hidden', '/data/dest/.hidden'],
    ['a\\b', '/data/dest/a\\b'],
    ['-rf', '/data/dest/-rf'],
  ])('maps %j into destDir', (key, expected) => {
    expect(localTarget(DEST, key)).toEqual({ ok: true, path: expected });
  });

  it('resolves a relative destDir against the working directory', () => {
    expect(localTarget('out', 'a/b')).toEqual({ ok: true, path: path.resolve('out', 'a', 'b') });
  });

  it('ignores a trailing separator on destDir', () => {
    expect(localTarget('/data/dest/', 'a')).toEqual({ ok: true, path: '/data/dest/a' });
  });

  it.each(['..', '../etc/passwd', 'a/../../etc/passwd', 'a/..', 'a/../b'])(
    'refuses %j (segment "..")',
    (key) => {
      expectRefused(key, /path segment "\.\."/);
    },
  );

  it.each(['.', './a', 'a/./b', 'a/.'])('refuses %j (segment ".")', (key) => {
    expectRefused(key, /path segment "\."/);
  });

  it.each(['/etc/passwd', '/a', 'a//b', '//a', 'a///b'])('refuses %j (empty segment)', (key) => {
    expectRefused(key, /empty path segment/);
  });

  it.each(['a\0b', '\0', 'dir/a\0', '\0/a'])('refuses %j (NUL)', (key) => {
    expectRefused(key, /NUL/);
  });

  it.each(['', 'dir/', 'a/b/', '/', '../', '\0/'])('skips %j as a directory marker', (key) => {
    const t = localTarget(DEST, key);
    expect(t).toEqual({
      ok: false,
      reason: expect.stringMatching(/directory marker/) as unknown,
      marker: true,
    });
  });

  it('does not flag unsafe keys as markers (they are reported, not skipped silently)', () => {
    for (const key of ['..', 'a//b', 'a\0', '/a']) {
      const t = localTarget(DEST, key);
      expect(t.ok).toBe(false);
      if (!t.ok) expect(t.marker, key).toBeUndefined();
    }
  });

  describe('name length', () => {
    it('names the temp file of the resume record as the longest suffix (17 bytes)', () => {
      // writeResumeRecord writes `${file}.tmp` and renames it to the record `NAME.partial.json`.
      expect(RESUME_TMP_SUFFIX).toBe(`${RESUME_SUFFIX}.tmp`);
      expect(RESUME_TMP_SUFFIX).toBe('.partial.json.tmp');
      expect(Buffer.byteLength(RESUME_TMP_SUFFIX)).toBe(17);
    });

    it('keeps room for the resume temp suffix in the last segment (255 − 17 = 238 bytes)', () => {
      expect(MAX_LAST).toBe(238);
      expect(localTarget(DEST, 'x'.repeat(MAX_LAST)).ok).toBe(true);
      expect(localTarget(DEST, `dir/${'x'.repeat(MAX_LAST)}`).ok).toBe(true);
      expectRefused('x'.repeat(MAX_LAST + 1), /name too long.*239 bytes > 238/);
      // 239–242 bytes were accepted before, though `NAME.partial.json.tmp` would then exceed 255 bytes.
      expectRefused('x'.repeat(242), /name too long.*242 bytes > 238/);
    });

    it('refuses a 255-byte file name (its resume record would not fit)', () => {
      expectRefused('x'.repeat(255), /name too long/);
      expectRefused(`dir/${'x'.repeat(255)}`, /name too long/);
    });

    it('accepts a 255-byte directory segment and refuses a 256-byte one', () => {
      expect(localTarget(DEST, `${'d'.repeat(255)}/a`).ok).toBe(true);
      expectRefused(`${'d'.repeat(256)}/a`, /name too long.*256 bytes > 255/);
    });

    it('counts bytes, not characters, in multi-byte unicode', () => {
      // 'é' is 2 bytes, '日' 3, '😀' 4 (and 2 UTF-16 units).
      expect(localTarget(DEST, 'é'.repeat(119)).ok).toBe(true); // 238 bytes
      expectRefused('é'.repeat(120), /240 bytes > 238/); // 120 characters
      expect(localTarget(DEST, '日'.repeat(79)).ok).toBe(true); // 237 bytes
      expectRefused('日'.repeat(80), /240 bytes > 238/); // 80 characters
      expect(localTarget(DEST, '😀'.repeat(59)).ok).toBe(true); // 236 bytes
      expectRefused('😀'.repeat(60), /240 bytes > 238/);
      expect(localTarget(DEST, `${'日'.repeat(85)}/a`).ok).toBe(true); // 255-byte directory
      expectRefused(`${'日'.repeat(86)}/a`, /258 bytes > 255/);
    });

    it('accepts a 1,024-byte key (the S3 maximum) made of short segments', () => {
      const key = Array.from({ length: 128 }, (_, i) => `s${String(i).padStart(6, '0')}`).join('/');
      expect(Buffer.byteLength(key)).toBe(1023);
      const full = `${key}x`;
      expect(Buffer.byteLength(full)).toBe(1024);
      const t = localTarget(DEST, full);
      expect(t.ok).toBe(true);
      if (t.ok) expect(t.path).toBe(path.join(DEST, ...full.split('/')));
    });

    it('refuses a 1,024-byte key of one segment', () => {
      expectRefused('k'.repeat(1024), /name too long.*1024 bytes > 238/);
      expectRefused(`dir/${'k'.repeat(1020)}`, /name too long/);
    });
  });

  describe('path length', () => {
    /** A destDir of `depth` 200-byte segments. */
    const deepDir = (depth: number) =>
      path.join('/', ...Array.from({ length: depth }, () => 'd'.repeat(200)));

    it('refuses a key whose path would exceed PATH_MAX with a deep destDir', () => {
      const dest = deepDir(20); // 4,020 bytes
      expect(Buffer.byteLength(dest)).toBe(4020);
      expectRefused('a/b/c/' + 'x'.repeat(100), /path too long.*4096/, dest);
      // The same key fits under a shallow destDir.
      expect(localTarget(DEST, 'a/b/c/' + 'x'.repeat(100)).ok).toBe(true);
    });

    it('counts the resume temp suffix, the terminating NUL and multi-byte characters in the path length', () => {
      const dest = deepDir(19); // 3,819 bytes
      expect(Buffer.byteLength(dest)).toBe(3819);
      // dest + '/' + key + '.partial.json.tmp' + NUL must fit in 4096: 4096 − 1 − 3819 − 1 − 17 = 258 bytes.
      const room = PATH_MAX_BYTES - 1 - Buffer.byteLength(dest) - 1 - Buffer.byteLength(RESUME_TMP_SUFFIX);
      expect(room).toBe(258);
      const key = (bytes: number) => `${'a'.repeat(100)}/${'b'.repeat(bytes - 101)}`;
      const longest = localTarget(dest, key(room));
      expect(longest.ok).toBe(true);
      if (longest.ok) expect(Buffer.byteLength(longest.path + RESUME_TMP_SUFFIX)).toBe(PATH_MAX_BYTES - 1);
      expectRefused(key(room + 1), /path too long.*4096/, dest);
      // In bytes: 2-byte characters reach the limit at half the characters.
      expect(localTarget(dest, `${'é'.repeat(50)}/${'ü'.repeat(78)}`).ok).toBe(true); // 257 bytes
      const wide = `${'é'.repeat(50)}/${'ü'.repeat(79)}`; // 100 + 1 + 158 = 259 bytes, 130 characters
      expectRefused(wide, /path too long/, dest);
    });
  });

  it('keeps every accepted result inside destDir (10,000 generated keys, seed 20261121)', () => {
    // Keys are built from pieces that are dangerous in a path, so that many are refused and many accepted.
    const rnd = seededRandom(20261121);
    const pieces = [
      '..',
      '.',
      '',
      'a',
      'b c',
      'é',
      '日本',
      '😀',
      '\0',
      '%2e%2e',
      '\\',
      '~',
      '-',
      ':',
      '+',
      ' ',
    ];
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(rnd() * xs.length)] as T;
    const dests = ['/data/dest', '/data/dest/', 'rel/dir', '/data/dest/..dot', '/'];
    // The oracle itself tells inside from outside.
    expect(isInside('/data/dest', '/data/dest/...x')).toBe(true);
    expect(isInside('/data/dest', '/data/dest-x/a')).toBe(false);
    expect(isInside('/data/dest', '/data/dest')).toBe(false);
    expect(isInside('/data/dest', '/data/a')).toBe(false);
    expect(isInside('/', '/a')).toBe(true);
    expect(isInside('/', '/')).toBe(false);
    let accepted = 0;
    let refused = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const segments = Array.from({ length: 1 + Math.floor(rnd() * 5) }, () =>
        Array.from({ length: 1 + Math.floor(rnd() * 3) }, () => pick(pieces)).join(''),
      );
      const key = (rnd() < 0.1 ? '/' : '') + segments.join('/') + (rnd() < 0.1 ? '/' : '');
      const dest = pick(dests);
      const t = localTarget(dest, key);
      if (t.ok) {
        accepted += 1;
        expect(isInside(dest, t.path), `${JSON.stringify(key)} -> ${t.path}`).toBe(true);
        expect(path.normalize(t.path)).toBe(t.path);
        expect(t.path.includes('\0')).toBe(false);
        // The path keeps the key's structure below destDir, byte for byte.
        expect(path.relative(path.resolve(dest), t.path).split(path.sep)).toEqual(key.split('/'));
      } else {
        refused += 1;
        const segs = key.split('/');
        const unsafe =
          key === '' ||
          key.endsWith('/') ||
          key.includes('\0') ||
          segs.some((s) => s === '' || s === '.' || s === '..');
        expect(unsafe, `${JSON.stringify(key)} refused: ${t.reason}`).toBe(true);
      }
    }
    // The generator really exercises both sides.
    expect(accepted).toBeGreaterThan(1000);
    expect(refused).toBeGreaterThan(1000);
  });

  // A filesystem root as destDir: the final check no longer compares with root + path.sep ("//").
  it('accepts keys under a filesystem root destDir', () => {
    expect(localTarget('/', 'a/b.txt')).toEqual({ ok: true, path: '/a/b.txt' });
    expect(localTarget('/', 'a')).toEqual({ ok: true, path: '/a' });
    expect(localTarget('/', 'x'.repeat(MAX_LAST))).toEqual({
      ok: true,
      path: `/${'x'.repeat(MAX_LAST)}`,
    });
  });

  it('still refuses unsafe keys under a filesystem root destDir', () => {
    expectRefused('..', /path segment "\.\."/, '/');
    expectRefused('a/../../etc/passwd', /path segment "\.\."/, '/');
    expectRefused('/etc/passwd', /empty path segment/, '/');
  });
});

describe('Function: normalizePrefix', () => {
  it.each([
    ['', ''],
    ['logs', 'logs/'],
    ['logs/', 'logs/'],
    ['a/b', 'a/b/'],
    ['a//', 'a//'],
    ['/', '/'],
    ['été', 'été/'],
  ])('%j -> %j', (prefix, expected) => {
    expect(normalizePrefix(prefix)).toBe(expected);
  });

  it('lets a relative key be cut from a listed key', () => {
    const prefix = normalizePrefix('logs');
    const key = 'logs/2024/a.json';
    expect(key.startsWith(prefix)).toBe(true);
    expect(key.slice(prefix.length)).toBe('2024/a.json');
    // `logs` is a directory: `logs-old/a` is not under it.
    expect('logs-old/a'.startsWith(prefix)).toBe(false);
  });
});

describe('Function: localTarget, reserved names', () => {
  it.each(['x.partial', 'dir/x.partial.json', 'a/b/x.partial.json.tmp'])(
    'refuses %s: its name is reserved for downloads in progress',
    (key) => {
      const t = localTarget('/data', key);
      expect(t.ok).toBe(false);
      expect(t.ok ? '' : t.reason).toMatch(/reserved for downloads in progress/);
    },
  );

  it('accepts names that only contain the suffixes', () => {
    expect(localTarget('/data', 'x.partial.txt').ok).toBe(true);
    expect(localTarget('/data', 'x.partial/y').ok).toBe(true);
  });
});
