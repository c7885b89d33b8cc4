import { readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as prettier from 'prettier';

/**
 * Replace the section under `heading` (a `## ` line) in `file` with `section` (which starts with that heading),
 * or append it; the rest of the file is kept. Written formatted as `npm run lint` (prettier --check) expects.
 */
export async function writeSection(file: string, heading: string, section: string): Promise<void> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch {
    text =
      '# Benchmarks\n\nBenchmarks against named baselines (DESIGN.md: `bench/`). Each section says how to rerun it.\n';
  }
  const lines = text.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  let out: string;
  if (start === -1) {
    out = `${text.replace(/\n*$/, '')}\n\n${section}`;
  } else {
    let end = lines.findIndex((l, i) => i > start && /^#{1,2} /.test(l));
    if (end === -1) end = lines.length;
    const before = lines.slice(0, start).join('\n').replace(/\n*$/, '');
    const after = lines.slice(end).join('\n');
    out = `${before}${before ? '\n\n' : ''}${section}${after ? `\n${after}` : ''}`;
  }
  const options = (await prettier.resolveConfig(file)) ?? {};
  await writeFile(file, await prettier.format(out, { ...options, filepath: file }));
}

/** One line describing the machine: CPU model, cores, RAM, Node, kernel. */
export async function machine(): Promise<string> {
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const model = /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown CPU';
  const ram = (os.totalmem() / 1024 ** 3).toFixed(1);
  return `${model}, ${os.cpus().length} cores, ${ram} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}`;
}

/** The kernel's peak resident set of a process so far (VmHWM, all threads), or undefined once it is gone. */
export async function procStatusHwm(pid: number): Promise<number | undefined> {
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const m = /^VmHWM:\s+(\d+)\s+kB/m.exec(status);
    return m ? Number(m[1]) * 1024 : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The settings every benchmark shares, from the environment: where the repository and the built CLI are,
 * the local stack's home (`BALER_HOME`), the report file (`BENCH_OUT`), `BENCH_KEEP=1` and `BENCH_SCALE`
 * (a number in (0, 1]; less data, the section is then marked as a development run).
 */
export function benchSettings(): {
  root: string;
  cli: string;
  home: string;
  out: string;
  keep: boolean;
  scale: number;
} {
  const root = path.resolve(import.meta.dirname, '../..');
  const scale = Number(process.env['BENCH_SCALE'] ?? '1');
  if (!Number.isFinite(scale) || scale <= 0 || scale > 1) {
    throw new Error(`BENCH_SCALE must be a number in (0, 1], got ${process.env['BENCH_SCALE'] ?? ''}`);
  }
  return {
    root,
    cli: path.join(root, 'dist', 'cli.js'),
    home: process.env['BALER_HOME'] ? path.resolve(process.env['BALER_HOME']) : path.join(root, '.baler'),
    out: path.resolve(root, process.env['BENCH_OUT'] ?? 'docs/BENCHMARKS.md'),
    keep: process.env['BENCH_KEEP'] === '1',
    scale,
  };
}
