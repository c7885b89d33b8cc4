import { Command, InvalidArgumentError, Option } from 'commander';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../core/awsClients.js';
import { ConfigError } from '../core/errors.js';
import { tuneHeapFor } from '../core/heap.js';
import { Queue } from '../core/sqsQueue.js';
import {
  COMPRESSION_SETTINGS_TABLE,
  LOCAL_ACCOUNT_ID,
  loadConfigFiles,
  topology,
  type LoadedConfig,
  type Settings,
  type SourceResources,
  type TargetResources,
  type Topology,
} from '../core/config/index.js';
import { SourceWorker, type RunReport } from '../replicate/source.js';
import { TargetWorker, type TargetRunReport } from '../replicate/target.js';
import { containerSourceWorker, containerTargetWorker } from './replicateEnv.js';
import {
  adaptiveLevel,
  DEFAULT_DATA_TRANSFER_COST_PER_GB,
  DEFAULT_FARGATE_COST_PER_MINUTE,
  fixedLevel,
  measureCpuFactor,
  TuningStore,
  type CostRates,
  type LevelChooser,
} from '../tuning/index.js';
import type { CommandContext, MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { nonNegative } from './options.js';

/** The level of a new key (the demo pins it, so its output is the same every run). */
export const DEFAULT_LEVEL = 12;

function level(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 19) {
    throw new InvalidArgumentError(`level must be an integer 0 (store) to 19, got ${value}`);
  }
  return n;
}

function rate(env: Readonly<Record<string, string | undefined>>, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0)
    throw new ConfigError(`${name} must be a number ≥ 0, got ${JSON.stringify(raw)}`);
  return n;
}

/**
 * `$/GB` and `$/min` of the cost model: the environment (DATA_TRANSFER_COST, FARGATE_COST_PER_MINUTE, the
 * original's variables) wins over settings.json (`data_transfer_cost`, `fargate_cost_per_minute`), which wins
 * over the defaults.
 */
export function costRates(ctx: CommandContext, settings?: Settings): CostRates {
  return costRatesFrom(ctx.env, settings);
}

/** {@link costRates} from an environment (pure). */
export function costRatesFrom(
  env: Readonly<Record<string, string | undefined>>,
  settings?: Settings,
): CostRates {
  return {
    dataTransferCostPerGB: rate(
      env,
      'DATA_TRANSFER_COST',
      settings?.dataTransferCost ?? DEFAULT_DATA_TRANSFER_COST_PER_GB,
    ),
    fargateCostPerMinute: rate(
      env,
      'FARGATE_COST_PER_MINUTE',
      settings?.fargateCostPerMinute ?? DEFAULT_FARGATE_COST_PER_MINUTE,
    ),
  };
}

interface CommonOptions {
  config?: string;
  settings?: string;
  accountId?: string;
  untilIdle?: number;
  retryDelay?: number;
}

function retryDelayOption(): Option {
  return new Option(
    '--retry-delay <seconds>',
    'how long a failed message stays invisible before it is retried (default 5)',
  ).argParser(nonNegative('--retry-delay'));
}

/**
 * Load `--config`/`--settings` and name everything by the stack's rules. The account id (in the staging
 * bucket names) comes from `--account-id`, AWS_ACCOUNT_ID or the local stack's; a command that never touches
 * the staging buckets passes `fallbackAccountId` instead of requiring one.
 */
export async function loadTopology(
  ctx: CommandContext,
  o: CommonOptions,
  fallbackAccountId?: string,
): Promise<{ loaded: LoadedConfig; t: Topology }> {
  if (o.config === undefined || o.settings === undefined) {
    throw new ConfigError('--config and --settings are both required here');
  }
  const loaded = await loadConfigFiles(o.config, o.settings);
  const accountId =
    o.accountId ?? (ctx.localMode ? LOCAL_ACCOUNT_ID : ctx.env['AWS_ACCOUNT_ID']) ?? fallbackAccountId;
  if (!accountId) {
    throw new ConfigError(
      'the AWS account id names the staging buckets: pass --account-id or set AWS_ACCOUNT_ID',
    );
  }
  return { loaded, t: topology(loaded, accountId) };
}

/** Clients signing for `region` (one set per region, closed at the end). */
export function regionalClients(ctx: CommandContext) {
  const made = new Map<string, AwsClients>();
  return {
    for(region: string): AwsClients {
      let c = made.get(region);
      if (!c) {
        c = createAwsClients(resolveAwsSettings({ ...ctx.env, AWS_REGION: region }));
        made.set(region, c);
      }
      return c;
    },
    destroy() {
      for (const c of made.values()) c.destroy();
    },
  };
}

