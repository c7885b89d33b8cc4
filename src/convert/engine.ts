/**
 * The CSV engine: one DuckDB instance that infers types over the whole file, writes Parquet and collects
 * rejected records. Works on local files only (DuckDB cannot read S3 here: no httpfs); the S3 side is in
 * `s3.ts`.
 */
import { DuckDBInstance, type DuckDBConnection } from '@duckdb/node-api';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { errorMessage } from '../core/errors.js';
import { ConvertError } from './errors.js';
import { fitsIn, type TimestampPrecision } from './schema.js';
import { ident, lit, readCsv, sniffCsv } from './sql.js';
import {
  DEFAULT_DIALECT,
  DUCKDB_TYPE,
  type Column,
  type ColumnType,
  type CsvDialect,
  type ParquetCodec,
} from './types.js';

/** Settings of the engine. */
export interface EngineOptions {
  /** DuckDB's memory limit (it spills to `tempDir` beyond it). @defaultValue 512 */
  readonly memoryLimitMiB?: number;
  /** DuckDB threads. @defaultValue the machine's cores */
  readonly threads?: number;
  /** Where DuckDB spills. */
  readonly tempDir: string;
}

/** One CSV to convert. */
export interface CsvJob {
  /** The decompressed CSV on local disk. */
  readonly csvPath: string;
  /** A private directory for this file's intermediate files. */
  readonly workDir: string;
  readonly dialect: CsvDialect;
  /** Column names (from the header, or `column1..N`). */
  readonly names: readonly string[];
  /** Declared types in header order; inferred over the whole file when absent. */
  readonly declared?: readonly Column[];
  /** Where to write the Parquet file. */
  readonly parquetPath: string;
  readonly parquetCodec: ParquetCodec;
  /** Aborting interrupts DuckDB's running query. */
  readonly signal?: AbortSignal;
}

/** What the engine produced for one CSV. */
export interface CsvJobResult {
  readonly columns: readonly Column[];
  /** Records written to the Parquet file. */
  readonly rows: number;
  /** Rejected records (each once). */
  readonly rejected: number;
  /** A CSV of the rejected records (`line,record,error_type,column,message,raw`), when there are any. */
  readonly rejectsPath?: string;
  /** True when the file had malformed records and was first copied without them (see docs/CONVERT.md). */
  readonly cleaned: boolean;
  readonly timingsMs: Readonly<Record<string, number>>;
}

const FROM_DUCKDB: Readonly<Record<string, ColumnType>> = {
  BOOLEAN: 'boolean',
  BIGINT: 'integer',
  DOUBLE: 'float',
  DATE: 'date',
  TIMESTAMP: 'timestamp',
  VARCHAR: 'string',
};

/** A strict test that a VARCHAR value `v` is a value of `type` (used for declared columns only). */
function strictPredicate(v: string, type: ColumnType): string {
  switch (type) {
    case 'integer':
      return `regexp_full_match(${v}, '\\s*[+-]?[0-9]+\\s*') AND TRY_CAST(${v} AS BIGINT) IS NOT NULL`;
    case 'float':
      return `TRY_CAST(${v} AS DOUBLE) IS NOT NULL`;
    case 'boolean':
      return `TRY_CAST(${v} AS BOOLEAN) IS NOT NULL`;
    case 'date':
      return `regexp_full_match(${v}, '\\s*[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}\\s*') AND TRY_CAST(${v} AS DATE) IS NOT NULL`;
    case 'timestamp':
      return `TRY_CAST(${v} AS TIMESTAMP) IS NOT NULL AND TRY_CAST(${v} AS TIMESTAMP) = CAST(TRY_CAST(${v} AS TIMESTAMPTZ) AS TIMESTAMP)`;
    case 'string':
      return 'true';
  }
}

function elapsed(t0: number): number {
  return Math.round(performance.now() - t0);
}

/**
 * One DuckDB instance for the process: files share its memory limit and threads (each file gets its own
 * connection).
 */
export class CsvEngine {
  readonly #db: DuckDBInstance;

