import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { PartBufferPool, partSizeFor, partsOf } from '../../src/replicate/stager.js';
import { chunked, objectBytes } from '../fixtures/archive/index.js';

const MiB = 1024 * 1024;

describe('partSizeFor', () => {
  it('keeps the preferred size while 10,000 parts suffice', () => {
    expect(partSizeFor(64 * MiB, 8 * MiB)).toBe(8 * MiB);
    expect(partSizeFor(80_000 * MiB, 8 * MiB)).toBe(8 * MiB);
  });
  it('raises the size (whole MiB) so that no object needs more than 10,000 parts', () => {
    const size = 5 * 1024 ** 4; // S3's largest object
    const part = partSizeFor(size, 8 * MiB);
    expect(part % MiB).toBe(0);
    expect(Math.ceil(size / part)).toBeLessThanOrEqual(10_000);
    expect(Math.ceil(size / (part - MiB))).toBeGreaterThan(10_000);
  });
  it('never goes below S3’s 5 MiB minimum part', () => {
    expect(partSizeFor(100, 1024)).toBe(5 * MiB);
  });
});

describe('partsOf', () => {
  it('cuts any chunking into full parts and a shorter last one, bytes unchanged', async () => {
    const data = objectBytes(3, 10 * 1000 + 17);
    for (const chunking of [1, 999, 1000, 4096, 'random'] as const) {
      const parts: Buffer[] = [];
      for await (const p of partsOf(chunked(data, chunking), 1000)) parts.push(Buffer.from(p));
      expect(parts.map((p) => p.length)).toEqual([...Array<number>(10).fill(1000), 17]);
      expect(Buffer.concat(parts).equals(data)).toBe(true);
    }
  });
  it('yields no empty part for an exact multiple or an empty body', async () => {
    const exact: number[] = [];
    for await (const p of partsOf(chunked(objectBytes(4, 3000), 700), 1000)) exact.push(p.length);
    expect(exact).toEqual([1000, 1000, 1000]);
    const empty: number[] = [];
    for await (const p of partsOf(Readable.from([]), 1000)) empty.push(p.length);
    expect(empty).toEqual([]);
  });
});

describe('PartBufferPool', () => {
  it('hands a returned buffer out again, memory and all', () => {
    const pool = new PartBufferPool();
    const a = pool.take(64 * 1024);
    a.fill(7);
    pool.give(a);
    expect(pool.idle).toBe(1);
    const b = pool.take(64 * 1024);
    expect(b.buffer).toBe(a.buffer);
    expect(pool.idle).toBe(0);
    expect(pool.take(64 * 1024).buffer).not.toBe(a.buffer);
  });

  it('keeps the whole buffer when a shorter last part (a view from its start) comes back', () => {
    const pool = new PartBufferPool();
    const whole = pool.take(64 * 1024);
    pool.give(whole.subarray(0, 1000));
    const again = pool.take(64 * 1024);
    expect(again.buffer).toBe(whole.buffer);
    expect(again.length).toBe(64 * 1024);
  });

  it('keeps a buffer once however often it comes back', () => {
    const pool = new PartBufferPool();
    const a = pool.take(64 * 1024);
    pool.give(a);
    pool.give(a);
    pool.give(a.subarray(0, 10));
    expect(pool.idle).toBe(1);
  });

  it('forgets its buffers when asked for another size, and refuses buffers it cannot reuse', () => {
    const pool = new PartBufferPool();
    const a = pool.take(64 * 1024);
    pool.give(a);
    const b = pool.take(128 * 1024);
    expect(b.buffer).not.toBe(a.buffer);
    expect(pool.idle).toBe(0);
    pool.give(a); // the old size
    pool.give(b.subarray(1, 100)); // not from its start
    pool.give(Buffer.alloc(128 * 1024 - 1)); // another size
    pool.give(Buffer.allocUnsafe(100)); // a slice of Node's shared slab
    expect(pool.idle).toBe(0);
    pool.give(b);
    expect(pool.idle).toBe(1);
  });

  it('keeps at most maxIdle buffers', () => {
    const pool = new PartBufferPool(2);
    const bufs = [1, 2, 3].map(() => pool.take(64 * 1024));
    for (const b of bufs) pool.give(b);
    expect(pool.idle).toBe(2);
    expect(() => new PartBufferPool(-1)).toThrow(RangeError);
  });
});