async function queueFor(
  aws: AwsClients,
  name: string,
  visibilityTimeoutSec: number,
  ctx: CommandContext,
): Promise<Queue> {
  const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: name }));
  if (!QueueUrl) throw new ConfigError(`queue ${name} has no URL`);
  return new Queue({ sqs: aws.sqs, queueUrl: QueueUrl, visibilityTimeoutSec, log: ctx.log });
}

function print(line: string): void {
  process.stdout.write(line + '\n');
}

/** Per-region clients, created on first use. */
export type RegionalClients = ReturnType<typeof regionalClients>;

/**
 * The zstd level policy of source workers: `level` pins it (`--level`); otherwise adaptive, learned per source
 * in the compression-settings table (docs/TUNING.md), with this machine's CPU factor measured once.
 */
export async function levelChooser(
  ctx: CommandContext,
  level: number | undefined,
  table: string = COMPRESSION_SETTINGS_TABLE,
): Promise<LevelChooser> {
  if (level !== undefined) return fixedLevel(level);
  const cpuFactor = await measureCpuFactor();
  ctx.log.info({ event: 'cpu_factor', cpuFactor: Number(cpuFactor.toFixed(3)), table });
  return adaptiveLevel({
    records: new TuningStore({ doc: ctx.aws().dynamodbDoc, table }),
    cpuFactor,
    log: ctx.log,
  });
}

/** Build one source worker per chosen source (the composition root of the source side). */
export async function createSourceWorkers(
  ctx: CommandContext,
  chosen: readonly SourceResources[],
  clients: RegionalClients,
  level: number | undefined,
  retryDelaySec?: number,
  settings?: Settings,
): Promise<SourceWorker[]> {
  const home = ctx.aws();
  const rates = costRates(ctx, settings);
  const levels = await levelChooser(ctx, level);
  return Promise.all(
    chosen.map(
      async (s) =>
        new SourceWorker({
          s3: home.s3,
          queue: await queueFor(
            clients.for(s.source.region),
            s.queueName,
            s.source.visibilityTimeoutSec,
            ctx,
          ),
          spec: {
            region: s.source.region,
            bucket: s.source.bucket,
            prefixFilter: s.source.prefixFilter,
            suffixFilter: s.source.suffixFilter,
            targetRegions: [...new Set(s.source.destinations.map((d) => d.region))],
            outboundBucket: s.outboundBucket,
            tuningKey: s.parameterName,
            maxBatchObjects: s.source.maxBatchObjects,
            maxBatchBytes: s.source.maxBatchBytes,
            maxBatchWaitSec: s.source.maxBatchWaitSec,
          },
          levels,
          rates,
          log: ctx.log.child({ source: s.source.index }),
          metrics: ctx.metrics(),
          ...(retryDelaySec !== undefined ? { retryDelaySec } : {}),
        }),
    ),
  );
}

/** Build the target worker of one region (the composition root of the target side). */
export async function createTargetWorker(
  ctx: CommandContext,
  loaded: LoadedConfig,
  target: TargetResources,
  clients: RegionalClients,
  retryDelaySec?: number,
): Promise<TargetWorker> {
  return new TargetWorker({
    s3: ctx.aws().s3,
    queue: await queueFor(clients.for(target.region), target.queueName, 300, ctx),
    region: target.region,
    destinationsFor: (manifest) =>
      Promise.resolve(
        loaded.config.sources
          .filter((s) => s.bucket === manifest.bucket && s.prefixFilter === manifest.monitoredPrefix)
          .flatMap((s) => s.destinations)
          .filter((d) => d.region === target.region)
          .map((d) => ({ bucket: d.bucket, storageClass: d.storageClass, kmsKeyArn: d.kmsKeyArn })),
      ),
    log: ctx.log.child({ region: target.region }),
    metrics: ctx.metrics(),
    ...(retryDelaySec !== undefined ? { retryDelaySec } : {}),
  });
}

/** No --config/--settings: the container form, configured by environment variables. */
function containerForm(opts: { config?: string; settings?: string }): boolean {
  if ((opts.config === undefined) !== (opts.settings === undefined)) {
    throw new ConfigError('--config and --settings go together: give both, or neither (container form)');
  }
  return opts.config === undefined;
}

/** Print the summed source reports; the exit code says whether a batch failed. */
function finishSource(ctx: CommandContext, reports: readonly RunReport[]): ExitCode {
  const sum = (k: keyof RunReport) => reports.reduce((a, r) => a + r[k], 0);
  print(
    JSON.stringify({
      batches: sum('batches'),
      objects: sum('objects'),
      rawBytes: sum('rawBytes'),
      archiveBytes: sum('archiveBytes'),
      skipped: sum('skipped'),
      failedBatches: sum('failedBatches'),
    }),
  );
  if (ctx.signal.aborted) return ExitCode.Interrupted;
  return sum('failedBatches') > 0 ? ExitCode.Failure : ExitCode.Success;
}

