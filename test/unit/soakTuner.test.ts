import { describe, expect, it } from 'vitest';
import {
  BACKOFF_FACTOR,
  ConcurrencyTuner,
  FALL_INTERVALS,
  FALL_RATIO,
  GROWTH_FACTOR,
  GROWTH_RATIO,
  type TunerDecision,
  type TunerSample,
} from '../../src/soak/tuner.js';

const MB = 1_000_000;

/** A saturated interval without throttling at `bytesPerSec`. */
const busy = (bytesPerSec: number): TunerSample => ({ bytesPerSec, throttles: 0, saturated: true });

/** Feed samples in turn; returns the decisions and the limit after each. */
function feed(t: ConcurrencyTuner, samples: readonly TunerSample[]) {
  return samples.map((s) => ({ decision: t.observe(s), limit: t.limit }));
}

describe('Class: ConcurrencyTuner', () => {
  it('exports the documented constants', () => {
    expect(GROWTH_RATIO).toBe(1.05);
    expect(GROWTH_FACTOR).toBe(1.5);
    expect(BACKOFF_FACTOR).toBe(0.5);
    expect(FALL_RATIO).toBe(0.2);
    expect(FALL_INTERVALS).toBe(2);
  });

  describe('constructor', () => {
    it('starts at min, with the peak at min', () => {
      const t = new ConcurrencyTuner({ min: 8, max: 64 });
      expect(t.limit).toBe(8);
      expect(t.peak).toBe(8);
    });

    it.each([
      [{ min: 0, max: 4 }, 'got min 0, max 4'],
      [{ min: -1, max: 4 }, 'got min -1, max 4'],
      [{ min: 8, max: 4 }, 'got min 8, max 4'],
    ])('rejects %j', (options, text) => {
      expect(() => new ConcurrencyTuner(options)).toThrow(RangeError);
      expect(() => new ConcurrencyTuner(options)).toThrow(text);
    });

    it('accepts min = max and then never moves', () => {
      const t = new ConcurrencyTuner({ min: 5, max: 5 });
      const out = feed(t, [busy(1), busy(10), busy(100), busy(1000)]);
      expect(out.map((o) => o.decision)).toEqual(['hold', 'hold', 'hold', 'hold']);
      expect(t.limit).toBe(5);
    });
  });

  describe('Method: observe', () => {
    it('grows on the first saturated interval (nothing to compare with yet)', () => {
      const t = new ConcurrencyTuner({ min: 4, max: 64 });
      expect(t.observe(busy(40 * MB))).toBe('grow');
      expect(t.limit).toBe(6);
    });

    it('grows × 1.5, rounded, and by at least 1', () => {
      const t = new ConcurrencyTuner({ min: 1, max: 1000 });
      const out = feed(
        t,
        [1, 2, 3, 5, 8, 12, 18].map((n) => busy(n * MB)),
      );
      // 1 → 2 (+1, not 1.5), 2 → 3, 3 → 5 (4.5 rounds up), 5 → 8 (7.5), 8 → 12, 12 → 18, 18 → 27.
      expect(out.map((o) => o.limit)).toEqual([2, 3, 5, 8, 12, 18, 27]);
      expect(out.every((o) => o.decision === 'grow')).toBe(true);
    });

    it('grows only when throughput improved by at least 5% over the last interval', () => {
      const t = new ConcurrencyTuner({ min: 4, max: 64 });
      t.observe(busy(100 * MB)); // → 6
      expect(t.observe(busy(104 * MB))).toBe('hold'); // +4%
      expect(t.limit).toBe(6);
      expect(t.observe(busy(110 * MB))).toBe('grow'); // +5.8% over 104
      expect(t.limit).toBe(9);
      expect(t.observe(busy(115.5 * MB))).toBe('grow'); // exactly +5%
      expect(t.limit).toBe(14);
    });

    it('compares with the last interval, not the first', () => {
      const t = new ConcurrencyTuner({ min: 4, max: 64 });
      t.observe(busy(100 * MB)); // → 6
      t.observe(busy(90 * MB)); // hold (a dip, but not a 20% fall below a lower limit's best)
      expect(t.observe(busy(95 * MB))).toBe('grow'); // +5.6% over 90, below the first 100
    });

    it('holds when the pool is not saturated, however throughput moved', () => {
      const t = new ConcurrencyTuner({ min: 4, max: 64 });
      const idle = (bytesPerSec: number): TunerSample => ({ bytesPerSec, throttles: 0, saturated: false });
      const out = feed(t, [idle(10 * MB), idle(100 * MB), idle(1000 * MB)]);
      expect(out.map((o) => o.decision)).toEqual(['hold', 'hold', 'hold']);
      expect(t.limit).toBe(4);
    });

    it('never exceeds max, and holds at max', () => {
      const t = new ConcurrencyTuner({ min: 10, max: 12 });
      expect(t.observe(busy(MB))).toBe('grow');
      expect(t.limit).toBe(12); // not 15
      expect(t.observe(busy(100 * MB))).toBe('hold');
      expect(t.limit).toBe(12);
      expect(t.peak).toBe(12);
    });

    it('stays within [min, max] over a long run of rising throughput', () => {
      const t = new ConcurrencyTuner({ min: 3, max: 50 });
      for (let i = 1; i <= 100; i += 1) {
        t.observe(busy(i * i * MB));
        expect(t.limit).toBeGreaterThanOrEqual(3);
        expect(t.limit).toBeLessThanOrEqual(50);
      }
      expect(t.limit).toBe(50);
    });

    describe('throttling', () => {
      it('halves the limit (rounded down) on throttles', () => {
        const t = new ConcurrencyTuner({ min: 2, max: 64 });
        feed(t, [busy(1), busy(2), busy(4)]); // 2 → 3 → 5 → 8
        expect(t.limit).toBe(8);
        expect(t.observe({ bytesPerSec: 8, throttles: 1, saturated: true })).toBe('backoff-throttle');
        expect(t.limit).toBe(4);
      });

      it('rounds an odd limit down', () => {
        const t = new ConcurrencyTuner({ min: 1, max: 64 });
        feed(t, [busy(1), busy(2), busy(3), busy(5)]); // 1 → 2 → 3 → 5 → 8
        feed(t, [{ bytesPerSec: 5, throttles: 3, saturated: true }]); // 8 → 4
        feed(t, [busy(100), busy(200)]); // 4 → 6 → 9
        expect(t.limit).toBe(9);
        t.observe({ bytesPerSec: 1, throttles: 1, saturated: false });
        expect(t.limit).toBe(4);
      });

      it('does not go below min', () => {
        const t = new ConcurrencyTuner({ min: 6, max: 64 });
        t.observe(busy(1)); // → 9
        expect(t.observe({ bytesPerSec: 1, throttles: 1, saturated: true })).toBe('backoff-throttle');
        expect(t.limit).toBe(6); // not 4
        expect(t.observe({ bytesPerSec: 1, throttles: 5, saturated: true })).toBe('backoff-throttle');
        expect(t.limit).toBe(6);
      });

      it('backs off even when throughput improved, saturated or not, and at the speed cap', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64, maxBytesPerSec: 10 * MB });
        t.observe(busy(MB)); // → 6
        expect(t.observe({ bytesPerSec: 50 * MB, throttles: 1, saturated: true })).toBe('backoff-throttle');
        expect(t.limit).toBe(4);
      });
    });

    describe('throughput fall', () => {
      it('steps back to the lower limit when throughput fell by more than 20% against its best, 2 intervals in a row', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // best at 4: 100; → 6
        expect(t.observe(busy(79 * MB))).toBe('hold'); // the first fall
        expect(t.limit).toBe(6);
        expect(t.observe(busy(79 * MB))).toBe('backoff-fall'); // the second in a row
        expect(t.limit).toBe(4);
        expect(t.peak).toBe(6);
      });

      it('does not step back on a single noisy interval, nor grow on it', () => {
        const t = new ConcurrencyTuner({ min: 2, max: 64 });
        feed(t, [busy(100 * MB), busy(106 * MB), busy(112 * MB)]); // best at 2: 100, 3: 106, 5: 112; → 8
        expect(t.limit).toBe(8);
        t.observe({ bytesPerSec: 0, throttles: 1, saturated: true }); // → 4, no last interval to compare with
        expect(t.limit).toBe(4);
        // A fall against 106 at 3: without the fall rule this saturated first interval would grow.
        expect(t.observe(busy(50 * MB))).toBe('hold');
        expect(t.limit).toBe(4);
        // Back to normal (within 20% of 106): the fall is forgotten.
        expect(t.observe(busy(90 * MB))).toBe('grow'); // +80% over the noisy interval
        expect(t.limit).toBe(6);
      });

      it('resets the fall streak after a normal interval', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // best at 4: 100; → 6
        const out = feed(t, [
          busy(79 * MB), // fall 1
          busy(82 * MB), // within 20%, and < 5% over 79: hold; the streak starts again
          busy(79 * MB), // fall 1 again, not 2
          busy(79 * MB), // fall 2
        ]);
        expect(out).toEqual([
          { decision: 'hold', limit: 6 },
          { decision: 'hold', limit: 6 },
          { decision: 'hold', limit: 6 },
          { decision: 'backoff-fall', limit: 4 },
        ]);
      });

      it('resets the fall streak after an unsaturated interval', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // → 6
        expect(t.observe(busy(70 * MB))).toBe('hold');
        expect(t.observe({ bytesPerSec: 10 * MB, throttles: 0, saturated: false })).toBe('hold');
        expect(t.observe(busy(70 * MB))).toBe('hold');
        expect(t.limit).toBe(6);
        expect(t.observe(busy(70 * MB))).toBe('backoff-fall');
        expect(t.limit).toBe(4);
      });

      // Bug: a throttled interval returns before the streak is updated, so a fall before it and a fall after it
      // count as "2 intervals in a row", though they are not consecutive and were measured at different limits
      // against different bests. Here one slow interval at 4 (after a fall at 8 and a throttle) steps back to 3.
      it('does not count falls on both sides of a throttled interval as in a row', () => {
        const t = new ConcurrencyTuner({ min: 2, max: 64 });
        feed(t, [busy(100 * MB), busy(106 * MB), busy(112 * MB)]); // best at 2: 100, 3: 106, 5: 112; → 8
        expect(t.observe(busy(80 * MB))).toBe('hold'); // a fall at 8 (below 80% of 112)
        expect(t.observe({ bytesPerSec: 80 * MB, throttles: 1, saturated: true })).toBe('backoff-throttle');
        expect(t.limit).toBe(4);
        expect(t.observe(busy(50 * MB))).toBe('hold'); // the first fall at 4 (below 80% of 106)
        expect(t.limit).toBe(4);
      });

      it('starts a new streak after stepping back', () => {
        const t = new ConcurrencyTuner({ min: 2, max: 64 });
        feed(t, [busy(100 * MB), busy(106 * MB), busy(112 * MB)]); // best at 2: 100, 3: 106, 5: 112; → 8
        expect(feed(t, [busy(80 * MB), busy(80 * MB)]).map((o) => o.decision)).toEqual([
          'hold',
          'backoff-fall',
        ]);
        expect(t.limit).toBe(5); // the best below 8 was 112 at 5
        // At 5 the best below is 106 at 3: one fall holds again.
        expect(t.observe(busy(80 * MB))).toBe('hold');
        expect(t.limit).toBe(5);
        expect(t.observe(busy(80 * MB))).toBe('backoff-fall');
        expect(t.limit).toBe(3);
      });

      it('does not step back on a fall of exactly 20% or less', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // → 6
        expect(feed(t, [busy(80 * MB), busy(80 * MB), busy(80 * MB)]).map((o) => o.decision)).toEqual([
          'hold',
          'hold',
          'hold',
        ]);
        expect(t.limit).toBe(6);
      });

      it('does not step back when the pool is not saturated', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // → 6
        const idle: TunerSample = { bytesPerSec: 10 * MB, throttles: 0, saturated: false };
        expect(feed(t, [idle, idle, idle]).map((o) => o.decision)).toEqual(['hold', 'hold', 'hold']);
        expect(t.limit).toBe(6);
      });

      it('does not compare with the best at the current or a higher limit', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(10 * MB)); // best at 4: 10; → 6
        t.observe(busy(100 * MB)); // best at 6: 100; → 9
        t.observe(busy(200 * MB)); // best at 9: 200; → 14
        t.observe({ bytesPerSec: 0, throttles: 1, saturated: true }); // → 7
        // At 7 the lower limits are 4 (10) and 6 (100): 85 is within 20% of 100; 9's 200 does not count.
        expect(t.observe(busy(85 * MB))).toBe('grow'); // previous was reset by the throttle
        expect(t.limit).toBe(11);
      });

      it('goes back to the lower limit with the best throughput, not the nearest one', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64 });
        t.observe(busy(100 * MB)); // best at 4: 100; → 6
        t.observe(busy(90 * MB)); // best at 6: 90; hold
        t.observe(busy(95 * MB)); // best at 6: 95; → 9
        expect(t.observe(busy(70 * MB))).toBe('hold'); // a fall (the best below 9: 100 at 4)
        expect(t.observe(busy(70 * MB))).toBe('backoff-fall');
        expect(t.limit).toBe(4);
      });
    });

    describe('speed cap', () => {
      it("holds with 'cap' at 95% of maxBytesPerSec, grows just below", () => {
        const below = new ConcurrencyTuner({ min: 4, max: 64, maxBytesPerSec: 100 * MB });
        expect(below.observe(busy(94.9 * MB))).toBe('grow');
        const at = new ConcurrencyTuner({ min: 4, max: 64, maxBytesPerSec: 100 * MB });
        expect(at.observe(busy(95 * MB))).toBe('cap');
        expect(at.limit).toBe(4);
        expect(at.observe(busy(150 * MB))).toBe('cap');
        expect(at.limit).toBe(4);
      });

      it('grows again once throughput drops below the cap', () => {
        const t = new ConcurrencyTuner({ min: 4, max: 64, maxBytesPerSec: 100 * MB });
        expect(t.observe(busy(96 * MB))).toBe('cap');
        expect(t.observe(busy(50 * MB))).toBe('hold'); // fell; not improved
        expect(t.observe(busy(60 * MB))).toBe('grow');
        expect(t.limit).toBe(6);
      });
    });

    it('tracks the peak limit across backoffs', () => {
      const t = new ConcurrencyTuner({ min: 2, max: 64 });
      feed(
        t,
        [1, 2, 3, 4, 5].map((n) => busy(n * n * MB)),
      ); // 2 → 3 → 5 → 8 → 12 → 18
      expect(t.limit).toBe(18);
      t.observe({ bytesPerSec: MB, throttles: 1, saturated: true }); // → 9
      t.observe({ bytesPerSec: MB, throttles: 1, saturated: true }); // → 4
      expect(t.limit).toBe(4);
      expect(t.peak).toBe(18);
      feed(t, [busy(MB), busy(2 * MB)]); // 4 → 6 → 9
      expect(t.peak).toBe(18);
    });
  });

  describe('simulation: a store that saturates at 200 MB/s and throttles above 40 requests', () => {
    // Throughput = min(limit × 10 MB/s, 200 MB/s), so it stops improving at 20 requests; any interval with more
    // than 40 requests in flight sees throttling. Bounds derived from the algorithm:
    // - below 20 every saturated interval grows: the new limit L' ≥ L + 1 gives min(10 L', 200)/(10 L)
    //   ≥ min((L+1)/L, 20/L) ≥ 20/19 > 1.05 for L ≤ 19, so the limit cannot settle below 20;
    // - above 40 it throttles and halves: floor(L/2) ≥ 20 for L ≥ 41 (when min ≤ 20), so once at 20 or more
    //   it never falls below 20 again (the fall rule cannot fire: 200 MB/s is the best any limit sees);
    // - at 20 or more throughput is flat, so it grows only right after a throttle (no last interval to compare
    //   with), by ×1.5; from h ≥ 27 that exceeds 40 and throttles again at ~0.75 h, from h ≤ 26 it lands at
    //   round(1.5 h) ≤ 39 and holds for good. So the throttles stop after a few cycles, at a limit in [20, 40].
    const store = (limit: number): TunerSample => ({
      bytesPerSec: Math.min(limit * 10 * MB, 200 * MB),
      throttles: limit > 40 ? 1 : 0,
      saturated: true,
    });

    function simulate(min: number, max: number, intervals: number) {
      const t = new ConcurrencyTuner({ min, max });
      const history: { limit: number; decision: TunerDecision }[] = [];
      for (let i = 0; i < intervals; i += 1) {
        const decision = t.observe(store(t.limit));
        history.push({ limit: t.limit, decision });
      }
      return { t, history };
    }

    it.each([
      [1, 64],
      [2, 100],
      [4, 256],
      [8, 64],
      [16, 1000],
      [20, 64],
    ])('min %i, max %i: settles in [20, 40] without throttling, never above max', (min, max) => {
      const { t, history } = simulate(min, max, 60);
      for (const h of history) {
        expect(h.limit).toBeLessThanOrEqual(max);
        expect(h.limit).toBeGreaterThanOrEqual(min);
      }
      const firstAt20 = history.findIndex((h) => h.limit >= 20);
      expect(firstAt20).toBeGreaterThanOrEqual(0);
      for (const h of history.slice(firstAt20)) expect(h.limit).toBeGreaterThanOrEqual(20);
      // A handful of throttling cycles at most, then steady.
      const throttles = history.filter((h) => h.decision === 'backoff-throttle').length;
      expect(throttles).toBeLessThanOrEqual(6);
      expect(history.some((h) => h.decision === 'backoff-fall')).toBe(false);
      const tail = history.slice(-20);
      expect(tail.every((h) => h.decision === 'hold')).toBe(true);
      expect(t.limit).toBeGreaterThanOrEqual(20);
      expect(t.limit).toBeLessThanOrEqual(40);
      expect(t.peak).toBeLessThanOrEqual(max);
    });

    it('never throttles with max ≤ 40, and stays at or below max', () => {
      const { t, history } = simulate(1, 32, 40);
      expect(history.some((h) => h.decision === 'backoff-throttle')).toBe(false);
      expect(Math.max(...history.map((h) => h.limit))).toBeLessThanOrEqual(32);
      expect(t.limit).toBeGreaterThanOrEqual(20);
    });
  });
});
