import { setFlagsFromString } from 'node:v8';

/** V8's heap growing factor set by {@link tuneHeapForStreaming}, as `1 + percent / 100`. */
export const STREAMING_HEAP_GROWING_PERCENT = 200;

/**
 * Let V8's old-generation limit grow 3× (instead of ~1.1–2×) past each full GC.
 *
 * Why: a worker that streams through `ArrayBuffer`s it does not keep (the target receives every decompressed
 * 128 KiB chunk from the zstd worker thread as a transferred buffer) has a JS heap of ~15 MB, and V8 counts
 * the external bytes allocated since the last mark-compact against a limit derived from that small heap. It
 * ran a full mark-compact for every ~13 MB restored: ~40 per 512 MiB, 0.5 CPU-s, a fifth of the target's
 * CPU. With 200 it runs ~7 and restores ~10% faster; the price is peak RSS (buffers promoted before they
 * died wait longer for a full GC): +5–10 MiB in bench:replicate, where 300 cost +15–20 MiB for no more speed.
 * See docs/ARCHITECTURE.md.
 *
 * `--heap-growing-percent` is a V8 flag that V8 reads whenever it recomputes the limit after a GC, so setting it
 * at run time (here, before the worker starts) takes effect; flags read only at start-up such as
 * `--initial-old-space-size` would need a re-exec and are not allowed in NODE_OPTIONS. Process-wide: call it
 * only from a command's entry point.
 */
export function tuneHeapForStreaming(): void {
  setFlagsFromString(`--heap-growing-percent=${STREAMING_HEAP_GROWING_PERCENT}`);
}
