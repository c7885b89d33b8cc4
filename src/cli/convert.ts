import { readFile } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { ConfigError, errorMessage } from '../core/errors.js';
import { startProgress, type ProgressMode } from '../core/progress.js';
import { parseS3Url } from '../core/s3Url.js';
import { Queue, QueueError } from '../core/sqsQueue.js';
import {
  AvroCodec,
  Converter,
  ParquetCodec,
  folderPrefix,
  listCsvObjects,
  parseDeclaredSchema,
  runQueueWorker,
  validateDialect,
  type ConvertStats,
  type DeclaredSchema,
  type FileResult,
  type OutputFormat,
} from '../convert/index.js';
import type { MakeContext, Run } from './context.js';
import { ExitCode } from './exitCode.js';
import { nonNegative, positiveInt } from './options.js';

interface ConvertCliOptions {
  to: OutputFormat[];
  parquetCodec: ParquetCodec;
  avroCodec: AvroCodec;
  schema?: string;
  delimiter: string;
  quote: string;
  escape?: string;
  header: boolean;
  maxRejectRatio: number;
  filesInFlight: number;
  avroThreads?: number;
  duckdbMemoryMib: number;
  spoolDir?: string;
  queue?: string;
  untilIdle?: number;
  visibilityTimeoutSec: number;
  progress: ProgressMode;
  json?: boolean;
}

/** `--to parquet,avro`: one or both formats. */
export function formatList(value: string): OutputFormat[] {
  const list = value.split(',').map((x) => x.trim());
  if (list.length === 0 || list.some((f) => f !== 'parquet' && f !== 'avro')) {
    throw new InvalidArgumentError(`--to takes parquet, avro or parquet,avro, got ${value}`);
  }
  return [...new Set(list)] as OutputFormat[];
}

/** `--max-reject-ratio`: a share within 0..1. */
export function ratio(name: string) {
  return (value: string): number => {
    const n = nonNegative(name)(value);
    if (n > 1) throw new InvalidArgumentError(`${name} must be within 0..1, got ${value}`);
    return n;
  };
}

/** One character (`\t` is accepted for a tab). */
function oneChar(name: string) {
  return (value: string): string => {
    const v = value === '\\t' ? '\t' : value;
    if (v.length !== 1)
      throw new InvalidArgumentError(`${name} must be one character, got ${JSON.stringify(value)}`);
    return v;
  };
}

function ms(n: number | undefined): string {
  return n === undefined ? '-' : `${(n / 1000).toFixed(1)}s`;
}

/** The text summary: one line per file that was not skipped, then the totals. */
export function formatSummary(files: readonly FileResult[], stats: ConvertStats): string {
  const lines = files
    .filter((f) => f.status !== 'skipped')
    .map((f) => {
      const what = f.status === 'converted' ? 'ok    ' : 'FAILED';
      const rej = f.rejected ? ` rejected=${f.rejected}` : '';
      const err = f.error ? `  ${f.error}` : '';
      return `${what} s3://${f.bucket}/${f.key}  rows=${f.rows}${rej} time=${ms(f.timingsMs['totalMs'])}${err}`;
    });
  lines.push(
    `${stats.converted} converted, ${stats.failed} failed, ${stats.skipped} skipped; ${stats.rows} rows, ` +
      `${stats.rejected} rejected; ${(stats.inputBytes / 1e6).toFixed(1)} MB in ${ms(stats.durationMs)}`,
  );
  return lines.join('\n');
}

