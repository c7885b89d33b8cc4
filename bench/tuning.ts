// npm run bench:tuning — adaptive level tuning versus fixed levels 3, 12 and 19 on the same 1 GiB mixed corpus.
//
// The corpus is the demo's mix (JSON logs, CSV, XML, gzip and random blobs) cut into 64 batches of 16 MiB.
// Every (batch, level) pair is really compressed with baler's codec (zstd in a worker thread, one zstd
// thread, levels ≥ 10 capped as in the workers) and its CPU seconds measured; each pair is measured once and
// reused (the same bytes at the same level). Money: the workers' cost model (src/tuning/cost.ts) with the
// default prices and 2 target regions. Adaptive: the real policy and record code (src/tuning/), starting from
// an empty record, over several passes of the corpus; the first passes are its warm-up.
//
// Env: BENCH_OUT (file to write the section to, default docs/BENCHMARKS.md), BENCH_TUNING_PASSES (default 8),
// BENCH_TUNING_BATCHES (default 64; fewer for a development run, marked as such).
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pLimit from 'p-limit';
import { seededRandom } from '../src/core/random.js';
import { demoDataset } from '../src/replicate/demoData.js';
import {
  batchEconomics,
  DEFAULT_DATA_TRANSFER_COST_PER_GB,
  DEFAULT_FARGATE_COST_PER_MINUTE,
} from '../src/tuning/cost.js';
import { measureLevel } from '../src/tuning/estimate.js';
import { chooseLevel } from '../src/tuning/policy.js';
import { applyTrial, emptyRecord } from '../src/tuning/record.js';
import { writeSection } from './report.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = path.resolve(ROOT, process.env['BENCH_OUT'] ?? 'docs/BENCHMARKS.md');
const PASSES = Number(process.env['BENCH_TUNING_PASSES'] ?? '8');
const BATCHES = Number(process.env['BENCH_TUNING_BATCHES'] ?? '64');
const BATCH_BYTES = 16 * 1024 * 1024;
const REGIONS = 2;
const FIXED = [3, 12, 19] as const;
const SECTION = '## Adaptive tuning (npm run bench:tuning)';
const RATES = {
  dataTransferCostPerGB: DEFAULT_DATA_TRANSFER_COST_PER_GB,
  fargateCostPerMinute: DEFAULT_FARGATE_COST_PER_MINUTE,
};
const started = performance.now();

