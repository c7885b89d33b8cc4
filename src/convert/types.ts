/** Output formats `baler convert` writes. */
export const OutputFormat = { parquet: 'parquet', avro: 'avro' } as const;
export type OutputFormat = (typeof OutputFormat)[keyof typeof OutputFormat];

/** Parquet compression codecs (DuckDB's writer). */
export const ParquetCodec = { snappy: 'snappy', zstd: 'zstd', uncompressed: 'uncompressed' } as const;
export type ParquetCodec = (typeof ParquetCodec)[keyof typeof ParquetCodec];

/** Avro container codecs (the Avro 1.11 specification's `avro.codec`). */
export const AvroCodec = { snappy: 'snappy', deflate: 'deflate', null: 'null' } as const;
export type AvroCodec = (typeof AvroCodec)[keyof typeof AvroCodec];

/**
 * Column types a converted file can have. Every column is nullable (an empty field is a null).
 * The DuckDB type each one is read as is {@link DUCKDB_TYPE}; the Avro type is in `schema.ts`.
 */
export const ColumnType = {
  boolean: 'boolean',
  integer: 'integer',
  float: 'float',
  date: 'date',
  timestamp: 'timestamp',
  string: 'string',
} as const;
export type ColumnType = (typeof ColumnType)[keyof typeof ColumnType];

/** DuckDB type per column type (integers are 64-bit, floats IEEE doubles, timestamps without zone). */
export const DUCKDB_TYPE: Readonly<Record<ColumnType, string>> = {
  boolean: 'BOOLEAN',
  integer: 'BIGINT',
  float: 'DOUBLE',
  date: 'DATE',
  timestamp: 'TIMESTAMP',
  string: 'VARCHAR',
};

/** One column of a file: its header name and type. */
export interface Column {
  readonly name: string;
  readonly type: ColumnType;
}

/** How a CSV file is split into records and fields. */
export interface CsvDialect {
  /** Field separator (one character). @defaultValue `,` */
  readonly delimiter: string;
  /** Quote character. @defaultValue `"` */
  readonly quote: string;
  /** Escape for a quote inside a quoted field; RFC 4180 doubles the quote. @defaultValue same as `quote` */
  readonly escape: string;
  /** Whether the first record holds the column names. @defaultValue true */
  readonly header: boolean;
}

/** The RFC 4180 dialect with a header row. */
export const DEFAULT_DIALECT: CsvDialect = { delimiter: ',', quote: '"', escape: '"', header: true };

/** How an input object is compressed, from its key's suffix. */
export const InputCompression = { none: 'none', gzip: 'gzip', zstd: 'zstd' } as const;
export type InputCompression = (typeof InputCompression)[keyof typeof InputCompression];

/** One rejected record, as written to `_rejects/{file}.csv`. */
export interface RejectRecord {
  /** 1-based line in the (decompressed) input where the record starts; the header is line 1. */
  readonly line: number;
  /** DuckDB's error class: `MISSING COLUMNS`, `TOO MANY COLUMNS`, `UNQUOTED VALUE`, `CAST`, ... */
  readonly errorType: string;
  /** The column the error was found in, when known. */
  readonly column: string | null;
  readonly message: string;
  /** The raw text of the record. */
  readonly raw: string;
}

/** What happened to one input file. */
export interface FileResult {
  readonly bucket: string;
  readonly key: string;
  readonly status: 'converted' | 'failed' | 'skipped';
  /** Records written to every output. */
  readonly rows: number;
  /** Records rejected (each counted once, however many errors it had). */
  readonly rejected: number;
  /** Bytes of the input object (as stored, compressed or not). */
  readonly inputBytes: number;
  /** s3:// URLs of the outputs written, by format. */
  readonly outputs: Partial<Record<OutputFormat, string>>;
  /** s3:// URL of the rejects file, when records were rejected. */
  readonly rejectsUrl?: string;
  readonly columns?: readonly Column[];
  /** Wall time per step, milliseconds. */
  readonly timingsMs: Readonly<Record<string, number>>;
  /** Why it failed or was skipped. */
  readonly error?: string;
  /** The input no longer exists (a worker does not retry such a file). */
  readonly notFound?: boolean;
}

/** Totals over a run. */
export interface ConvertStats {
  files: number;
  converted: number;
  failed: number;
  skipped: number;
  /** Rows written (converted files only). */
  rows: number;
  rejected: number;
  inputBytes: number;
  durationMs: number;
}