  private constructor(db: DuckDBInstance) {
    this.#db = db;
  }

  /** Open the engine (an in-memory DuckDB that spills to `tempDir`). */
  static async open(o: EngineOptions): Promise<CsvEngine> {
    const db = await DuckDBInstance.create(':memory:', {
      memory_limit: `${o.memoryLimitMiB ?? 512}MB`,
      ...(o.threads ? { threads: String(o.threads) } : {}),
      temp_directory: o.tempDir,
      // No extension may be downloaded (and none is needed: parquet and icu are built in).
      autoinstall_known_extensions: 'false',
    });
    return new CsvEngine(db);
  }

  /** Close the instance (after every job finished). */
  close(): void {
    this.#db.closeSync();
  }

  /**
   * Convert one CSV to Parquet: infer the types over the whole file (or take the declared ones), write
   * the rows that parse, collect the records that do not. See docs/CONVERT.md for the rules.
   *
   * @throws ConvertError when DuckDB cannot read the file at all
   */
  async convert(job: CsvJob): Promise<CsvJobResult> {
    const conn = await this.#db.connect();
    const interrupt = () => {
      conn.interrupt();
    };
    job.signal?.addEventListener('abort', interrupt, { once: true });
    const tag = randomBytes(6).toString('hex');
    const rejectsTables: string[] = [];
    const timings: Record<string, number> = {};
    try {
      await conn.run(`SET TimeZone = 'UTC'`);
      let source = job.csvPath;
      let dialect = job.dialect;
      let cleaned = false;

      // 1. Types over the whole file. DuckDB's sniffer refuses a file with malformed records; then the
      //    well-formed records are first copied to a clean CSV (the malformed ones become rejects, with
      //    their line numbers in the input) and the clean copy is sniffed and converted.
      let t0 = performance.now();
      // 0. Speculation (inferred types only): the whole-file inference and a conversion with the types of
      //    the first rows run at the same time; when the whole file agrees, that conversion is the result.
      const spec = job.declared ? undefined : await this.#speculate(conn, job, tag);
      if (spec?.rows !== undefined) {
        rejectsTables.push(spec.rejectsTable);
        timings['inferAndParquetMs'] = elapsed(t0);
        return await this.#finish(conn, job, rejectsTables, {
          columns: spec.sniffed.types.map((t, i) => ({ name: job.names[i] as string, type: t })),
          rows: spec.rows,
          cleaned: false,
          timings,
        });
      }
      let sniffed: Sniffed;
      try {
        if (spec?.full instanceof Error) throw spec.full;
        sniffed = spec?.full ?? (await sniff(conn, source, dialect, job.names));
      } catch (e: unknown) {
        // Only a file DuckDB finds malformed is cleaned; anything else (out of memory, I/O) fails the file.
        if (!isMalformed(e)) throw new ConvertError(`cannot read the CSV: ${errorMessage(e)}`, { cause: e });
        const cleanPath = join(job.workDir, 'clean.csv');
        const table = `rejects_clean_${tag}`;
        rejectsTables.push(table);
        const all = job.names.map((n) => [n, 'VARCHAR'] as const);
        try {
          await conn.run(
            `COPY (SELECT * FROM ${readCsv({ path: source, dialect, columns: all, rejectsTable: table, rejectsScan: `scan_clean_${tag}` })}) ` +
              `TO ${lit(cleanPath)} (FORMAT csv, HEADER true, DELIMITER ',', QUOTE '"', ESCAPE '"')`,
          );
        } catch (e2: unknown) {
          throw new ConvertError(`cannot read the CSV: ${errorMessage(e2)} (sniffing: ${errorMessage(e)})`, {
            cause: e2,
          });
        }
        source = cleanPath;
        dialect = DEFAULT_DIALECT;
        cleaned = true;
        timings['cleanMs'] = elapsed(t0);
        t0 = performance.now();
        sniffed = await sniff(conn, source, dialect, job.names);
      }
      timings['inferMs'] = elapsed(t0);

