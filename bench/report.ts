import { readFile, writeFile } from 'node:fs/promises';
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
