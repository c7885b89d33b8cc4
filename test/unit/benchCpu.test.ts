import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CpuMeter,
  cpuBetween,
  parseMachineTicks,
  parseProcStatTicks,
  type CpuSample,
} from '../../bench/cpu.js';

const sample = (at: number, processes: Record<string, number>, busy: number, total: number): CpuSample => ({
  at,
  processes,
  machineBusy: busy,
  machineTotal: total,
});

describe('Function: parseProcStatTicks', () => {
  it('adds utime and stime, whatever the command name holds', () => {
    // Fields after the name: state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime …
    const stat = '4242 (we ird) (name)) S 1 4242 4242 0 -1 4194560 500 0 0 0 1234 567 0 0 20 0 9 0 100 0 0';
    expect(parseProcStatTicks(stat)).toBe(1234 + 567);
  });

  it('reads this process', () => {
    expect(parseProcStatTicks(readFileSync('/proc/self/stat', 'utf8'))).toBeGreaterThanOrEqual(0);
  });

  it('refuses a line it cannot read', () => {
    expect(() => parseProcStatTicks('garbage')).toThrow(/unexpected/);
  });
});

describe('Function: parseMachineTicks', () => {
  it('counts idle and iowait as not busy', () => {
    const stat = 'cpu  100 5 50 1000 20 3 2 1 0 0\ncpu0 50 2 25 500 10 1 1 0 0 0\n';
    expect(parseMachineTicks(stat)).toEqual({ busy: 100 + 5 + 50 + 3 + 2 + 1, total: 1181 });
  });

  it('refuses a file that does not start with the cpu line', () => {
    expect(() => parseMachineTicks('intr 1 2 3\n')).toThrow(/unexpected/);
  });
});

describe('Function: cpuBetween', () => {
  const samples = [
    sample(1000, { server: 10 }, 100, 400),
    sample(1100, { server: 10.1, worker: 0.05 }, 100.2, 400.2),
    sample(1200, { server: 10.3, worker: 0.2 }, 100.5, 400.4),
    sample(1300, { server: 10.4 }, 100.6, 400.6),
  ];

  it('takes the samples at or before each end', () => {
    const w = cpuBetween(samples, 1150, 1250);
    expect(w.seconds).toBeCloseTo(0.1);
    expect(w.processes['server']).toBeCloseTo(0.2);
    expect(w.processes['worker']).toBeCloseTo(0.15);
    expect(w.machineBusy).toBeCloseTo(0.3);
    expect(w.machineTotal).toBeCloseTo(0.2);
  });

  it('counts a process that started and exited inside the window up to its last sample', () => {
    const w = cpuBetween(samples, 1000, 1300);
    expect(w.processes['worker']).toBeCloseTo(0.2);
    expect(w.processes['server']).toBeCloseTo(0.4);
  });

  it('needs samples', () => {
    expect(() => cpuBetween([], 0, 1)).toThrow(/no CPU samples/);
  });
});

describe('Class: CpuMeter', () => {
  it('measures CPU this process spends', async () => {
    const meter = new CpuMeter(60_000);
    meter.watch('self', process.pid);
    await meter.sample();
    const from = Date.now();
    // Spin until the process has used 200 ms of CPU (not of wall time: the machine may be busy).
    const start = process.cpuUsage();
    let x = 0;
    while (process.cpuUsage(start).user < 200_000) for (let i = 0; i < 10_000; i++) x += Math.sqrt(x + 1);
    await meter.sample();
    meter.stop();
    const w = cpuBetween(meter.samples, from, Date.now());
    expect(x).toBeGreaterThan(0);
    // 0.2 CPU-s, counted in ticks of 10 ms: well over 0.1 whatever the rounding.
    expect(w.processes['self']).toBeGreaterThan(0.1);
    expect(w.machineBusy).toBeGreaterThan(0.1);
  });
});