      // 2. The column types, and which declared columns have values that break their type.
      const columns: Column[] = job.declared
        ? [...job.declared]
        : sniffed.types.map((t, i) => ({ name: job.names[i] as string, type: t }));
      const strict = new Set<number>();
      columns.forEach((c, i) => {
        const seen = sniffed.types[i] ?? 'string';
        if (!fitsIn(seen, c.type)) strict.add(i);
      });

      // 3. Records whose declared values break their type: rejected, by record number (their line is not
      //    known to DuckDB at this point).
      const readTable = `rejects_read_${tag}`;
      rejectsTables.push(readTable);
      const readerColumns = columns.map(
        (c, i) => [c.name, strict.has(i) ? 'VARCHAR' : DUCKDB_TYPE[c.type]] as const,
      );
      const useFormats = (t: ColumnType) =>
        columns.some((c, i) => c.type === t && !strict.has(i) && sniffed.types[i] === t);
      const src = readCsv({
        path: source,
        dialect,
        columns: readerColumns,
        rejectsTable: readTable,
        rejectsScan: `scan_read_${tag}`,
        dateFormat: useFormats('date') ? sniffed.dateFormat : null,
        timestampFormat: useFormats('timestamp') ? sniffed.timestampFormat : null,
      });
      const okOf = (i: number) => {
        const c = columns[i] as Column;
        return `(${ident(c.name)} IS NULL OR (${strictPredicate(ident(c.name), c.type)}))`;
      };
      const strictList = [...strict];
      const typeViolations = `type_violations_${tag}`;
      if (strictList.length > 0) {
        t0 = performance.now();
        const cases = strictList
          .map((i) => `WHEN NOT ${okOf(i)} THEN ${lit(columns[i]?.name ?? '')}`)
          .join(' ');
        const rawRow = `concat_ws(${lit(dialect.delimiter)}, ${columns.map((c) => `coalesce(CAST(${ident(c.name)} AS VARCHAR), '')`).join(', ')})`;
        await conn.run(
          `CREATE TEMP TABLE ${typeViolations} AS SELECT record, col, raw FROM (` +
            `SELECT row_number() OVER () AS record, CASE ${cases} END AS col, ${rawRow} AS raw FROM ${src}) WHERE col IS NOT NULL`,
        );
        timings['validateMs'] = elapsed(t0);
      }

      // 4. Parquet.
      t0 = performance.now();
      const projection = columns
        .map((c, i) =>
          strict.has(i)
            ? `CAST(${ident(c.name)} AS ${DUCKDB_TYPE[c.type]}) AS ${ident(c.name)}`
            : ident(c.name),
        )
        .join(', ');
      const where = strictList.length ? ` WHERE ${strictList.map(okOf).join(' AND ')}` : '';
      const copied = await conn.runAndReadAll(
        `COPY (SELECT ${projection} FROM ${src}${where}) TO ${lit(job.parquetPath)} ` +
          `(FORMAT parquet, COMPRESSION ${job.parquetCodec})`,
      );
      const rows = Number(copied.getRowsJS()[0]?.[0] ?? 0);
      timings['parquetMs'] = elapsed(t0);

