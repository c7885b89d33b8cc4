import { setFlagsFromString } from 'node:v8';

/** V8's heap growing factor set by {@link tuneHeapForStreaming}, as `1 + percent / 100`. */
export const STREAMING_HEAP_GROWING_PERCENT = 300;

/**
 * Let V8's old-generation limit grow 4× (instead of ~1.1–2×) past each full GC.
 *
 * Why: a worker that streams through `ArrayBuffer`s it does not keep (the target receives every decompressed
 * 128 KiB chunk from the zstd worker thread as a transferred buffer) has a JS heap of ~15 MB, and V8 counts
 * the external bytes allocated since the last mark-compact against a limit derived from that small heap. It
 * ran a full mark-compact for every ~13 MB restored: ~40 per 512 MiB, 0.5 CPU-s, a fifth of the target's
 * CPU. With this setting it runs 1–2. Peak RSS did not change (the buffers are freed by scavenges and the
 * array-buffer sweeper as before; only old-space marking is postponed). Measured in docs/BENCHMARKS.md.
 *
 * `--heap-growing-percent` is a V8 flag that V8 reads whenever it recomputes the limit after a GC, so setting it
 * at run time (here, before the worker starts) takes effect; flags read only at start-up such as
 * `--initial-old-space-size` would need a re-exec and are not allowed in NODE_OPTIONS. Process-wide: call it
 * only from a command's entry point.
 */
export function tuneHeapForStreaming(): void {
  setFlagsFromString(`--heap-growing-percent=${STREAMING_HEAP_GROWING_PERCENT}`);
}
