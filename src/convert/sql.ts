/** SQL text for DuckDB: quoting and the `read_csv` call. Pure. */
import type { CsvDialect } from './types.js';

/** A SQL string literal. */
export function lit(s: string): string {
  return `'${s.replace(/'/g, "''")}'`;
}

/** A SQL identifier. */
export function ident(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** Options of one `read_csv` call. */
export interface ReadCsvOptions {
  readonly path: string;
  readonly dialect: CsvDialect;
  /** Column name -> DuckDB type, in file order. */
  readonly columns: readonly (readonly [string, string])[];
  /** Table names for DuckDB's `store_rejects`. */
  readonly rejectsTable: string;
  readonly rejectsScan: string;
  readonly dateFormat?: string | null;
  readonly timestampFormat?: string | null;
}

/**
 * `read_csv(...)` with auto-detection off: the dialect and the columns are given, so a record with too few
 * or too many fields, or with bad quoting, is rejected (`store_rejects`) instead of being folded into
 * other columns. An empty unquoted field is NULL.
 */
export function readCsv(o: ReadCsvOptions): string {
  const cols = o.columns.map(([n, t]) => `${lit(n)}: ${lit(t)}`).join(', ');
  const parts = [
    lit(o.path),
    'auto_detect = false',
    `header = ${o.dialect.header}`,
    `delim = ${lit(o.dialect.delimiter)}`,
    `quote = ${lit(o.dialect.quote)}`,
    `escape = ${lit(o.dialect.escape)}`,
    `columns = {${cols}}`,
    'store_rejects = true',
    `rejects_table = ${lit(o.rejectsTable)}`,
    `rejects_scan = ${lit(o.rejectsScan)}`,
  ];
  if (o.dateFormat) parts.push(`dateformat = ${lit(o.dateFormat)}`);
  if (o.timestampFormat) parts.push(`timestampformat = ${lit(o.timestampFormat)}`);
  return `read_csv(${parts.join(', ')})`;
}

/** The types the sniffer may choose from, narrowest first (see docs/CONVERT.md, "Types"). */
export const TYPE_CANDIDATES = "['BOOLEAN', 'BIGINT', 'DOUBLE', 'DATE', 'TIMESTAMP', 'VARCHAR']";

/** `sniff_csv` over the whole file (`sample_size = -1`, or that many rows) with the dialect and names given. */
export function sniffCsv(
  path: string,
  dialect: CsvDialect,
  names: readonly string[],
  sampleSize = -1,
): string {
  return (
    `SELECT Columns, DateFormat, TimestampFormat FROM sniff_csv(${lit(path)}, sample_size = ${sampleSize}, ` +
    `header = ${dialect.header}, delim = ${lit(dialect.delimiter)}, quote = ${lit(dialect.quote)}, ` +
    `escape = ${lit(dialect.escape)}, names = [${names.map(lit).join(', ')}], ` +
    `auto_type_candidates = ${TYPE_CANDIDATES})`
  );
}