      return await this.#finish(conn, job, rejectsTables, {
        columns,
        rows,
        cleaned,
        timings,
        ...(strictList.length > 0 ? { typeViolations } : {}),
      });
    } finally {
      job.signal?.removeEventListener('abort', interrupt);
      for (const t of rejectsTables) await conn.run(`DROP TABLE IF EXISTS ${t}`).catch(() => undefined);
      await conn.run(`DROP TABLE IF EXISTS type_violations_${tag}`).catch(() => undefined);
      conn.closeSync();
    }
  }

  /** Collect the rejects (one line per record, ordered) and the result. */
  async #finish(
    conn: DuckDBConnection,
    job: CsvJob,
    rejectsTables: readonly string[],
    r: {
      columns: Column[];
      rows: number;
      cleaned: boolean;
      timings: Record<string, number>;
      typeViolations?: string;
    },
  ): Promise<CsvJobResult> {
    // DuckDB may report several errors for one record: the first (by column) stands for the record.
    const selects = rejectsTables.map(
      (t) =>
        `SELECT line, NULL::BIGINT AS record, error_type, column_name AS "column", error_message AS message, csv_line AS raw, column_idx FROM ${t}`,
    );
    if (r.typeViolations) {
      selects.push(
        `SELECT NULL::BIGINT AS line, record, 'CAST' AS error_type, col AS "column", 'value does not fit the declared type ' || col AS message, raw, 0 AS column_idx FROM ${r.typeViolations}`,
      );
    }
    const all = `SELECT * FROM (${selects.join(' UNION ALL ')}) QUALIFY row_number() OVER (PARTITION BY coalesce(line, -record) ORDER BY column_idx) = 1`;
    const counted = await conn.runAndReadAll(`SELECT count(*) FROM (${all})`);
    const rejected = Number(counted.getRowsJS()[0]?.[0] ?? 0);
    let rejectsPath: string | undefined;
    if (rejected > 0) {
      rejectsPath = join(job.workDir, 'rejects.csv');
      await conn.run(
        `COPY (SELECT line, record, error_type, "column", message, raw FROM (${all}) ORDER BY line NULLS LAST, record) ` +
          `TO ${lit(rejectsPath)} (FORMAT csv, HEADER true)`,
      );
    }
    return {
      columns: r.columns,
      rows: r.rows,
      rejected,
      ...(rejectsPath ? { rejectsPath } : {}),
      cleaned: r.cleaned,
      timingsMs: r.timings,
    };
  }

  /**
   * Sniff the first {@link SPECULATION_SAMPLE_ROWS} rows, then run the whole-file sniff (its own connection)
   * and a Parquet conversion with the sample's types side by side. The conversion is kept only when the
   * whole file has exactly the sample's types (then every value was read with the type the whole-file
   * inference chose, as the plain path would); otherwise it is discarded (its Parquet file is overwritten)
   * and the caller converts again with the whole-file types, or cleans the file when the sniff found it
   * malformed.
   */
  async #speculate(
    conn: DuckDBConnection,
    job: CsvJob,
    tag: string,
  ): Promise<{ sniffed: Sniffed; rows?: number; rejectsTable: string; full?: Sniffed | Error } | undefined> {
    let quick: Sniffed;
    try {
      quick = await sniff(conn, job.csvPath, job.dialect, job.names, SPECULATION_SAMPLE_ROWS);
    } catch {
      return undefined; // malformed within the sample: the plain path cleans the file
    }
    const rejectsTable = `rejects_spec_${tag}`;
    const conn2 = await this.#db.connect();
    const interrupt = () => {
      conn2.interrupt();
    };
    job.signal?.addEventListener('abort', interrupt, { once: true });
    const full = sniff(conn2, job.csvPath, job.dialect, job.names).finally(() => {
      job.signal?.removeEventListener('abort', interrupt);
      conn2.closeSync();
    });
    const src = readCsv({
      path: job.csvPath,
      dialect: job.dialect,
      columns: job.names.map((n, i) => [n, DUCKDB_TYPE[quick.types[i] ?? 'string']] as const),
      rejectsTable,
      rejectsScan: `scan_spec_${tag}`,
      dateFormat: quick.types.includes('date') ? quick.dateFormat : null,
      timestampFormat: quick.types.includes('timestamp') ? quick.timestampFormat : null,
    });
    const copy = conn.runAndReadAll(
      `COPY (SELECT * FROM ${src}) TO ${lit(job.parquetPath)} (FORMAT parquet, COMPRESSION ${job.parquetCodec})`,
    );
    const [f, c] = await Promise.allSettled([full, copy]);
    const fullResult =
      f.status === 'fulfilled' ? f.value : f.reason instanceof Error ? f.reason : new Error(String(f.reason));
    if (f.status === 'fulfilled' && c.status === 'fulfilled' && sameSniff(f.value, quick)) {
      return {
        sniffed: f.value,
        rows: Number(c.value.getRowsJS()[0]?.[0] ?? 0),
        rejectsTable,
        full: f.value,
      };
    }
    await conn.run(`DROP TABLE IF EXISTS ${rejectsTable}`).catch(() => undefined);
    return { sniffed: quick, rejectsTable, full: fullResult };
  }

  /**
   * Rows per row group of a Parquet file, in file order. The Avro encoder makes one block per row group:
   * a block then reads each row group once.
   */
  async rowGroups(parquetPath: string): Promise<number[]> {
    const conn = await this.#db.connect();
    try {
      const r = await conn.runAndReadAll(
        `SELECT any_value(row_group_num_rows) FROM parquet_metadata(${lit(parquetPath)}) GROUP BY row_group_id ORDER BY row_group_id`,
      );
      return r.getRowsJS().map((row) => Number(row[0]));
    } finally {
      conn.closeSync();
    }
  }

  /**
   * The Avro timestamp precision of each column of a Parquet file: `millis`, unless a value of the column has
   * sub-millisecond digits (then `micros`, so nothing is truncated).
   */
  async timestampPrecision(parquetPath: string, columns: readonly Column[]): Promise<TimestampPrecision[]> {
    const precision: TimestampPrecision[] = columns.map(() => 'millis');
    const checks = columns.flatMap((c, i) =>
      c.type === 'timestamp'
        ? [`coalesce(bool_or(epoch_us(${ident(c.name)}) % 1000 <> 0), false) AS "us${i}"`]
        : [],
    );
    if (checks.length === 0) return precision;
    const conn = await this.#db.connect();
    try {
      const r = await conn.runAndReadAll(
        `SELECT ${checks.join(', ')} FROM read_parquet(${lit(parquetPath)})`,
      );
      const row = r.getRowObjectsJS()[0] ?? {};
      columns.forEach((_, i) => {
        if (row[`us${i}`] === true) precision[i] = 'micros';
      });
      return precision;
    } finally {
      conn.closeSync();
    }
  }
}

