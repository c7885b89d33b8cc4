import { setFlagsFromString } from 'node:v8';

/**
 * V8's heap growing factor (`1 + percent / 100`) of each replication worker, set at start. V8 reads
 * `--heap-growing-percent` whenever it recomputes the old-generation limit after a full GC, so setting it at run
 * time takes effect (flags read only at start-up, such as `--initial-old-space-size` or `--max-semi-space-size`,
 * would need a re-exec, and some are refused in NODE_OPTIONS). Process-wide: call only from a command's entry
 * point. Measured in docs/ARCHITECTURE.md.
 */
export const HEAP_GROWING_PERCENT = {
  /**
   * 3×. The target streams every decompressed chunk through a transferred ArrayBuffer; V8 counts those
   * external bytes against a limit derived from its ~15 MB heap and, by default, ran a full mark-compact per
   * ~13 MB restored (38 per 512 MiB, ~0.5 CPU-s). With 200 it runs ~7 and restores ~10% faster, for 0–6 MiB
   * more peak RSS (300 cost 15 MiB for no more speed).
   */
  target: 200,
  /**
   * 1.5×. The source's live heap is small (~25 MB at its peak) but it makes garbage fast (SDK requests for
   * thousands of small objects): with V8's own factor the old generation filled with ~30 MB of garbage
   * before each full GC, and its peak RSS ranged 237–284 MiB over the 256 MiB goal. With 50 it is 207–210
   * MiB at the same speed.
   */
  source: 50,
} as const;

/** Set V8's heap growing factor for the worker `role` (see {@link HEAP_GROWING_PERCENT}). */
export function tuneHeapFor(role: keyof typeof HEAP_GROWING_PERCENT): void {
  setFlagsFromString(`--heap-growing-percent=${HEAP_GROWING_PERCENT[role]}`);
}
