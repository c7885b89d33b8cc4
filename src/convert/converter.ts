/**
 * The converter: one input object at a time from S3 to a local spool, through the engine (types, Parquet,
 * rejects) and the Avro pool, back to S3 by multipart upload; files in parallel up to a limit.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { open, mkdtemp, rm, statfs } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { AvroPool } from './avro.js';
import { columnNames, parseFirstRecord, validateDialect } from './dialect.js';
import { CsvEngine } from './engine.js';
import { ConvertError, RejectRatioError } from './errors.js';
import { csvCompression, outputKeys, skipReason, type ConvertLocation, type OutputKeys } from './keys.js';
import { downloadCsv, uploadBody, type InputObject } from './s3.js';
import { applyDeclaredSchema, type DeclaredSchema } from './schema.js';
import {
  DEFAULT_DIALECT,
  type AvroCodec,
  type ConvertStats,
  type CsvDialect,
  type FileResult,
  type OutputFormat,
  type ParquetCodec,
} from './types.js';

/** How many bytes of the spool are read to find the header record. */
const HEADER_PROBE_BYTES = 1024 * 1024;

/** Settings of a run (validated at the edge: the CLI or the Lambda handler). */
export interface ConverterOptions {
  readonly s3: S3Client;
  readonly location: ConvertLocation;
  /** @defaultValue ['parquet', 'avro'] */
  readonly formats?: readonly OutputFormat[];
  /** @defaultValue 'snappy' */
  readonly parquetCodec?: ParquetCodec;
  /** @defaultValue 'snappy' */
  readonly avroCodec?: AvroCodec;
  /** @defaultValue RFC 4180 with a header */
  readonly dialect?: CsvDialect;
  /** Declared column types; inferred over the whole file when absent. */
  readonly schema?: DeclaredSchema;
  /** A file fails when rejected / (rows + rejected) is above this. @defaultValue 0 */
  readonly maxRejectRatio?: number;
  /** Files converted at once. @defaultValue 2 */
  readonly filesInFlight?: number;
  /** Worker threads encoding Avro blocks (shared by all files). @defaultValue the machine's cores */
  readonly avroThreads?: number;
  /** DuckDB memory limit (shared by all files; it spills to the spool directory beyond it). @defaultValue 512 */
  readonly duckdbMemoryMiB?: number;
  /** Where the per-file spool directories are made. @defaultValue os.tmpdir() */
  readonly spoolDir?: string;
  readonly log: Logger;
  readonly signal?: AbortSignal;
}

/** Live counters, for the progress display. */
export interface ConvertProgress {
  files: number;
  filesTotal: number;
  bytes: number;
  bytesTotal: number;
  listed: boolean;
  failed: number;
  skipped: number;
}

function ms(t0: number): number {
  return Math.round(performance.now() - t0);
}

/** Totals of a list of results. */
export function summarize(files: readonly FileResult[], durationMs: number): ConvertStats {
  const s: ConvertStats = {
    files: files.length,
    converted: 0,
    failed: 0,
    skipped: 0,
    rows: 0,
    rejected: 0,
    inputBytes: 0,
    durationMs,
  };
  for (const f of files) {
    s[f.status] += 1;
    if (f.status === 'converted') s.rows += f.rows; // a failed file wrote no rows
    s.rejected += f.rejected;
    s.inputBytes += f.inputBytes;
  }
  return s;
}

/**
 * Converts CSV objects to Parquet and Avro. Open with {@link Converter.open}, close when done (stops the
 * Avro workers and DuckDB).
 *
 * Memory ≈ DuckDB (`duckdbMemoryMiB`) + Avro workers (threads × (128 MiB DuckDB + 2 blocks)) + uploads
 * (files × formats × 8 MiB × 3). Disk ≈ per file in flight: the decompressed CSV + its Parquet (+ a clean
 * copy of the CSV when it has malformed records); each file's spool directory is removed when it is done.
 *
 * @example
 * const c = await Converter.open({ s3, location, log });
 * try { const { files, stats } = await c.convertAll(listCsvObjects(s3, 'in', 'landing/')); } finally { await c.close(); }
 */
export class Converter {
  readonly #o: ConverterOptions;
  readonly #engine: CsvEngine;
  readonly #pool: AvroPool | undefined;
  readonly #spoolDir: string;
  /** Output key → the input key that produced it (see {@link Converter.claimOutputs}). */
  readonly #claimed = new Map<string, string>();
  readonly progress: ConvertProgress = {
    files: 0,
    filesTotal: 0,
    bytes: 0,
    bytesTotal: 0,
    listed: false,
    failed: 0,
    skipped: 0,
  };

  private constructor(o: ConverterOptions, engine: CsvEngine, pool: AvroPool | undefined, spoolDir: string) {
    this.#o = o;
    this.#engine = engine;
    this.#pool = pool;
    this.#spoolDir = spoolDir;
  }