/** Register `baler convert`. */
export function convertCommand(makeContext: MakeContext, run: Run): Command {
  return new Command('convert')
    .description(
      'convert the CSV objects (.csv, .csv.gz, .csv.zst) under an S3 prefix to Parquet and Avro under another ' +
        'prefix: types inferred over each whole file (or --schema), malformed records rejected to ' +
        '{output}/_rejects/ with their line numbers, files in parallel; with --queue, convert the objects of ' +
        'S3 ObjectCreated events from an SQS queue instead (docs/CONVERT.md)',
    )
    .argument(
      '<input>',
      's3://bucket[/prefix] to read (the prefix is a folder; an empty prefix is the bucket)',
    )
    .argument('<output>', 's3://bucket[/prefix] to write (keys keep their path relative to the input prefix)')
    .addOption(
      new Option('--to <formats>', 'output formats: parquet, avro or parquet,avro')
        .argParser(formatList)
        .default(['parquet', 'avro'], 'parquet,avro'),
    )
    .addOption(
      new Option('--parquet-codec <codec>', 'Parquet compression')
        .choices(Object.values(ParquetCodec))
        .default('snappy'),
    )
    .addOption(
      new Option('--avro-codec <codec>', 'Avro compression')
        .choices(Object.values(AvroCodec))
        .default('snappy'),
    )
    .option(
      '--schema <file>',
      'declared column types, JSON: {"columns": [{"name": "id", "type": "integer"}, ...]}; values that break them are rejected',
    )
    .addOption(
      new Option('--delimiter <char>', 'field delimiter (\\t for tab)')
        .argParser(oneChar('--delimiter'))
        .default(','),
    )
    .addOption(new Option('--quote <char>', 'quote character').argParser(oneChar('--quote')).default('"'))
    .addOption(
      new Option(
        '--escape <char>',
        'escape for a quote inside quotes (default: the quote, doubled as RFC 4180)',
      ).argParser(oneChar('--escape')),
    )
    .option('--no-header', 'the first record is data; columns are named column1..N')
    .addOption(
      new Option(
        '--max-reject-ratio <ratio>',
        'fail a file when rejected/(rows+rejected) is above this (0..1); nothing is written for it but its rejects',
      )
        .argParser(ratio('--max-reject-ratio'))
        .default(0),
    )
    .addOption(
      new Option('--files-in-flight <n>', 'files converted at once')
        .argParser(positiveInt('--files-in-flight'))
        .default(2),
    )
    .addOption(
      new Option(
        '--avro-threads <n>',
        'worker threads encoding Avro (default: the number of cores)',
      ).argParser(positiveInt('--avro-threads')),
    )
    .addOption(
      new Option(
        '--duckdb-memory-mib <n>',
        'DuckDB memory limit in MiB (it spills to the spool dir beyond it)',
      )
        .argParser(positiveInt('--duckdb-memory-mib'))
        .default(512),
    )
    .option(
      '--spool-dir <dir>',
      'local directory for the decompressed CSV and the Parquet of each file in flight (default: the OS temp dir)',
    )
    .option(
      '--queue <url>',
      'SQS queue URL: convert the objects of S3 ObjectCreated events from it (a worker) instead of listing the input',
    )
    .addOption(
      new Option(
        '--until-idle <seconds>',
        'with --queue: exit once the queue stayed empty this long',
      ).argParser(nonNegative('--until-idle')),
    )
    .addOption(
      new Option(
        '--visibility-timeout-sec <n>',
        'with --queue: how long received messages stay invisible (kept alive while converting)',
      )
        .argParser(positiveInt('--visibility-timeout-sec'))
        .default(300),
    )
    .addOption(
      new Option('--progress <mode>', 'auto (bar on a TTY, JSON lines otherwise), bar, json or none')
        .choices(['auto', 'bar', 'json', 'none'])
        .default('auto'),
    )
    .option('--json', 'print the per-file results and the totals as JSON on stdout')
    .addHelpText(
      'after',
      '\nExit code 0 when every file converted, 1 when one failed (the others still ran), 2 on a usage error, 130 when interrupted.\n' +
        'Examples:\n' +
        '  baler convert s3://landing/daily/ s3://lake/daily/ --to parquet --parquet-codec zstd\n' +
        '  baler convert s3://landing s3://landing/converted --queue https://sqs.../landing-csv --until-idle 60',
    )
    .action((inputUrl: string, outputUrl: string, opts: ConvertCliOptions) =>
      run(async () => {
        const ctx = makeContext('convert');
        const input = parseS3Url(inputUrl);
        const output = parseS3Url(outputUrl);
        const dialect = validateDialect({
          delimiter: opts.delimiter,
          quote: opts.quote,
          escape: opts.escape ?? opts.quote,
          header: opts.header,
        });
        if (opts.untilIdle !== undefined && !opts.queue) throw new ConfigError('--until-idle needs --queue');
        let schema: DeclaredSchema | undefined;
        if (opts.schema) {
          let doc: unknown;
          try {
            doc = JSON.parse(await readFile(opts.schema, 'utf8'));
          } catch (e: unknown) {
            throw new ConfigError(`--schema ${opts.schema}: ${errorMessage(e)}`, { cause: e });
          }
          try {
            schema = parseDeclaredSchema(doc, opts.schema);
          } catch (e: unknown) {
            throw new ConfigError(errorMessage(e), { cause: e });
          }
        }
        const location = {
          inputBucket: input.bucket,
          inputFolder: folderPrefix(input.key),
          outputBucket: output.bucket,
          outputFolder: folderPrefix(output.key),
        };
        const aws = ctx.aws();
        const converter = await Converter.open({
          s3: aws.s3,
          location,
          formats: opts.to,
          parquetCodec: opts.parquetCodec,
          avroCodec: opts.avroCodec,
          dialect,
          ...(schema ? { schema } : {}),
          maxRejectRatio: opts.maxRejectRatio,
          filesInFlight: opts.filesInFlight,
          ...(opts.avroThreads ? { avroThreads: opts.avroThreads } : {}),
          duckdbMemoryMiB: opts.duckdbMemoryMib,
          ...(opts.spoolDir ? { spoolDir: opts.spoolDir } : {}),
          log: ctx.log,
          signal: ctx.signal,
        });
        const p = converter.progress;
        const progress = startProgress({
          label: 'convert',
          mode: opts.progress,
          read: () => ({
            objects: p.files,
            bytes: p.bytes,
            objectsTotal: p.filesTotal,
            bytesTotal: p.bytesTotal,
            totalFinal: p.listed,
            failed: p.failed,
            skipped: p.skipped,
          }),
        });
        let files: FileResult[];
        let stats: ConvertStats;
        let extra: Record<string, number> = {};
        try {
          if (opts.queue) {
            const queue = new Queue({
              sqs: aws.sqs,
              queueUrl: opts.queue,
              visibilityTimeoutSec: opts.visibilityTimeoutSec,
              log: ctx.log,
            });
            const r = await runQueueWorker(
              { queue, converter, log: ctx.log, messagesPerReceive: opts.filesInFlight },
              ctx.signal,
              opts.untilIdle,
            );
            ({ files, stats } = r);
            extra = {
              messagesDeleted: r.messagesDeleted,
              messagesLeft: r.messagesLeft,
              messagesInvalid: r.messagesInvalid,
            };
          } else {
            ({ files, stats } = await converter.convertAll(
              listCsvObjects(aws.s3, location.inputBucket, location.inputFolder, ctx.signal),
            ));
          }
        } catch (e: unknown) {
          // Interrupted: files in flight were abandoned (their spool directories removed); exit 130.
          if (ctx.signal.aborted) return ExitCode.Interrupted;
          // The queue worker reports a file's failure in its result; what it throws is a queue call that
          // still failed after the SDK's retries (receive, delete): exit 1 naming the queue.
          if (opts.queue && !(e instanceof QueueError)) {
            throw new QueueError(`--queue ${opts.queue}: ${errorMessage(e)}`, { cause: e });
          }
          throw e;
        } finally {
          progress.stop();
          await converter.close();
        }
        if (opts.json) process.stdout.write(`${JSON.stringify({ files, stats: { ...stats, ...extra } })}\n`);
        else process.stdout.write(`${formatSummary(files, stats)}\n`);
        if (ctx.signal.aborted) return ExitCode.Interrupted;
        return stats.failed > 0 || (extra['messagesLeft'] ?? 0) > 0 ? ExitCode.Failure : ExitCode.Success;
      }),
    );
}
