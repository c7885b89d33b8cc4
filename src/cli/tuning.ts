import { Command } from 'commander';
import { COMPRESSION_SETTINGS_TABLE } from '../core/config/index.js';
import { ConfigError } from '../core/errors.js';
import {
  benefitPerGiB,
  bestLevel,
  BYTES_PER_GIB,
  explorationRate,
  TuningStore,
  type TuningRecord,
} from '../tuning/index.js';
import type { MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { sourceIndex } from './options.js';
import { loadTopology } from './replicate.js';

/** One learned record as `tuning show --json` prints it. */
export function describeRecord(r: TuningRecord): Record<string, unknown> {
  const best = bestLevel(r);
  return {
    key: r.key,
    version: r.version,
    lastUpdated: r.version > 0 ? r.lastUpdated : undefined,
    bestLevel: best.level,
    bestReason: best.reason,
    explorationRate: explorationRate(r.version),
    fleetCpuFactor: r.version > 0 ? r.sumCpuFactor / r.version : undefined,
    levels: Object.entries(r.levelStats)
      .map(([level, s]) => ({
        level: Number(level),
        trials: s?.trials ?? 0,
        objects: s?.objects ?? 0,
        bytes: s?.bytes ?? 0,
        netBenefit: s?.sumBenefit ?? 0,
        netBenefitPerGiB: s ? benefitPerGiB(s) : 0,
      }))
      .sort((a, b) => a.level - b.level),
  };
}

/** The learned table of one key, as text. */
export function formatRecord(r: TuningRecord): string {
  const d = describeRecord(r);
  const lines = [r.key];
  if (r.version === 0) {
    lines.push('  nothing learned yet: batches use level 12 (and explore around it)');
    return lines.join('\n');
  }
  lines.push(
    `  ${r.version} batches, ${r.totalProcessedFiles} objects; best level ${String(d['bestLevel'])} (${String(d['bestReason'])}); ` +
      `exploring ${(explorationRate(r.version) * 100).toFixed(1)}% of batches; last update ${r.lastUpdated}`,
  );
  lines.push('  level  batches  objects        GiB   net $/GiB');
  for (const l of d['levels'] as {
    level: number;
    trials: number;
    objects: number;
    bytes: number;
    netBenefitPerGiB: number;
  }[]) {
    lines.push(
      `  ${String(l.level).padStart(5)}  ${String(l.trials).padStart(7)}  ${String(l.objects).padStart(7)}  ${(
        l.bytes / BYTES_PER_GIB
      )
        .toFixed(3)
        .padStart(9)}  ${l.netBenefitPerGiB.toFixed(6).padStart(10)}`,
    );
  }
  return lines.join('\n');
}

/** `baler tuning show`: what adaptive compression learned, per source. */
export function tuningCommand(makeContext: MakeContext, run: Run): Command {
  const tuning = new Command('tuning').description('adaptive compression: what was learned (docs/TUNING.md)');
  tuning
    .command('show')
    .description('print the learned level statistics of each source of the config')
    .requiredOption('--config <file>', 'replication_config.json')
    .requiredOption('--settings <file>', 'settings.json')
    .option('--source <n>', 'only source N (index in the config)', sourceIndex)
    .option('--table <name>', 'the compression-settings table', COMPRESSION_SETTINGS_TABLE)
    .option('--json', 'one JSON document instead of tables')
    .action((opts: { config: string; settings: string; source?: number; table: string; json?: boolean }) =>
      run(async () => {
        const ctx = makeContext('tuning');
        const { t } = await loadTopology(ctx, opts);
        const chosen =
          opts.source === undefined ? t.sources : t.sources.filter((s) => s.source.index === opts.source);
        if (chosen.length === 0) {
          throw new ConfigError(
            `--source ${String(opts.source)}: the config has sources 0..${t.sources.length - 1}`,
          );
        }
        const store = new TuningStore({ doc: ctx.aws().dynamodbDoc, table: opts.table, ttlMs: 0 });
        const records = await Promise.all(chosen.map((s) => store.get(s.parameterName)));
        if (opts.json) process.stdout.write(`${JSON.stringify(records.map(describeRecord), null, 2)}\n`);
        else process.stdout.write(`${records.map(formatRecord).join('\n\n')}\n`);
        return ExitCode.Success;
      }),
    );
  return tuning;
}
