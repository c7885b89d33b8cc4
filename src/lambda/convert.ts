/**
 * AWS Lambda handler of `baler convert` (`dist/lambda/convert.handler`), configured like the Python "S3 Data
 * Processor" it replaces:
 *
 * | variable        | meaning                                                    | default        |
 * | --------------- | ---------------------------------------------------------- | -------------- |
 * | `INPUT_BUCKET`  | bucket read by scheduled runs                              | (required)     |
 * | `OUTPUT_BUCKET` | bucket written                                             | `INPUT_BUCKET` |
 * | `PREFIX`        | input prefix (a folder); keys are mapped relative to it    | empty          |
 * | `OUTPUT_PREFIX` | output prefix (a folder)                                   | empty          |
 * | `MAX_WORKERS`   | files converted at once                                    | 2              |
 * | `OUTPUT_FORMATS`| `parquet,avro`, `parquet` or `avro`                        | `parquet,avro` |
 * | `MAX_REJECT_RATIO` | a file fails above this share of rejected records       | 0              |
 *
 * Events: an S3 event notification (converts the CSV objects it names), an EventBridge scheduled event
 * (converts every CSV under `INPUT_BUCKET`/`PREFIX`) or a direct invocation `{"bucket", "prefix"}` (every CSV
 * under that bucket and prefix; keys mapped relative to that prefix). Returns the per-file results and the
 * totals; a failed file is a result, not an exception. The spool is `/tmp` (the function's ephemeral
 * storage must hold the largest decompressed CSV plus its Parquet).
 */
import { createAwsClients, resolveAwsSettings } from '../core/awsClients.js';
import { ConfigError } from '../core/errors.js';
import { createLogger, isLogLevel } from '../core/logger.js';
import {
  Converter,
  folderPrefix,
  listCsvObjects,
  parseConvertEvent,
  type ConvertLocation,
  type ConvertStats,
  type FileResult,
  type InputObject,
  type OutputFormat,
} from '../convert/index.js';

/** What the handler returns. */
export interface ConvertLambdaResult {
  readonly files: FileResult[];
  readonly stats: ConvertStats;
}

type Env = Readonly<Record<string, string | undefined>>;

/** The handler's settings from its environment. @throws ConfigError naming the variable */
export function lambdaSettings(env: Env) {
  const inputBucket = env['INPUT_BUCKET'] ?? '';
  if (inputBucket === '') throw new ConfigError('INPUT_BUCKET must be set');
  const workers = Number(env['MAX_WORKERS'] ?? '2');
  if (!Number.isInteger(workers) || workers < 1)
    throw new ConfigError(`MAX_WORKERS must be an integer ≥ 1, got ${env['MAX_WORKERS']}`);
  const formats = (env['OUTPUT_FORMATS'] ?? 'parquet,avro').split(',').map((f) => f.trim());
  if (formats.length === 0 || formats.some((f) => f !== 'parquet' && f !== 'avro')) {
    throw new ConfigError(
      `OUTPUT_FORMATS must be parquet, avro or both separated by a comma, got ${env['OUTPUT_FORMATS']}`,
    );
  }
  const maxRejectRatio = Number(env['MAX_REJECT_RATIO'] ?? '0');
  if (!(maxRejectRatio >= 0 && maxRejectRatio <= 1))
    throw new ConfigError(`MAX_REJECT_RATIO must be within 0..1, got ${env['MAX_REJECT_RATIO']}`);
  return {
    inputBucket,
    outputBucket: env['OUTPUT_BUCKET'] || inputBucket,
    prefix: env['PREFIX'] ?? '',
    outputPrefix: env['OUTPUT_PREFIX'] ?? '',
    workers,
    formats: [...new Set(formats)] as OutputFormat[],
    maxRejectRatio,
  };
}

/**
 * Convert what the event names (see the module comment).
 *
 * @example
 * await handler({ bucket: 'landing', prefix: 'daily/' }); // { files: [...], stats: { converted: 3, ... } }
 */
export async function handler(event: unknown): Promise<ConvertLambdaResult> {
  const env: Env = process.env;
  const s = lambdaSettings(env);
  const level = (env['LOG_LEVEL'] ?? 'info').toLowerCase();
  const log = createLogger({ level: isLogLevel(level) ? level : 'info', service: 'convert-lambda' });
  const request = parseConvertEvent(event);
  const bucket = request.kind === 'direct' ? request.bucket : s.inputBucket;
  const location: ConvertLocation = {
    inputBucket: request.kind === 'objects' ? (request.objects[0]?.bucket ?? s.inputBucket) : bucket,
    inputFolder: folderPrefix(request.kind === 'direct' ? request.prefix : s.prefix),
    outputBucket: s.outputBucket,
    outputFolder: folderPrefix(s.outputPrefix),
  };
  const aws = createAwsClients(resolveAwsSettings(env));
  const converter = await Converter.open({
    s3: aws.s3,
    location,
    formats: s.formats,
    filesInFlight: s.workers,
    maxRejectRatio: s.maxRejectRatio,
    log,
  });
  try {
    const inputs: AsyncIterable<InputObject> | InputObject[] =
      request.kind === 'objects'
        ? [...request.objects]
        : listCsvObjects(aws.s3, location.inputBucket, location.inputFolder);
    const r = await converter.convertAll(inputs);
    log.info({ event: 'convert_lambda_done', ...r.stats });
    return r;
  } finally {
    await converter.close();
    aws.destroy();
  }
}
