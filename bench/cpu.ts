import { execFileSync } from 'node:child_process';
import { readFile } from 'node:fs/promises';

/**
 * CPU accounting for benchmarks: the CPU time (user + system, every thread) of named processes and of the whole
 * machine, sampled from /proc so that a worker's time can be set beside the S3 server's. On a machine where
 * the worker and the server share the cores, a ratio of wall times follows from the CPU both sides need and
 * how busy they keep the cores; this is how the benchmark shows that bound instead of estimating it.
 */

/** Cumulative CPU seconds at one instant: per process name, plus the machine's busy and total seconds. */
export interface CpuSample {
  /** Date.now() of the sample. */
  readonly at: number;
  readonly processes: Readonly<Record<string, number>>;
  /** All CPUs, seconds not idle (idle and iowait excluded). */
  readonly machineBusy: number;
  /** All CPUs, all seconds. */
  readonly machineTotal: number;
}

/** CPU seconds spent between two instants. */
export interface CpuWindow {
  readonly seconds: number;
  /** Per process name, for every process sampled in the window. */
  readonly processes: Readonly<Record<string, number>>;
  readonly machineBusy: number;
  readonly machineTotal: number;
}

let ticksPerSecond: number | undefined;
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** utime + stime of `/proc/PID/stat` (every thread, exited ones included), in ticks. */
export function parseProcStatTicks(stat: string): number {
  // The command name (field 2) is in parentheses and may contain spaces or parentheses: split after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime))
    throw new Error(`unexpected /proc stat line: ${stat}`);
  return utime + stime;
}

/** Busy and total ticks of all CPUs from the first line of `/proc/stat`. */
export function parseMachineTicks(procStat: string): { busy: number; total: number } {
  const line = procStat.slice(0, procStat.indexOf('\n'));
  const [label, ...rest] = line.trim().split(/\s+/);
  if (label !== 'cpu') throw new Error(`unexpected /proc/stat: ${line}`);
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const v = rest.slice(0, 8).map(Number);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - (v[3] ?? 0) - (v[4] ?? 0), total };
}

/**
 * The CPU seconds spent in `[t0, t1]`, from the last sample at or before each end (the first sample if none;
 * the samples must be in time order). A process that started in the window counts from 0, and one that exited
 * in it up to its last sample.
 */
export function cpuBetween(samples: readonly CpuSample[], t0: number, t1: number): CpuWindow {
  if (samples.length === 0) throw new Error('no CPU samples');
  const atOrBefore = (t: number) => samples.filter((s) => s.at <= t).at(-1) ?? samples[0];
  const a = atOrBefore(t0) as CpuSample;
  const b = atOrBefore(t1) as CpuSample;
  const inWindow = samples.filter((s) => s.at >= a.at && s.at <= b.at);
  const names = new Set(inWindow.flatMap((s) => Object.keys(s.processes)));
  const processes: Record<string, number> = {};
  for (const name of names) {
    // Started in the window: from 0. Exited in it: up to its last sample.
    const start = a.processes[name] ?? 0;
    const end = inWindow.filter((s) => s.processes[name] !== undefined).at(-1)?.processes[name] ?? start;
    processes[name] = end - start;
  }
  return {
    seconds: (b.at - a.at) / 1000,
    processes,
    machineBusy: b.machineBusy - a.machineBusy,
    machineTotal: b.machineTotal - a.machineTotal,
  };
}

/** Samples the CPU time of registered processes and of the machine every `intervalMs` until stopped. */
export class CpuMeter {
  readonly samples: CpuSample[] = [];
  readonly #pids = new Map<string, number>();
  readonly #timer: NodeJS.Timeout;
  #sampling = false;

  constructor(intervalMs = 100) {
    this.#timer = setInterval(() => {
      void this.sample();
    }, intervalMs);
    this.#timer.unref();
  }

  /** Count `pid` as `name` from now on (a later call with the same name replaces it). */
  watch(name: string, pid: number): void {
    this.#pids.set(name, pid);
  }

  /** Stop counting `name` (its samples so far are kept). */
  unwatch(name: string): void {
    this.#pids.delete(name);
  }

  /** Take one sample now (also called by the timer). */
  async sample(): Promise<void> {
    if (this.#sampling) return;
    this.#sampling = true;
    try {
      const hz = clockTicks();
      const processes: Record<string, number> = {};
      for (const [name, pid] of this.#pids) {
        try {
          processes[name] = parseProcStatTicks(await readFile(`/proc/${pid}/stat`, 'utf8')) / hz;
        } catch {
          // Exited: its earlier samples stand.
        }
      }
      const m = parseMachineTicks(await readFile('/proc/stat', 'utf8'));
      this.samples.push({ at: Date.now(), processes, machineBusy: m.busy / hz, machineTotal: m.total / hz });
    } finally {
      this.#sampling = false;
    }
  }

  stop(): void {
    clearInterval(this.#timer);
  }
}