  /** Check the settings, start DuckDB and (when Avro is asked for) the Avro workers. */
  static async open(o: ConverterOptions): Promise<Converter> {
    validateDialect(o.dialect ?? DEFAULT_DIALECT);
    const spoolDir = o.spoolDir ?? tmpdir();
    const engine = await CsvEngine.open({ tempDir: spoolDir, memoryLimitMiB: o.duckdbMemoryMiB ?? 512 });
    const formats = o.formats ?? ['parquet', 'avro'];
    const pool = formats.includes('avro')
      ? new AvroPool(o.avroThreads ? { threads: o.avroThreads } : {})
      : undefined;
    return new Converter(o, engine, pool, spoolDir);
  }

  /** Stop the workers and DuckDB. */
  async close(): Promise<void> {
    await this.#pool?.close();
    this.#engine.close();
  }

  /**
   * Convert every input from `inputs` (N files at once, pulling from the one iterator) and return the
   * per-file results in completion order. Never throws for a file: a failed file is a result.
   */
  async convertAll(
    inputs: AsyncIterable<InputObject> | Iterable<InputObject>,
    onResult?: (r: FileResult) => void,
  ): Promise<{ files: FileResult[]; stats: ConvertStats }> {
    const t0 = performance.now();
    const files: FileResult[] = [];
    const it = Symbol.asyncIterator in inputs ? inputs[Symbol.asyncIterator]() : inputs[Symbol.iterator]();
    let done = false;
    const next = async (): Promise<InputObject | undefined> => {
      if (done) return undefined;
      const r = await it.next();
      if (r.done) {
        done = true;
        this.progress.listed = true;
        return undefined;
      }
      this.progress.filesTotal += 1;
      this.progress.bytesTotal += r.value.size ?? 0;
      return r.value;
    };
    const worker = async () => {
      for (let input = await next(); input && !this.#o.signal?.aborted; input = await next()) {
        const r = await this.convertFile(input);
        files.push(r);
        onResult?.(r);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, this.#o.filesInFlight ?? 2) }, worker));
    this.progress.listed = true;
    return { files, stats: summarize(files, ms(t0)) };
  }

  /**
   * `a.csv`, `a.csv.gz` and `a.csv.zst` all map to `a.parquet`: the second one seen by this converter would
   * silently replace the first one's outputs. It fails instead (the first one listed wins: plain before `.gz`
   * before `.zst`). Remembered for the last {@link MAX_CLAIMED_OUTPUTS} output keys of this process.
   */
  #claimOutputs(inputKey: string, keys: OutputKeys, src: string): void {
    for (const out of Object.values(keys.outputs)) {
      const owner = this.#claimed.get(out);
      if (owner !== undefined && owner !== inputKey) {
        throw new ConvertError(
          `${src}: its output s3://${this.#o.location.outputBucket}/${out} is also the output of ${JSON.stringify(owner)}, converted before it; nothing written (rename one of the two inputs)`,
          { src, code: 'CONVERT_OUTPUT_CONFLICT' },
        );
      }
    }
    if (this.#claimed.size >= MAX_CLAIMED_OUTPUTS) this.#claimed.clear();
    for (const out of Object.values(keys.outputs)) this.#claimed.set(out, inputKey);
  }

  /** Convert one object. Never throws (except on abort): a failure is a result with `status: 'failed'`. */
  async convertFile(input: InputObject): Promise<FileResult> {
    const o = this.#o;
    const formats = o.formats ?? ['parquet', 'avro'];
    const base = {
      bucket: input.bucket,
      key: input.key,
      rows: 0,
      rejected: 0,
      inputBytes: input.size ?? 0,
      outputs: {},
      timingsMs: {},
    };
    const skip = skipReason(o.location, input.bucket, input.key);
    const keys = outputKeys(input.key, o.location.inputFolder, o.location.outputFolder, formats);
    if (skip || !keys) {
      this.progress.skipped += 1;
      this.progress.files += 1;
      return { ...base, status: 'skipped', error: skip ?? 'outside-input-prefix' };
    }
    const src = `s3://${input.bucket}/${input.key}`;
    const log = o.log.child({ src });
    const timings: Record<string, number> = {};
    const t0 = performance.now();
    let workDir: string | undefined;
    let result: Partial<FileResult> = {};
    try {
      this.#claimOutputs(input.key, keys, src);
      workDir = await mkdtemp(join(this.#spoolDir, 'baler-convert-'));
      if (input.size !== undefined) await checkDisk(this.#spoolDir, input.size, src);
      // 1. Download (decompressing) to the spool.
      let t = performance.now();
      const csvPath = join(workDir, 'input.csv');
      const spooled = await downloadCsv(o.s3, input, csvCompression(input.key) ?? 'none', csvPath, {
        ...(o.signal ? { signal: o.signal } : {}),
        onBytes: (n) => (this.progress.bytes += n),
      });
      result = { inputBytes: spooled.storedBytes };
      timings['downloadMs'] = ms(t);

      // 2. Header, types, Parquet, rejects.
      const dialect = o.dialect ?? DEFAULT_DIALECT;
      const fields = await readHeader(csvPath, dialect, src);
      const names = columnNames(fields, dialect.header);
      const declared = o.schema ? applyDeclaredSchema(names, o.schema) : undefined;
      const parquetPath = join(workDir, 'output.parquet');
      const converted = await this.#engine.convert({
        csvPath,
        workDir,
        dialect,
        names,
        ...(declared ? { declared } : {}),
        parquetPath,
        parquetCodec: o.parquetCodec ?? 'snappy',
        ...(o.signal ? { signal: o.signal } : {}),
      });
      Object.assign(timings, converted.timingsMs);
      result = { ...result, rows: converted.rows, rejected: converted.rejected, columns: converted.columns };
      const outBucket = o.location.outputBucket;

      // 3. Rejects first, then the ratio check: a failing file still shows why.
      let rejectsUrl: string | undefined;
      if (converted.rejectsPath) {
        t = performance.now();
        await uploadBody(o.s3, outBucket, keys.rejects, converted.rejectsPath, 'text/csv', o.signal);
        rejectsUrl = `s3://${outBucket}/${keys.rejects}`;
        result = { ...result, rejectsUrl };
        timings['rejectsUploadMs'] = ms(t);
        log.warn({ event: 'convert_rejects', rejected: converted.rejected, dst: rejectsUrl });
      }
      const total = converted.rows + converted.rejected;
      const ratio = total === 0 ? 0 : converted.rejected / total;
      const max = o.maxRejectRatio ?? 0;
      if (ratio > max) {
        throw new RejectRatioError(
          `${src}: ${converted.rejected} of ${total} records rejected (${(ratio * 100).toFixed(2)}%), above --max-reject-ratio ${max}; nothing written; the records and reasons are in ${rejectsUrl ?? '(rejects)'}`,
          { src },
        );
      }

      // 4. Outputs, in parallel: the Parquet file as it is, Avro encoded from it by the worker pool.
      const avroFacts = formats.includes('avro')
        ? {
            precision: await this.#engine.timestampPrecision(parquetPath, converted.columns),
            blocks: await this.#engine.rowGroups(parquetPath),
          }
        : { precision: [], blocks: [] };
      t = performance.now();
      const outputs: Partial<Record<OutputFormat, string>> = {};
      await Promise.all(
        formats.map(async (f) => {
          const key = keys.outputs[f] as string;
          const t1 = performance.now();
          if (f === 'parquet') {
            await uploadBody(o.s3, outBucket, key, parquetPath, 'application/vnd.apache.parquet', o.signal);
          } else {
            const pool = this.#pool as AvroPool;
            const body = pool.encode({
              parquetPath,
              columns: converted.columns,
              precision: avroFacts.precision,
              blocks: avroFacts.blocks,
              rows: converted.rows,
              codec: o.avroCodec ?? 'snappy',
              ...(o.signal ? { signal: o.signal } : {}),
            });
            await uploadBody(o.s3, outBucket, key, body, 'application/avro', o.signal);
          }
          timings[`${f}UploadMs`] = ms(t1);
          outputs[f] = `s3://${outBucket}/${key}`;
        }),
      );
      timings['totalMs'] = ms(t0);
      log.info({
        event: 'convert_file_done',
        rows: converted.rows,
        rejected: converted.rejected,
        durationMs: timings['totalMs'],
      });
      return { ...base, ...result, status: 'converted', outputs, timingsMs: timings };
    } catch (e: unknown) {
      // Interrupted: the run stops with the signal's reason, whatever the step reported.
      if (o.signal?.aborted) throw o.signal.reason instanceof Error ? o.signal.reason : e;
      timings['totalMs'] = ms(t0);
      this.progress.failed += 1;
      const error = errorMessage(e);
      log.error({ event: 'convert_file_failed', err: error });
      return {
        ...base,
        ...result,
        status: 'failed',
        timingsMs: timings,
        error,
        ...(e instanceof ConvertError && e.code === 'CONVERT_NOT_FOUND' ? { notFound: true } : {}),
      };
    } finally {
      this.progress.files += 1;
      if (workDir) await rm(workDir, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

/** Output keys remembered for the collision check (about 100 bytes each). */
const MAX_CLAIMED_OUTPUTS = 100_000;

/** Fail early when the spool's file system has less than twice the object's size free. */
async function checkDisk(dir: string, size: number, src: string): Promise<void> {
  const s = await statfs(dir);
  const free = s.bavail * s.bsize;
  if (free < size * 2) {
    throw new ConvertError(
      `${src}: ${size} bytes need about ${size * 2} bytes of spool space in ${dir}; ${free} are free (use --spool-dir)`,
      { src, code: 'CONVERT_DISK' },
    );
  }
}

/** The first record of the spool file, split into fields. */
async function readHeader(path: string, dialect: CsvDialect, src: string): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(HEADER_PROBE_BYTES);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    if (bytesRead === 0)
      throw new ConvertError(`${src} is empty (no header record)`, { src, code: 'CONVERT_EMPTY' });
    let text = buf.subarray(0, bytesRead).toString('utf8');
    if (bytesRead < buf.length) text += '\n'; // the whole file: a last line without a line break is a record
    const fields = parseFirstRecord(text, dialect);
    if (!fields)
      throw new ConvertError(`${src}: the first record is longer than ${HEADER_PROBE_BYTES} bytes`, { src });
    return fields;
  } finally {
    await fh.close();
  }
}
