import { Command, InvalidArgumentError, Option } from 'commander';
import { createAwsClients, resolveAwsSettings } from '../core/awsClients.js';
import { ConfigError } from '../core/errors.js';
import { formatBytes, startProgress, ProgressMode } from '../core/progress.js';
import { parseS3Url } from '../core/s3Url.js';
import { sdkObjectReader, signedObjectReader } from '../core/s3ObjectReader.js';
import {
  parseShard,
  resolveTunables,
  SOAK_DEFAULTS,
  Soaker,
  type FilterRule,
  type Shard,
  type SoakPlanEntry,
  type SoakSummary,
} from '../soak/index.js';
import type { MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { nonNegative, nonNegativeInt, positiveInt, positiveNumber } from './options.js';

interface SoakCliOptions {
  endpointUrl?: string;
  region?: string;
  minConcurrency?: number;
  maxConcurrency?: number;
  maxSpeed?: number;
  optimizationInterval?: number;
  maxRetries?: number;
  retryDelay?: number;
  partSize?: number;
  multipartThreshold?: number;
  partConcurrency?: number;
  checksum?: boolean;
  dryRun?: boolean;
  shard?: Shard;
  json?: boolean;
  progress: ProgressMode;
}

/** Render the summary for people (stdout). */
export function summaryText(s: SoakSummary): string {
  const lines = [
    `${s.dryRun ? 'dry run: ' : ''}${s.objects} objects, ${formatBytes(s.bytes)} in ${s.seconds.toFixed(1)} s ` +
      `(${s.mibPerSec} MiB/s) to ${s.destDir}`,
    `skipped: ${s.skipped.upToDate} up to date, ${s.skipped.directoryMarkers} directory markers, ` +
      `${s.skipped.gone} gone since listed, ${s.skipped.unsafe} unsafe keys; ${s.excluded} excluded by filters/shard`,
    `failed: ${s.failed}; retries: ${s.retries} (${s.throttles} throttled or connection errors); ` +
      `peak concurrency: ${s.peakConcurrency}` +
      (s.bytesResumed > 0 ? `; resumed ${formatBytes(s.bytesResumed)} already on disk` : ''),
  ];
  for (const f of s.failures) lines.push(`  ${f.kind}: ${JSON.stringify(f.key)}: ${f.reason}`);
  const unlisted = s.failed + s.skipped.unsafe - s.failures.length;
  if (unlisted > 0) lines.push(`  … and ${unlisted} more (see the log)`);
  return lines.join('\n') + '\n';
}

function planText(p: SoakPlanEntry): string {
  return `${p.action.padEnd(10)} ${JSON.stringify(p.key)} -> ${p.path} (${formatBytes(p.size)})\n`;
}

/** Register `baler soak`. */
export function soakCommand(makeContext: MakeContext, run: Run): Command {
  const filters: FilterRule[] = [];
  const filter = (type: FilterRule['type']) => (pattern: string) => {
    filters.push({ type, pattern });
    return pattern;
  };
  return new Command('soak')
    .description(
      'download every object under s3://bucket[/prefix] into DEST_DIR: self-tuning concurrency, parallel ' +
        'ranged GETs for large objects, resume after interruption, retries, filters (docs/SOAK.md)',
    )
    .argument('<source>', 's3://bucket[/prefix] (the prefix is a directory: s3://b/logs lists logs/)')
    .argument('<dest-dir>', 'local directory; the key structure below the prefix is kept')
    .option('--endpoint-url <url>', 'S3 endpoint of any S3-compatible store (else AWS_ENDPOINT_URL_S3, AWS)')
    .option('--region <region>', 'region (else AWS_REGION, the profile)')
    .addOption(
      new Option(
        '--include <pattern>',
        'include keys matching (repeatable; the last matching filter wins)',
      ).argParser(filter('include')),
    )
    .addOption(
      new Option(
        '--exclude <pattern>',
        'exclude keys matching (repeatable; `*` matches across "/")',
      ).argParser(filter('exclude')),
    )
    .addOption(
      new Option(
        '--min-concurrency <n>',
        `concurrent requests at the start (env MIN_PROCESSES; default ${SOAK_DEFAULTS.minConcurrency})`,
      ).argParser(positiveInt('--min-concurrency')),
    )
    .addOption(
      new Option(
        '--max-concurrency <n>',
        `concurrent requests at most (env MAX_PROCESSES; default ${SOAK_DEFAULTS.maxConcurrency})`,
      ).argParser(positiveInt('--max-concurrency')),
    )
    .addOption(
      new Option(
        '--max-speed <MiB/s>',
        'rate limit over all requests (env MAX_SPEED; default none)',
      ).argParser(positiveNumber('--max-speed')),
    )
    .addOption(
      new Option(
        '--optimization-interval <seconds>',
        `how often concurrency is re-tuned (env OPTIMIZATION_INTERVAL; default ${SOAK_DEFAULTS.optimizationIntervalSec})`,
      ).argParser(positiveNumber('--optimization-interval')),
    )
    .addOption(
      new Option(
        '--max-retries <n>',
        `retries per request (env MAX_RETRIES; default ${SOAK_DEFAULTS.maxRetries})`,
      ).argParser(nonNegativeInt('--max-retries')),
    )
    .addOption(
      new Option(
        '--retry-delay <seconds>',
        `backoff base: retry n waits up to base × 2^n, full jitter, ≤ 30 s (env RETRY_DELAY; default ${SOAK_DEFAULTS.retryDelaySec})`,
      ).argParser(nonNegative('--retry-delay')),
    )
    .addOption(
      new Option(
        '--part-size <MiB>',
        `size of each ranged GET (default ${SOAK_DEFAULTS.partSizeMiB})`,
      ).argParser(positiveNumber('--part-size')),
    )
    .addOption(
      new Option(
        '--multipart-threshold <MiB>',
        `objects this large are fetched as parallel ranged GETs (default ${SOAK_DEFAULTS.multipartThresholdMiB})`,
      ).argParser(nonNegative('--multipart-threshold')),
    )
    .addOption(
      new Option(
        '--part-concurrency <n>',
        `ranged GETs per object at once (default ${SOAK_DEFAULTS.partConcurrency})`,
      ).argParser(positiveInt('--part-concurrency')),
    )
    .option('--checksum', 'a present file is up to date only if its MD5 matches a plain-MD5 ETag')
    .option('--dry-run', 'list and decide only: print what would be downloaded, write nothing')
    .addOption(
      new Option('--shard <I/N>', 'take only the keys whose hash falls in shard I of N (0-based)').argParser(
        (v: string) => {
          try {
            return parseShard(v);
          } catch (e: unknown) {
            throw new InvalidArgumentError((e as Error).message);
          }
        },
      ),
    )
    .option('--json', "print the summary (and a dry run's plan) as JSON lines on stdout")
    .addOption(
      new Option('--progress <mode>', 'progress on stderr: a bar on a TTY, JSON lines otherwise')
        .choices(Object.values(ProgressMode))
        .default('auto'),
    )
    .addHelpText(
      'after',
      '\nExit codes: 0 everything downloaded or up to date; 1 some objects failed or had unsafe keys; ' +
        '2 usage error; 130 interrupted (run again to resume).\n' +
        'Example: baler soak s3://my-bucket/exports ./exports --exclude "*" --include "*.db"',
    )
    .action((source: string, destDir: string, opts: SoakCliOptions) =>
      run(async () => {
        const ctx = makeContext('soak');
        const { bucket, key } = parseS3Url(source);
        if (destDir.trim() === '') throw new ConfigError('DEST_DIR must not be empty');
        const tunables = resolveTunables(
          {
            ...(opts.minConcurrency !== undefined ? { minConcurrency: opts.minConcurrency } : {}),
            ...(opts.maxConcurrency !== undefined ? { maxConcurrency: opts.maxConcurrency } : {}),
            ...(opts.maxSpeed !== undefined ? { maxSpeedMiBps: opts.maxSpeed } : {}),
            ...(opts.optimizationInterval !== undefined
              ? { optimizationIntervalSec: opts.optimizationInterval }
              : {}),
            ...(opts.maxRetries !== undefined ? { maxRetries: opts.maxRetries } : {}),
            ...(opts.retryDelay !== undefined ? { retryDelaySec: opts.retryDelay } : {}),
            ...(opts.partSize !== undefined ? { partSizeMiB: opts.partSize } : {}),
            ...(opts.multipartThreshold !== undefined
              ? { multipartThresholdMiB: opts.multipartThreshold }
              : {}),
            ...(opts.partConcurrency !== undefined ? { partConcurrency: opts.partConcurrency } : {}),
          },
          ctx.env,
        );
        // Our own retry loop is the only one (the SDK's would hide throttling from the tuner); sockets are
        // sized for the largest pool.
        const aws = createAwsClients(
          resolveAwsSettings(ctx.env, {
            ...(opts.region ? { region: opts.region } : {}),
            ...(opts.endpointUrl ? { endpoints: { s3: opts.endpointUrl } } : {}),
            maxAttempts: 1,
            retryMode: 'standard',
            maxSockets: tunables.maxConcurrency + 4,
          }),
        );
        if (!['', 'sdk', 'signed'].includes(ctx.env['BALER_SOAK_READER'] ?? '')) {
          throw new ConfigError(
            `BALER_SOAK_READER must be "signed" or "sdk", got ${JSON.stringify(ctx.env['BALER_SOAK_READER'])}`,
          );
        }
        const print = (line: string) => process.stdout.write(line);
        const reader =
          ctx.env['BALER_SOAK_READER'] === 'sdk'
            ? sdkObjectReader(aws.s3)
            : signedObjectReader(aws.s3, { maxSockets: tunables.maxConcurrency + 4 });
        const soaker = new Soaker(
          {
            s3: aws.s3,
            reader,
            log: ctx.log,
            onPlan: opts.dryRun
              ? (p) => {
                  print(opts.json ? `${JSON.stringify({ event: 'plan', ...p })}\n` : planText(p));
                }
              : undefined,
          },
          {
            bucket,
            prefix: key,
            destDir,
            ...tunables,
            maxBytesPerSec: tunables.maxBytesPerSec,
            filters: [...filters],
            ...(opts.shard ? { shard: opts.shard } : {}),
            checksum: opts.checksum ?? false,
            dryRun: opts.dryRun ?? false,
          },
        );
        const progress = startProgress({
          label: 'soak',
          mode: opts.dryRun ? 'none' : opts.progress,
          read: () => ({
            objects: soaker.objectsDone,
            bytes: soaker.stats.bytesTransferred,
            objectsTotal: soaker.stats.objectsTotal,
            bytesTotal: soaker.stats.bytesTotal,
            totalFinal: soaker.stats.totalFinal,
            failed: soaker.stats.failed,
            skipped: soaker.objectsDone - soaker.stats.downloaded - soaker.stats.failed,
          }),
        });
        let summary: SoakSummary;
        try {
          summary = await soaker.run(ctx.signal);
        } catch (e: unknown) {
          if (ctx.signal.aborted) {
            process.stderr.write('baler: soak interrupted; run the same command again to resume\n');
            return ExitCode.Interrupted;
          }
          throw e;
        } finally {
          progress.stop();
          reader.destroy();
          aws.destroy();
        }
        print(opts.json ? `${JSON.stringify({ event: 'summary', ...summary })}\n` : summaryText(summary));
        ctx.log.debug(
          { event: 'soak_finished', ...summary, failures: summary.failures.length },
          'soak finished',
        );
        return summary.failed > 0 || summary.skipped.unsafe > 0 ? ExitCode.Failure : ExitCode.Success;
      }),
    );
}
