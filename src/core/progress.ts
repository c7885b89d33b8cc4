import cliProgress from 'cli-progress';

/** What a long-running command reports; read by the progress display every interval. */
export interface ProgressState {
  /** Objects (or files) finished so far: written, skipped or failed. */
  readonly objects: number;
  /** Bytes transferred so far (counted as they arrive). */
  readonly bytes: number;
  /** Objects known so far; grows while listing runs. */
  readonly objectsTotal?: number;
  /** Bytes known so far; grows while listing runs. */
  readonly bytesTotal?: number;
  /** True once the totals are final (listing finished). */
  readonly totalFinal: boolean;
  readonly failed: number;
  readonly skipped: number;
}

/** How progress is shown: a bar (TTY), JSON lines (anything else), or not at all. */
export const ProgressMode = { auto: 'auto', bar: 'bar', json: 'json', none: 'none' } as const;
export type ProgressMode = (typeof ProgressMode)[keyof typeof ProgressMode];

export interface ProgressOptions {
  /** Shown before the bar and as `label` in JSON lines (e.g. `soak`). */
  readonly label: string;
  /** Called every interval for the current state. */
  readonly read: () => ProgressState;
  /** @defaultValue process.stderr */
  readonly out?: NodeJS.WriteStream;
  /** `auto` = bar when `out` is a TTY, JSON lines otherwise. @defaultValue `auto` */
  readonly mode?: ProgressMode;
  /** JSON line interval; the bar redraws at most this often too. @defaultValue 2000 (JSON), 200 (bar) */
  readonly intervalMs?: number;
  /** Clock, for tests. @defaultValue Date.now */
  readonly now?: () => number;
}

export interface ProgressHandle {
  /** Draw or print the final state once and stop. Idempotent. */
  stop(): void;
}

/** One progress line as written in JSON mode. */
export interface ProgressLine {
  readonly event: 'progress';
  readonly label: string;
  readonly elapsedSec: number;
  readonly objects: number;
  readonly objectsTotal: number | null;
  readonly bytes: number;
  readonly bytesTotal: number | null;
  readonly totalFinal: boolean;
  readonly failed: number;
  readonly skipped: number;
  /** Over the last {@link RATE_WINDOW_MS}. */
  readonly bytesPerSec: number;
  /** Seconds left at the current rate; null until the totals are final and the rate is known. */
  readonly etaSec: number | null;
}

/** Rate and ETA are measured over this sliding window. */
export const RATE_WINDOW_MS = 5_000;

/**
 * A sliding-window rate meter: samples of a growing counter, rate over the last `windowMs`.
 *
 * @example
 * const m = new RateMeter(5000); m.sample(0, 0); m.sample(1000, 1e6); m.rate(); // 1e6 per second
 */
export class RateMeter {
  readonly #windowMs: number;
  readonly #samples: { t: number; v: number }[] = [];

  constructor(windowMs: number) {
    this.#windowMs = windowMs;
  }

  /** Record the counter's value `v` at time `t` (ms). */
  sample(t: number, v: number): void {
    this.#samples.push({ t, v });
    for (let second = this.#samples[1]; second && second.t <= t - this.#windowMs; second = this.#samples[1]) {
      this.#samples.shift();
    }
  }

  /** Units per second between the oldest and newest sample in the window; 0 before two samples. */
  rate(): number {
    const first = this.#samples[0];
    const last = this.#samples[this.#samples.length - 1];
    if (!first || !last || last.t <= first.t) return 0;
    return ((last.v - first.v) * 1000) / (last.t - first.t);
  }
}