function finishTarget(ctx: CommandContext, report: TargetRunReport): ExitCode {
  print(JSON.stringify(report));
  if (ctx.signal.aborted) return ExitCode.Interrupted;
  return report.failed > 0 ? ExitCode.Failure : ExitCode.Success;
}

/** Register `baler source` and `baler target`. */
export function replicateCommands(makeContext: MakeContext, run: Run): Command[] {
  const source = new Command('source')
    .description(
      'run the source worker: S3 events -> tar+zstd archives in the outbound bucket. Without --config/--settings ' +
        'it is configured by environment variables (container form: SQS_QUEUE_URL, BUCKET, MONITORED_PREFIX, ' +
        'STACK_NAME, ...; see docs/OPERATIONS.md)',
    )
    .option('--config <file>', 'replication_config.json (with --settings)')
    .option('--settings <file>', 'settings.json (with --config)')
    .addOption(
      new Option('--source <n>', 'index of the source in replication_config.json').argParser(
        nonNegative('--source'),
      ),
    )
    .option('--all', 'run a worker for every source')
    .addOption(
      new Option('--until-idle <seconds>', 'exit 0 once the queue stayed empty this long').argParser(
        nonNegative('--until-idle'),
      ),
    )
    .addOption(
      new Option(
        '--level <n>',
        'pin the zstd level: 1-19, 0 = store (default: adaptive, learned per source in the ' +
          'compression-settings table; docs/TUNING.md)',
      ).argParser(level),
    )
    .option(
      '--account-id <id>',
      'AWS account id in the staging bucket names (env AWS_ACCOUNT_ID; local: 000000000000)',
    )
    .addOption(retryDelayOption())
    .action((opts: CommonOptions & { source?: number; all?: boolean; level?: number }) =>
      run(async () => {
        const ctx = makeContext('source');
        tuneHeapFor('source');
        if (containerForm(opts)) {
          const worker = await containerSourceWorker(ctx, opts.level, opts.retryDelay);
          return finishSource(ctx, [await worker.run(ctx.signal, opts.untilIdle)]);
        }
        if ((opts.source === undefined) === !opts.all) {
          throw new ConfigError('give exactly one of --source N or --all');
        }
        const { loaded, t } = await loadTopology(ctx, opts);
        const chosen = opts.all ? t.sources : t.sources.filter((s) => s.source.index === opts.source);
        if (chosen.length === 0) {
          throw new ConfigError(`--source ${opts.source}: the config has sources 0..${t.sources.length - 1}`);
        }
        const clients = regionalClients(ctx);
        try {
          const workers = await createSourceWorkers(
            ctx,
            chosen,
            clients,
            opts.level,
            opts.retryDelay,
            loaded.settings,
          );
          const reports = await Promise.all(workers.map((w) => w.run(ctx.signal, opts.untilIdle)));
          return finishSource(ctx, reports);
        } finally {
          clients.destroy();
        }
      }),
    );

  const target = new Command('target')
    .description(
      "run the target worker: restore archives from this region's inbound bucket to the destinations. Without " +
        '--config/--settings it is configured by environment variables (container form: SQS_QUEUE_URL, ' +
        'AWS_DEFAULT_REGION, STACK_NAME, ...; see docs/OPERATIONS.md)',
    )
    .option('--config <file>', 'replication_config.json (with --settings)')
    .option('--settings <file>', 'settings.json (with --config)')
    .option('--region <region>', 'the target region this worker serves (with --config)')
    .addOption(
      new Option('--until-idle <seconds>', 'exit 0 once the queue stayed empty this long').argParser(
        nonNegative('--until-idle'),
      ),
    )
    .option(
      '--account-id <id>',
      'AWS account id in the staging bucket names (env AWS_ACCOUNT_ID; local: 000000000000)',
    )
    .addOption(retryDelayOption())
    .action((opts: CommonOptions & { region?: string }) =>
      run(async () => {
        const ctx = makeContext('target');
        tuneHeapFor('target');
        if (containerForm(opts)) {
          const worker = await containerTargetWorker(ctx, opts.retryDelay);
          return finishTarget(ctx, await worker.run(ctx.signal, opts.untilIdle));
        }
        if (opts.region === undefined) throw new ConfigError('--region is required with --config/--settings');
        const { loaded, t } = await loadTopology(ctx, opts);
        const mine = t.targets.find((x) => x.region === opts.region);
        if (!mine) {
          const regions = t.targets.map((x) => x.region).join(', ');
          throw new ConfigError(
            `--region ${opts.region}: no destination of the config is there (targets: ${regions})`,
          );
        }
        const clients = regionalClients(ctx);
        try {
          const worker = await createTargetWorker(ctx, loaded, mine, clients, opts.retryDelay);
          return finishTarget(ctx, await worker.run(ctx.signal, opts.untilIdle));
        } finally {
          clients.destroy();
        }
      }),
    );
  return [source, target];
}
