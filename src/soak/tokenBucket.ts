/**
 * A token bucket for bytes: `take(n)` resolves once `n` bytes may pass at `ratePerSec`, with a burst of one
 * second's worth. Readers await it before consuming a chunk, so the socket is not read faster than the rate
 * (TCP backpressure does the rest). One bucket is shared by all requests of a run.
 *
 * @example
 * const bucket = new TokenBucket(50 * 1024 * 1024); // 50 MiB/s
 * for await (const chunk of body) { await bucket.take(chunk.length); write(chunk); }
 */
export class TokenBucket {
  readonly #rate: number;
  readonly #burst: number;
  readonly #now: () => number;
  readonly #sleep: (ms: number) => Promise<void>;
  #tokens: number;
  #at: number;
  /** Serialises waiters so that a large request cannot be starved by a stream of small ones. */
  #queue: Promise<void> = Promise.resolve();

  constructor(ratePerSec: number, clock: { now?: () => number; sleep?: (ms: number) => Promise<void> } = {}) {
    if (!(ratePerSec > 0)) throw new RangeError(`rate must be > 0 bytes/s, got ${ratePerSec}`);
    this.#rate = ratePerSec;
    this.#burst = ratePerSec;
    this.#now = clock.now ?? (() => performance.now());
    this.#sleep = clock.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.#tokens = this.#burst;
    this.#at = this.#now();
  }

  /** Wait until `n` bytes may pass, then take them. `n` larger than the burst is allowed (it goes into debt). */
  take(n: number): Promise<void> {
    const turn = this.#queue.then(async () => {
      this.#refill();
      if (this.#tokens < n && this.#tokens < this.#burst) {
        const need = Math.min(n, this.#burst) - this.#tokens;
        await this.#sleep(Math.ceil((need * 1000) / this.#rate));
        this.#refill();
      }
      this.#tokens -= n;
    });
    this.#queue = turn;
    return turn;
  }

  #refill(): void {
    const t = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((t - this.#at) * this.#rate) / 1000);
    this.#at = t;
  }
}
