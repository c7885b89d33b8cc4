import { describe, expect, it, vi } from 'vitest';
import { TokenBucket } from '../../src/soak/tokenBucket.js';

/** A fake clock: `sleep` advances `now` by exactly the time asked for and records each sleep. */
function fakeClock(start = 1000) {
  const clock = {
    t: start,
    sleeps: [] as number[],
    now: () => clock.t,
    sleep: (ms: number) => {
      clock.sleeps.push(ms);
      clock.t += ms;
      return Promise.resolve();
    },
  };
  return clock;
}

const RATE = 1_000_000; // bytes/s

describe('Class: TokenBucket', () => {
  describe('constructor', () => {
    it.each([0, -1, -RATE, Number.NaN])('rejects a rate of %d', (rate) => {
      expect(() => new TokenBucket(rate)).toThrow(RangeError);
      expect(() => new TokenBucket(rate)).toThrow(`rate must be > 0 bytes/s, got ${rate}`);
    });

    it('accepts a tiny positive rate', () => {
      expect(() => new TokenBucket(0.001, fakeClock())).not.toThrow();
    });
  });

  describe('Method: take', () => {
    it('lets a burst of one second pass at once', async () => {
      const clock = fakeClock();
      const bucket = new TokenBucket(RATE, clock);
      for (let i = 0; i < 10; i += 1) await bucket.take(RATE / 10);
      expect(clock.t).toBe(1000);
      expect(clock.sleeps).toEqual([]);
    });

    it('takes ≈ 9 s of simulated time for 10 × rate bytes (the first second is the burst)', async () => {
      const clock = fakeClock();
      const bucket = new TokenBucket(RATE, clock);
      for (let i = 0; i < 100; i += 1) await bucket.take(RATE / 10);
      const elapsedMs = clock.t - 1000;
      expect(elapsedMs).toBeGreaterThanOrEqual(8990);
      expect(elapsedMs).toBeLessThanOrEqual(9100);
    });

    it('holds the rate whatever the chunk size', async () => {
      for (const chunk of [1000, 65_536, 250_000, 333_333]) {
        const clock = fakeClock(0);
        const bucket = new TokenBucket(RATE, clock);
        const total = 5 * RATE;
        for (let taken = 0; taken < total; taken += chunk) await bucket.take(Math.min(chunk, total - taken));
        // 5 × rate bytes: 1 s of burst, 4 s of waiting (give or take a millisecond per chunk of rounding up).
        expect(clock.t, `chunk ${chunk}`).toBeGreaterThanOrEqual(3990);
        expect(clock.t, `chunk ${chunk}`).toBeLessThanOrEqual(4000 + Math.ceil(total / chunk) + 10);
      }
    });

    it('lets one request larger than the burst pass, in debt that later requests pay', async () => {
      const clock = fakeClock(0);
      const bucket = new TokenBucket(RATE, clock);
      await bucket.take(10 * RATE);
      expect(clock.t).toBe(0); // a full bucket lets it through
      await bucket.take(1);
      // 9 × rate of debt plus one byte: ≈ 9 s.
      expect(clock.t).toBeGreaterThanOrEqual(9000);
      expect(clock.t).toBeLessThanOrEqual(9002);
    });

    it('refills with real elapsed time, up to the burst only', async () => {
      const clock = fakeClock(0);
      const bucket = new TokenBucket(RATE, clock);
      await bucket.take(RATE); // empty
      clock.t += 60_000; // a minute idle: still only one second's worth
      await bucket.take(RATE);
      expect(clock.sleeps).toEqual([]);
      await bucket.take(RATE / 2);
      expect(clock.sleeps).toEqual([500]);
    });

    it('waits only for the missing tokens', async () => {
      const clock = fakeClock(0);
      const bucket = new TokenBucket(RATE, clock);
      await bucket.take(RATE); // empty at t = 0
      clock.t += 300; // 0.3 s of tokens
      await bucket.take(RATE / 2);
      expect(clock.sleeps).toEqual([200]);
    });

    it('serves waiters in the order they asked, a large one not starved by later small ones', async () => {
      const clock = fakeClock(0);
      const bucket = new TokenBucket(RATE, clock);
      await bucket.take(RATE); // empty
      const done: string[] = [];
      const requests = [
        ['big', RATE],
        ['small-1', 10],
        ['small-2', 10],
        ['medium', RATE / 2],
        ['small-3', 10],
      ] as const;
      await Promise.all(requests.map(([name, n]) => bucket.take(n).then(() => done.push(name))));
      expect(done).toEqual(['big', 'small-1', 'small-2', 'medium', 'small-3']);
      // The big request waited a full second before any small one passed.
      expect(clock.sleeps[0]).toBe(1000);
    });

    it('keeps the rate with many concurrent takers', async () => {
      const clock = fakeClock(0);
      const bucket = new TokenBucket(RATE, clock);
      await Promise.all(Array.from({ length: 40 }, () => bucket.take(RATE / 4)));
      // 10 × rate bytes: ≈ 9 s, however the takers interleave.
      expect(clock.t).toBeGreaterThanOrEqual(8990);
      expect(clock.t).toBeLessThanOrEqual(9050);
    });

    it('uses performance.now and setTimeout by default', async () => {
      vi.useFakeTimers();
      try {
        const bucket = new TokenBucket(1000);
        await bucket.take(1000); // the burst
        let passed = false;
        const p = bucket.take(20).then(() => {
          passed = true;
        });
        await vi.advanceTimersByTimeAsync(19);
        expect(passed).toBe(false);
        await vi.advanceTimersByTimeAsync(1);
        await p;
        expect(passed).toBe(true);
      } finally {
        vi.useRealTimers();
      }
    });
  });
});
