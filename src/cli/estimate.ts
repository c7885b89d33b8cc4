import { writeFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { parseS3Url } from '../core/s3Url.js';
import {
  DEFAULT_STAGING_COST_PER_GB_MONTH,
  DEFAULT_STAGING_DAYS,
  DEFAULT_VPC_ENDPOINT_COST_PER_REGION_MONTH,
  ESTIMATE_LEVELS,
  estimateFrom,
  measureLevels,
  readSample,
} from '../tuning/estimate.js';
import { estimateHtml, formatEstimate, type EstimateMeta } from '../tuning/estimateReport.js';
import type { MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { nonNegative, positiveInt } from './options.js';
import { costRates } from './replicate.js';

const UNITS: Record<string, number> = {
  '': 1,
  B: 1,
  KB: 1e3,
  MB: 1e6,
  GB: 1e9,
  KIB: 1024,
  MIB: 1024 ** 2,
  GIB: 1024 ** 3,
};

/** `256MiB`, `64MB`, `1GiB` or a number of bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([a-zA-Z]*)$/.exec(value.trim());
  const unit = UNITS[(m?.[2] ?? '').toUpperCase()];
  if (!m || unit === undefined) {
    throw new InvalidArgumentError(
      `expected a size like 256MiB, 64MB or 1048576, got ${JSON.stringify(value)}`,
    );
  }
  const bytes = Math.floor(Number(m[1]) * unit);
  if (bytes < 1) throw new InvalidArgumentError(`size must be at least 1 byte, got ${JSON.stringify(value)}`);
  return bytes;
}

function levelList(value: string): number[] {
  const levels = value.split(',').map((x) => x.trim());
  if (levels.some((l) => !/^\d+$/.test(l) || Number(l) > 19)) {
    throw new InvalidArgumentError(`--levels takes levels 0..19 separated by commas, got ${value}`);
  }
  return [...new Set(levels.map(Number))];
}

interface EstimateOptions {
  regions: number;
  sampleBytes: number;
  html?: string;
  json?: boolean;
  levels: number[];
  maxList: number;
  seed: number;
  vpcEndpointCost: number;
  stagingDays: number;
}

/** `baler estimate s3://bucket/prefix`: what compressing this data would save, per level, before deploying. */
export function estimateCommand(makeContext: MakeContext, run: Run): Command {
  return new Command('estimate')
    .description(
      'sample objects under an S3 prefix, compress the sample at a spread of zstd levels and report, per level, the ' +
        'ratio, speed and money saved per TiB against plain S3 replication, the recommended level and the monthly ' +
        'volume above which baler pays for its fixed costs (docs/TUNING.md)',
    )
    .argument('<url>', 's3://bucket[/prefix] to sample')
    .addOption(
      new Option('--regions <n>', 'target regions the data is replicated to')
        .argParser(positiveInt('--regions'))
        .default(1),
    )
    .addOption(
      new Option('--sample-bytes <size>', 'bytes to sample (e.g. 256MiB, 64MB)')
        .argParser(parseSize)
        .default(256 * 1024 * 1024, '256MiB'),
    )
    .addOption(
      new Option('--levels <list>', 'levels to measure, comma-separated')
        .argParser(levelList)
        .default([...ESTIMATE_LEVELS], ESTIMATE_LEVELS.join(',')),
    )
    .option('--html <file>', 'also write a self-contained HTML report with a chart')
    .option('--json', 'print the result as JSON instead of a table')
    .addOption(
      new Option('--max-list <n>', 'list at most this many keys to sample from')
        .argParser(positiveInt('--max-list'))
        .default(100_000, '100000'),
    )
    .addOption(
      new Option('--seed <n>', 'sampling seed (the same seed reads the same objects)')
        .argParser(positiveInt('--seed'))
        .default(1),
    )
    .addOption(
      new Option('--vpc-endpoint-cost <usd>', '$ per region-month of VPC endpoints (fixed cost)')
        .argParser(nonNegative('--vpc-endpoint-cost'))
        .default(DEFAULT_VPC_ENDPOINT_COST_PER_REGION_MONTH),
    )
    .addOption(
      new Option('--staging-days <days>', 'days an archive stays in a staging bucket')
        .argParser(nonNegative('--staging-days'))
        .default(DEFAULT_STAGING_DAYS),
    )
    .addHelpText(
      'after',
      '\nPrices: DATA_TRANSFER_COST ($/GB, default 0.02) and FARGATE_COST_PER_MINUTE (default 0.000395) from the ' +
        'environment. Levels 13+ are measured on at most 64 MiB of the sample, 16+ on 16 MiB.\n' +
        'Example: baler estimate s3://logs/app/ --regions 2 --html report.html',
    )
    .action((url: string, opts: EstimateOptions) =>
      run(async () => {
        const ctx = makeContext('estimate');
        const { bucket, key: prefix } = parseS3Url(url);
        ctx.log.info({ event: 'estimate_sampling', url, sampleBytes: opts.sampleBytes });
        const sample = await readSample(ctx.aws().s3, bucket, prefix, {
          sampleBytes: opts.sampleBytes,
          maxList: opts.maxList,
          seed: opts.seed,
          signal: ctx.signal,
        });
        if (sample.bytes === 0) {
          process.stderr.write(`baler: no objects with data under ${url}\n`);
          return ExitCode.Failure;
        }
        ctx.log.info({
          event: 'estimate_compressing',
          objects: sample.objects.length,
          bytes: sample.bytes,
          levels: opts.levels,
        });
        const measures = await measureLevels(sample.chunks, opts.levels);
        const result = estimateFrom(measures, {
          ...costRates(ctx),
          regions: opts.regions,
          vpcEndpointCostPerRegionMonth: opts.vpcEndpointCost,
          stagingCostPerGBMonth: DEFAULT_STAGING_COST_PER_GB_MONTH,
          stagingDays: opts.stagingDays,
        });
        const meta: EstimateMeta = {
          url,
          objectsListed: sample.objectsListed,
          listingTruncated: sample.listingTruncated,
          objectsSampled: sample.objects.length,
          sampleBytes: sample.bytes,
          date: new Date().toISOString(),
        };
        if (opts.html) await writeFile(opts.html, estimateHtml(result, meta));
        if (opts.json) process.stdout.write(`${JSON.stringify({ ...meta, ...result }, null, 2)}\n`);
        else process.stdout.write(`${formatEstimate(result, meta)}\n`);
        return ExitCode.Success;
      }),
    );
}