function say(text: string): void {
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${text}\n`,
  );
}

/** 16 MiB batches of the demo dataset's small objects (its mix of data kinds), deterministic. */
function corpus(batches: number): Buffer[] {
  const out: Buffer[] = [];
  let parts: Buffer[] = [];
  let bytes = 0;
  const source = demoDataset(
    { logs: 'l', logsPrefix: '', media: 'm' },
    { smallObjects: Number.MAX_SAFE_INTEGER, largeMiB: 1, seed: 7 },
  );
  for (const o of source) {
    parts.push(o.body);
    bytes += o.body.length;
    if (bytes >= BATCH_BYTES) {
      out.push(Buffer.concat(parts).subarray(0, BATCH_BYTES));
      if (out.length === batches) break;
      parts = [];
      bytes = 0;
    }
  }
  return out;
}

interface Measured {
  readonly outputBytes: number;
  readonly seconds: number;
}

const memo = new Map<string, Promise<Measured>>();
let measurements = 0;
function measure(batches: readonly Buffer[], i: number, level: number): Promise<Measured> {
  const k = `${i}:${level}`;
  let p = memo.get(k);
  if (!p) {
    measurements += 1;
    p = measureLevel([batches[i] as Buffer], level);
    memo.set(k, p);
  }
  return p;
}

function net(m: Measured): number {
  return batchEconomics(
    {
      rawBytes: BATCH_BYTES,
      archiveBytes: m.outputBytes,
      compressSeconds: m.seconds,
      targetRegions: REGIONS,
    },
    RATES,
  ).netBenefit;
}

async function main(): Promise<void> {
  const date = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
  say(`generating ${BATCHES} × 16 MiB of the demo's mixed data`);
  const batches = corpus(BATCHES);
  const gib = (batches.length * BATCH_BYTES) / 1024 ** 3;
  const limit = pLimit(Math.max(1, os.availableParallelism()));

  const fixed: { level: number; net: number; ratio: number; cpu: number }[] = [];
  for (const level of FIXED) {
    say(`fixed level ${level}: compressing the corpus`);
    const ms = await Promise.all(batches.map((_, i) => limit(() => measure(batches, i, level))));
    const out = ms.reduce((a, m) => a + m.outputBytes, 0);
    fixed.push({
      level,
      net: ms.reduce((a, m) => a + net(m), 0),
      ratio: (batches.length * BATCH_BYTES) / out,
      cpu: ms.reduce((a, m) => a + m.seconds, 0),
    });
    say(`fixed level ${level}: net $${(fixed.at(-1)?.net ?? 0).toFixed(5)} per pass`);
  }

  say(`adaptive: ${PASSES} passes over the corpus`);
  const random = seededRandom(2026);
  let record = emptyRecord('/bench/corpus/');
  const passes: { net: number; levels: Map<number, number> }[] = [];
  for (let p = 0; p < PASSES; p++) {
    let sum = 0;
    const levels = new Map<number, number>();
    for (let i = 0; i < batches.length; i++) {
      const { level } = chooseLevel(record, { random, cpuFactor: 1 });
      const m = await measure(batches, i, level);
      const n = net(m);
      sum += n;
      levels.set(level, (levels.get(level) ?? 0) + 1);
      record = applyTrial(record, { level, netBenefit: n, rawBytes: BATCH_BYTES, objects: 1, cpuFactor: 1 });
    }
    passes.push({ net: sum, levels });
    say(
      `adaptive pass ${p + 1}: net $${sum.toFixed(5)}; levels ${[...levels]
        .sort((a, b) => a[0] - b[0])
        .map(([l, c]) => `${l}×${c}`)
        .join(' ')}`,
    );
  }

  const bestFixed = fixed.reduce((b, f) => (f.net > b.net ? f : b));
  const last = passes.at(-1);
  const warm = passes.slice(Math.floor(PASSES / 2));
  const warmMean = warm.reduce((a, x) => a + x.net, 0) / warm.length;
  const perTiB = (n: number) => `$${((n / gib) * 1024).toFixed(2)}`;
  const lines: string[] = [SECTION, ''];
  if (BATCHES !== 64) {
    lines.push(`> **Development run with ${BATCHES} batches: reduced data, not a result.**`, '');
  }
  lines.push(
    `Measured ${date} in one run (${((performance.now() - started) / 1000).toFixed(0)} s, ${measurements} batch compressions) on: ${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}, ${os.cpus().length} cores, Node ${process.version}. ` +
      `Corpus: ${batches.length} batches × 16 MiB (${gib.toFixed(2)} GiB) of the demo's mix (JSON logs, CSV, XML, gzip and random blobs). ` +
      `Money: the workers' cost model, $${RATES.dataTransferCostPerGB}/GB × ${REGIONS} target regions, $${RATES.fargateCostPerMinute}/min, CPU seconds of one zstd thread.`,
    '',
    '| strategy | ratio | CPU s per pass | net saved per pass | per TiB |',
    '| --- | ---: | ---: | ---: | ---: |',
  );
  for (const f of fixed) {
    lines.push(
      `| fixed level ${f.level} | ${f.ratio.toFixed(2)} | ${f.cpu.toFixed(1)} | $${f.net.toFixed(5)} | ${perTiB(f.net)} |`,
    );
  }
  passes.forEach((x, i) => {
    const top = [...x.levels].sort((a, b) => b[1] - a[1])[0];
    lines.push(
      `| adaptive, pass ${i + 1}${i < PASSES / 2 ? ' (warm-up)' : ''} | — | — | $${x.net.toFixed(5)} | ${perTiB(x.net)} (mostly level ${top?.[0] ?? '?'}) |`,
    );
  });
  const met = warmMean >= bestFixed.net;
  lines.push(
    '',
    `Goal: after its warm-up (passes ${Math.floor(PASSES / 2) + 1}–${PASSES}) adaptive saves at least as much as the best fixed level (${bestFixed.level}). ` +
      `Adaptive mean over those passes: $${warmMean.toFixed(5)} per pass (${perTiB(warmMean)} per TiB) vs $${bestFixed.net.toFixed(5)} (${perTiB(bestFixed.net)}): ` +
      `${((warmMean / bestFixed.net) * 100).toFixed(1)}% — ${met ? '**met**' : '**not met**'}. Last pass: $${(last?.net ?? 0).toFixed(5)}.`,
    '',
    `Rerun: \`npm run bench:tuning\` (about 5 minutes on 2 cores, most of it level 19). BENCH_TUNING_PASSES, BENCH_TUNING_BATCHES and BENCH_OUT as in the header of \`bench/tuning.ts\`.`,
    '',
  );
  const section = lines.join('\n');
  process.stdout.write(`${section}\n`);
  await writeSection(OUT, SECTION, section);
  say(`wrote ${OUT}`);
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:tuning failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exitCode = 1;
});
