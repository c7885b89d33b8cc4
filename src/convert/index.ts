/**
 * `baler convert`: CSV in S3 to Parquet and Avro (docs/CONVERT.md). DuckDB reads the CSV from a local
 * spool (types inferred over the whole file, malformed records rejected with their line numbers) and
 * writes Parquet; Avro blocks are encoded from the Parquet file in worker threads; outputs go to S3 by
 * multipart upload.
 */
export {
  AvroPool,
  DEFAULT_ROWS_PER_BLOCK,
  avroHeader,
  type AvroFileJob,
  type AvroPoolOptions,
} from './avro.js';
export { Converter, summarize, type ConvertProgress, type ConverterOptions } from './converter.js';
export { encodeChunk, type AvroFieldKind, type ByteSink, type ChunkBindings } from './avroEncode.js';
export { columnNames, parseFirstRecord, validateDialect } from './dialect.js';
export { CsvEngine, type CsvJob, type CsvJobResult, type EngineOptions } from './engine.js';
export { ConvertError, RejectRatioError, SchemaError } from './errors.js';
export { parseConvertEvent, type ConvertRequest } from './events.js';
export {
  OUTPUT_EXTENSION,
  REJECTS_FOLDER,
  csvCompression,
  folderPrefix,
  outputKeys,
  relativeKey,
  skipReason,
  stripCsvSuffix,
  type ConvertLocation,
  type OutputKeys,
  type SkipReason,
} from './keys.js';
export { runQueueWorker, type QueueWorkerOptions, type QueueWorkerReport } from './queueWorker.js';
export { downloadCsv, listCsvObjects, uploadBody, type InputObject, type Spooled } from './s3.js';
export {
  applyDeclaredSchema,
  avroFieldNames,
  avroSchema,
  fitsIn,
  parseDeclaredSchema,
  type DeclaredSchema,
  type TimestampPrecision,
} from './schema.js';
export {
  AvroCodec,
  ColumnType,
  DEFAULT_DIALECT,
  DUCKDB_TYPE,
  InputCompression,
  OutputFormat,
  ParquetCodec,
  type Column,
  type ConvertStats,
  type CsvDialect,
  type FileResult,
  type RejectRecord,
} from './types.js';
