/**
 * Picks the zstd level for a batch of one source (the seam adaptive tuning plugs into) and hears how it went.
 */
export interface LevelChooser {
  /** Level for the next batch of `key` (`BucketPrefix`): 0 = store, 1..19 = zstd. */
  choose(key: string): Promise<number>;
  /** The outcome of a batch compressed at `level` (net benefit in $, raw bytes, objects). */
  record(
    key: string,
    level: number,
    outcome: { netBenefit: number; rawBytes: number; objects: number },
  ): Promise<void>;
}

/** Always the same level (`--level N`, or the default 12 until adaptive tuning learns better). */
export function fixedLevel(level: number): LevelChooser {
  return {
    choose: () => Promise.resolve(level),
    record: () => Promise.resolve(),
  };
}