/** Rows the speculative conversion takes its types from (DuckDB's default sniffing sample). */
export const SPECULATION_SAMPLE_ROWS = 20_480;

function sameSniff(a: Sniffed, b: Sniffed): boolean {
  return (
    a.types.length === b.types.length &&
    a.types.every((t, i) => t === b.types[i]) &&
    a.dateFormat === b.dateFormat &&
    a.timestampFormat === b.timestampFormat
  );
}

/** DuckDB's sniffer refuses files with malformed records with an "Invalid Input Error". */
function isMalformed(e: unknown): boolean {
  return e instanceof ConvertError || /^Invalid Input Error/.test(errorMessage(e));
}

/**
 * Is this sniffed format ISO 8601, which DuckDB's default parser reads anyway? Then it is not passed to the
 * reader: its strptime path is slower (measured 6.2 s instead of 5.3 s for 10M rows).
 */
function isoFormat(f: string | null): boolean {
  return !f || /^%Y-%m-%d([ T]%H:%M(:%S(\.%f|\.%g|\.%n)?)?)?$/.test(f);
}

interface Sniffed {
  readonly types: ColumnType[];
  readonly dateFormat: string | null;
  readonly timestampFormat: string | null;
}

async function sniff(
  conn: DuckDBConnection,
  path: string,
  dialect: CsvDialect,
  names: readonly string[],
  sampleSize = -1,
): Promise<Sniffed> {
  const r = await conn.runAndReadAll(sniffCsv(path, dialect, names, sampleSize));
  const row = r.getRowObjectsJS()[0] as
    | { Columns: { name: string; type: string }[]; DateFormat: string | null; TimestampFormat: string | null }
    | undefined;
  if (!row || row.Columns.length !== names.length) {
    throw new ConvertError(
      `sniffing found ${row?.Columns.length ?? 0} columns, the header has ${names.length}`,
    );
  }
  return {
    types: row.Columns.map((c) => FROM_DUCKDB[c.type] ?? 'string'),
    dateFormat: isoFormat(row.DateFormat) ? null : row.DateFormat,
    timestampFormat: isoFormat(row.TimestampFormat) ? null : row.TimestampFormat,
  };
}
