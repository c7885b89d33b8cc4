import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors.js';
import { seededRandom } from '../../src/core/random.js';
import { inShard, parseShard, shardOf } from '../../src/soak/shard.js';

/** `n` distinct, varied keys (paths, unicode, sequential names) from a seeded PRNG. */
function generatedKeys(n: number, seed: number): string[] {
  const rnd = seededRandom(seed);
  const chars = ['a', 'b', 'c', 'x', 'y', 'z', '0', '1', '9', '-', '_', '.', '/', ' ', 'é', '日', '😀'];
  const keys = new Set<string>();
  while (keys.size < n) {
    const len = 1 + Math.floor(rnd() * 40);
    let k = '';
    for (let i = 0; i < len; i += 1) k += chars[Math.floor(rnd() * chars.length)] as string;
    keys.add(k);
    // Sequential names, as real buckets have.
    if (keys.size < n) keys.add(`logs/2024/part-${String(keys.size).padStart(6, '0')}.json`);
  }
  return [...keys];
}

describe('Function: parseShard', () => {
  it.each([
    ['0/1', { index: 0, count: 1 }],
    ['0/4', { index: 0, count: 4 }],
    ['3/4', { index: 3, count: 4 }],
    [' 2/4 ', { index: 2, count: 4 }],
    ['07/10', { index: 7, count: 10 }],
    ['999/1000', { index: 999, count: 1000 }],
  ])('parses %j', (text, expected) => {
    expect(parseShard(text)).toEqual(expected);
  });

  it.each([
    '',
    '4/4',
    '5/4',
    '0/0',
    '-1/4',
    '1/-4',
    '1',
    '/4',
    '1/',
    '1/4/2',
    '1.5/4',
    '1/4.0',
    'a/b',
    '1 / 4',
    '0x1/4',
    '1e0/4',
    '0/99999999999999999999',
    '١/٤', // Arabic-Indic digits are not ASCII digits
  ])('rejects %j as a usage error naming the input', (text) => {
    expect(() => parseShard(text)).toThrow(ConfigError);
    expect(() => parseShard(text)).toThrow(
      `--shard must be I/N with 0 ≤ I < N (e.g. 0/4), got ${JSON.stringify(text)}`,
    );
  });
});

describe('Function: shardOf', () => {
  const keys = generatedKeys(10_000, 4242);

  it('is deterministic: the same key and count always give the same shard', () => {
    // Computed in reverse order and with interleaved counts, the answers are the same.
    const forward = keys.map((k) => [2, 3, 4, 7, 16].map((n) => shardOf(k, n)));
    const backward = [...keys]
      .reverse()
      .map((k) => [16, 7, 4, 3, 2].map((n) => shardOf(k, n)).reverse())
      .reverse();
    expect(backward).toEqual(forward);
  });

  it('follows the documented formula: the first 48 bits of the MD5 of the UTF-8 key, modulo N', () => {
    // The contract that makes shards stable across machines and Node versions, computed independently.
    for (const key of keys.slice(0, 300)) {
      const hex = createHash('md5').update(Buffer.from(key, 'utf8')).digest('hex').slice(0, 12);
      const first48 = BigInt(`0x${hex}`);
      for (const n of [3, 4, 1000]) expect(BigInt(shardOf(key, n))).toBe(first48 % BigInt(n));
    }
  });

  it('is always an integer in [0, N)', () => {
    for (const n of [1, 2, 3, 4, 5, 10, 97, 1000, 2 ** 40]) {
      for (const key of keys.slice(0, 1000)) {
        const s = shardOf(key, n);
        expect(Number.isInteger(s)).toBe(true);
        expect(s).toBeGreaterThanOrEqual(0);
        expect(s).toBeLessThan(n);
      }
    }
  });

  it('puts every key in shard 0 of 1', () => {
    expect(keys.every((k) => shardOf(k, 1) === 0)).toBe(true);
  });

  it('depends on the key: keys differing in one byte or in case spread over shards', () => {
    const near = ['a', 'b', 'A', 'a ', 'a/', 'é', 'e\u0301', 'x.db', 'x.dc'].map((k) => shardOf(k, 1000));
    expect(new Set(near).size).toBeGreaterThan(5);
  });

  it('splits 10,000 keys into 4 disjoint, complete, balanced shards (each within ±15% of 2,500)', () => {
    const n = 4;
    const members = Array.from({ length: n }, () => [] as string[]);
    for (const key of keys) {
      const owners = Array.from({ length: n }, (_, i) => i).filter((i) =>
        inShard(key, { index: i, count: n }),
      );
      // Disjoint and complete: exactly one of the N machines takes each key.
      expect(owners, key).toHaveLength(1);
      members[owners[0] as number]?.push(key);
    }
    expect(members.reduce((a, m) => a + m.length, 0)).toBe(keys.length);
    expect(new Set(members.flat()).size).toBe(keys.length);
    for (const m of members) {
      expect(m.length).toBeGreaterThanOrEqual(2125);
      expect(m.length).toBeLessThanOrEqual(2875);
    }
  });

  it('also balances sequential key names alone', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 10_000; i += 1) {
      const s = shardOf(`exports/2024-01-01/part-${String(i).padStart(5, '0')}.db`, 4);
      counts[s] = (counts[s] ?? 0) + 1;
    }
    for (const c of counts) expect(Math.abs(c - 2500)).toBeLessThanOrEqual(375);
  });
});

describe('Function: inShard', () => {
  it('takes every key without a shard', () => {
    for (const key of ['', 'a', 'b/c']) expect(inShard(key, undefined)).toBe(true);
  });

  it('agrees with shardOf', () => {
    for (const key of generatedKeys(200, 7)) {
      const s = shardOf(key, 5);
      expect(inShard(key, { index: s, count: 5 })).toBe(true);
      expect(inShard(key, { index: (s + 1) % 5, count: 5 })).toBe(false);
    }
  });
});
