import { createHash } from 'node:crypto';
import { ConfigError } from '../core/errors.js';

/** `--shard I/N`: this machine takes the keys whose hash falls in bucket I of N (0-based). */
export interface Shard {
  readonly index: number;
  readonly count: number;
}

/**
 * Parse `I/N` with 0 ≤ I < N.
 *
 * @example
 * parseShard('0/4') // { index: 0, count: 4 }
 */
export function parseShard(text: string): Shard {
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count || !Number.isSafeInteger(count)) {
    throw new ConfigError(`--shard must be I/N with 0 ≤ I < N (e.g. 0/4), got ${JSON.stringify(text)}`);
  }
  return { index, count };
}

/**
 * Which shard a key belongs to: the first 48 bits of the key's MD5, modulo N. Stable across machines, runs
 * and Node versions, so N machines given `0/N` … `N-1/N` split a prefix into disjoint, complete parts.
 */
export function shardOf(key: string, count: number): number {
  const h = createHash('md5').update(key, 'utf8').digest();
  return h.readUIntBE(0, 6) % count;
}

/** Does `key` belong to `shard` (always true without one)? */
export function inShard(key: string, shard: Shard | undefined): boolean {
  return shard === undefined || shardOf(key, shard.count) === shard.index;
}