/** Build the JSON progress line for a state (pure). */
export function progressLine(
  label: string,
  s: ProgressState,
  elapsedMs: number,
  bytesPerSec: number,
): ProgressLine {
  const remaining = s.bytesTotal !== undefined ? Math.max(0, s.bytesTotal - s.bytes) : undefined;
  const eta =
    s.totalFinal && remaining !== undefined && bytesPerSec > 0 ? Math.round(remaining / bytesPerSec) : null;
  return {
    event: 'progress',
    label,
    elapsedSec: Math.round(elapsedMs / 100) / 10,
    objects: s.objects,
    objectsTotal: s.objectsTotal ?? null,
    bytes: s.bytes,
    bytesTotal: s.bytesTotal ?? null,
    totalFinal: s.totalFinal,
    failed: s.failed,
    skipped: s.skipped,
    bytesPerSec: Math.round(bytesPerSec),
    etaSec: eta,
  };
}

/**
 * Human units: `formatBytes(1536)` is `1.5 KiB`.
 *
 * @example
 * formatBytes(3 * 1024 ** 3) // '3.0 GiB'
 */
export function formatBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
  let v = n;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  return i === 0 ? `${v} B` : `${v.toFixed(1)} ${units[i]}`;
}

/** Resolve `auto` against the stream. */
export function resolveProgressMode(mode: ProgressMode, out: { isTTY?: boolean }): ProgressMode {
  if (mode !== 'auto') return mode;
  return out.isTTY ? 'bar' : 'json';
}

/**
 * Show progress until `stop()`: a cli-progress bar on a TTY (objects done / known, bytes, rate, ETA; the
 * total grows while listing runs), JSON lines ({@link ProgressLine}) every interval otherwise, nothing in
 * `none` mode. The timer is unref'd: it never keeps the process alive.
 *
 * @example
 * const p = startProgress({ label: 'soak', read: () => state });
 * await work();
 * p.stop();
 */
export function startProgress(opts: ProgressOptions): ProgressHandle {
  const out = opts.out ?? process.stderr;
  const mode = resolveProgressMode(opts.mode ?? 'auto', out);
  const now = opts.now ?? Date.now;
  const started = now();
  const meter = new RateMeter(RATE_WINDOW_MS);
  let stopped = false;
  if (mode === 'none') return { stop: () => undefined };

  const snapshot = (): ProgressLine => {
    const s = opts.read();
    const t = now();
    meter.sample(t, s.bytes);
    return progressLine(opts.label, s, t - started, meter.rate());
  };

  /** Run `tick` every `ms` until stop(), then once more and `finish`. */
  const repeat = (tick: () => void, ms: number, finish: () => void = () => undefined): ProgressHandle => {
    const timer = setInterval(tick, ms);
    timer.unref();
    return {
      stop() {
        if (stopped) return;
        stopped = true;
        clearInterval(timer);
        tick();
        finish();
      },
    };
  };

  if (mode === 'json') {
    return repeat(() => out.write(`${JSON.stringify(snapshot())}\n`), opts.intervalMs ?? 2_000);
  }

  const bar = new cliProgress.SingleBar(
    {
      stream: out,
      format: `${opts.label} [{bar}] {percentage}% | {value}/{total}{more} objects | {done} | {rate}/s | ETA {etaText}{problems}`,
      hideCursor: true,
      barsize: 30,
      noTTYOutput: false,
      etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  const fields = (l: ProgressLine) => ({
    more: l.totalFinal ? '' : '+',
    done:
      l.bytesTotal !== null ? `${formatBytes(l.bytes)}/${formatBytes(l.bytesTotal)}` : formatBytes(l.bytes),
    rate: formatBytes(l.bytesPerSec),
    etaText: l.etaSec === null ? '?' : `${l.etaSec}s`,
    problems: `${l.failed ? ` | ${l.failed} failed` : ''}${l.skipped ? ` | ${l.skipped} skipped` : ''}`,
  });
  const first = snapshot();
  bar.start(Math.max(first.objectsTotal ?? 0, 1), first.objects, fields(first));
  const draw = () => {
    const l = snapshot();
    bar.setTotal(Math.max(l.objectsTotal ?? 0, l.objects, 1));
    bar.update(l.objects, fields(l));
  };
  return repeat(draw, opts.intervalMs ?? 200, () => {
    bar.stop();
  });
}
