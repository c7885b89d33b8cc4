/**
 * Adaptive concurrency (pure: the engine feeds it one sample per interval).
 *
 * Start at `min`. Each interval, with the bytes that arrived in it:
 * - throttling or connection errors seen → multiplicative decrease (× {@link BACKOFF_FACTOR}, not below min);
 * - throughput fell by more than {@link FALL_RATIO} against the best seen at a lower limit, two intervals in a
 *   row → step back to that limit (the original only ever grew);
 * - the pool was saturated and throughput improved by at least {@link GROWTH_RATIO} over the last interval →
 *   grow (× {@link GROWTH_FACTOR}, at least +1), unless at `max` or at the speed cap;
 * - otherwise hold.
 */

/** Growth needs at least this much improvement (5%). */
export const GROWTH_RATIO = 1.05;
/** Limit × this when growing (fast enough to matter in short runs). */
export const GROWTH_FACTOR = 1.5;
/** Limit × this on throttling or connection errors. */
export const BACKOFF_FACTOR = 0.5;
/** A fall of more than this fraction of the best throughput seen at a lower limit steps back to it… */
export const FALL_RATIO = 0.2;
/** …when it lasts this many intervals in a row. */
export const FALL_INTERVALS = 2;

export interface TunerOptions {
  readonly min: number;
  readonly max: number;
  /** Stop growing once throughput reaches this (bytes/s); undefined = no cap. */
  readonly maxBytesPerSec?: number;
}

/** One interval's measurement. */
export interface TunerSample {
  /** Bytes that arrived during the interval, per second. */
  readonly bytesPerSec: number;
  /** Throttling responses (503 SlowDown, 429) and connection errors during the interval. */
  readonly throttles: number;
  /** Whether work was waiting for a free slot (growing an idle pool proves nothing). */
  readonly saturated: boolean;
}

/** Why the limit changed (for logs and tests). */
export type TunerDecision = 'grow' | 'hold' | 'backoff-throttle' | 'backoff-fall' | 'cap';

export class ConcurrencyTuner {
  readonly #o: TunerOptions;
  #limit: number;
  #peak: number;
  #last: number | undefined;
  #fallStreak = 0;
  /** Best throughput measured at each limit. */
  readonly #best = new Map<number, number>();

  constructor(options: TunerOptions) {
    if (options.min < 1 || options.max < options.min) {
      throw new RangeError(`concurrency needs 1 ≤ min ≤ max, got min ${options.min}, max ${options.max}`);
    }
    this.#o = options;
    this.#limit = options.min;
    this.#peak = options.min;
  }

  get limit(): number {
    return this.#limit;
  }

  /** Highest limit reached so far. */
  get peak(): number {
    return this.#peak;
  }

  /** Feed one interval; returns the decision (the new limit is {@link limit}). */
  observe(s: TunerSample): TunerDecision {
    const previous = this.#last;
    this.#last = s.bytesPerSec;
    const best = this.#best.get(this.#limit) ?? 0;
    if (s.bytesPerSec > best) this.#best.set(this.#limit, s.bytesPerSec);

    if (s.throttles > 0) {
      this.#fallStreak = 0;
      this.#set(Math.max(this.#o.min, Math.floor(this.#limit * BACKOFF_FACTOR)));
      this.#last = undefined;
      return 'backoff-throttle';
    }
    const lower = this.#bestLower();
    const fell = lower !== undefined && s.saturated && s.bytesPerSec < lower.bytesPerSec * (1 - FALL_RATIO);
    // One slow interval is noise (a few large objects finishing late); two in a row are a trend.
    this.#fallStreak = fell ? this.#fallStreak + 1 : 0;
    if (lower !== undefined && fell && this.#fallStreak >= FALL_INTERVALS) {
      this.#set(lower.limit);
      this.#fallStreak = 0;
      this.#last = undefined;
      return 'backoff-fall';
    }
    if (fell) return 'hold';
    if (this.#o.maxBytesPerSec !== undefined && s.bytesPerSec >= this.#o.maxBytesPerSec * 0.95) return 'cap';
    if (
      s.saturated &&
      this.#limit < this.#o.max &&
      (previous === undefined || s.bytesPerSec >= previous * GROWTH_RATIO)
    ) {
      this.#set(Math.min(this.#o.max, Math.max(this.#limit + 1, Math.round(this.#limit * GROWTH_FACTOR))));
      return 'grow';
    }
    return 'hold';
  }

  #bestLower(): { limit: number; bytesPerSec: number } | undefined {
    let found: { limit: number; bytesPerSec: number } | undefined;
    for (const [limit, bytesPerSec] of this.#best) {
      if (limit < this.#limit && (!found || bytesPerSec > found.bytesPerSec)) found = { limit, bytesPerSec };
    }
    return found;
  }

  #set(limit: number): void {
    this.#limit = limit;
    this.#peak = Math.max(this.#peak, limit);
  }
}
