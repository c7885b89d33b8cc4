import { Command, InvalidArgumentError, Option } from 'commander';
import { GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { createAwsClients, resolveAwsSettings } from '../core/awsClients.js';
import { ConfigError } from '../core/errors.js';
import { backfill, BackfillError, type BackfillReport } from '../replicate/backfill.js';
import type { MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { sourceIndex } from './options.js';
import { loadTopology } from './replicate.js';

/**
 * Account id used when none is given: the source queue's name does not contain one (only the staging buckets'
 * do, which the backfill does not touch), so it is not worth a usage error.
 */
const UNUSED_ACCOUNT_ID = '000000000000';

interface BackfillCliOptions {
  config: string;
  settings: string;
  source: number;
  since?: Date;
  dryRun?: boolean;
  accountId?: string;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?)?$/;

/**
 * `--since`: an ISO-8601 date (`2024-05-01`, midnight UTC) or date-time (`2024-05-01T12:00:00+02:00`); a
 * date-time without a zone is taken as UTC, so the result does not depend on the machine's time zone.
 *
 * @example
 * parseSince('2024-05-01T12:00'); // 2024-05-01T12:00:00.000Z
 */
export function parseSince(value: string): Date {
  const m = ISO_DATE.exec(value);
  const d = m ? new Date(value.includes('T') && m[1] === undefined ? `${value}Z` : value) : undefined;
  if (!d || Number.isNaN(d.getTime())) {
    throw new InvalidArgumentError(
      `--since must be an ISO-8601 date or date-time (2024-05-01, 2024-05-01T12:00:00Z), got ${value}`,
    );
  }
  return d;
}

function print(line: string): void {
  process.stdout.write(line + '\n');
}

/** Register `baler backfill`. */
export function backfillCommand(makeContext: MakeContext, run: Run): Command {
  return new Command('backfill')
    .description(
      "enqueue the objects already under a source's prefix as ObjectCreated:Put events, so the source " +
        'worker replicates history',
    )
    .requiredOption('--config <file>', 'replication_config.json')
    .requiredOption('--settings <file>', 'settings.json')
    .addOption(
      new Option('--source <n>', 'index of the source in replication_config.json')
        .argParser(sourceIndex)
        .makeOptionMandatory(),
    )
    .addOption(
      new Option(
        '--since <date>',
        'only objects last modified at or after this ISO-8601 date/date-time (UTC unless a zone is given)',
      ).argParser(parseSince),
    )
    .option('--dry-run', 'list and count only; enqueue nothing')
    .option(
      '--account-id <id>',
      'AWS account id in the staging bucket names (env AWS_ACCOUNT_ID; local: 000000000000); not needed here',
    )
    .action((opts: BackfillCliOptions) =>
      run(async () => {
        const ctx = makeContext('backfill');
        const { t } = await loadTopology(ctx, opts, UNUSED_ACCOUNT_ID);
        const chosen = t.sources.find((s) => s.source.index === opts.source);
        if (!chosen) {
          throw new ConfigError(`--source ${opts.source}: the config has sources 0..${t.sources.length - 1}`);
        }
        const { source, queueName } = chosen;
        // Both the bucket and the queue are in the source's region.
        const aws = createAwsClients(resolveAwsSettings({ ...ctx.env, AWS_REGION: source.region }));
        try {
          const { QueueUrl } = await aws.sqs.send(new GetQueueUrlCommand({ QueueName: queueName }), {
            abortSignal: ctx.signal,
          });
          if (!QueueUrl) throw new ConfigError(`queue ${queueName} has no URL`);
          let report: BackfillReport;
          try {
            report = await backfill({
              s3: aws.s3,
              sqs: aws.sqs,
              queueUrl: QueueUrl,
              source: {
                bucket: source.bucket,
                region: source.region,
                prefixFilter: source.prefixFilter,
                suffixFilter: source.suffixFilter,
              },
              since: opts.since,
              dryRun: opts.dryRun === true,
              log: ctx.log.child({ source: source.index }),
              signal: ctx.signal,
            });
          } catch (e: unknown) {
            // The counts up to the failure still go to stdout; `run` prints the error and exits 1.
            if (e instanceof BackfillError)
              print(JSON.stringify({ ...e.report, failed: e.failedKeys.length, queue: queueName }));
            throw e;
          }
          print(JSON.stringify({ ...report, dryRun: opts.dryRun === true, queue: queueName }));
          return ctx.signal.aborted ? ExitCode.Interrupted : ExitCode.Success;
        } finally {
          aws.destroy();
        }
      }),
    );
}
