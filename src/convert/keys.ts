/**
 * Key mapping for `baler convert`: which keys are inputs, where each output goes, and the recursion guard.
 * Pure functions; keys are data (spaces, `+`, `%`, unicode, `//` are kept as they are), never paths.
 */
import { InputCompression, type OutputFormat } from './types.js';

/** Input suffixes, longest first, and the compression each implies. */
const CSV_SUFFIXES: readonly (readonly [string, InputCompression])[] = [
  ['.csv.gz', InputCompression.gzip],
  ['.csv.zst', InputCompression.zstd],
  ['.csv', InputCompression.none],
];

/** The folder under the output prefix that holds rejected records. */
export const REJECTS_FOLDER = '_rejects/';

/** File extension per output format. */
export const OUTPUT_EXTENSION: Readonly<Record<OutputFormat, string>> = {
  parquet: '.parquet',
  avro: '.avro',
};

/**
 * How a key is compressed, or `undefined` when it is not a CSV input (`.csv`, `.csv.gz`, `.csv.zst`; the
 * suffix is matched case-insensitively).
 *
 * @example
 * csvCompression('in/a.CSV.gz'); // 'gzip'
 * csvCompression('in/a.parquet'); // undefined
 */
export function csvCompression(key: string): InputCompression | undefined {
  const lower = key.toLowerCase();
  for (const [suffix, compression] of CSV_SUFFIXES) {
    if (lower.endsWith(suffix) && key.length > suffix.length && !key.endsWith('/')) return compression;
  }
  return undefined;
}

/**
 * A prefix as a folder: empty stays empty (the whole bucket), anything else ends with one `/`, so `data`
 * and `data/` both mean the keys under `data/` (as `aws s3 cp --recursive` reads them).
 *
 * @example
 * folderPrefix('data'); // 'data/'
 * folderPrefix(''); // ''
 */
export function folderPrefix(prefix: string): string {
  if (prefix === '') return '';
  return prefix.endsWith('/') ? prefix : `${prefix}/`;
}

/** The key without its CSV suffix (`a/b.csv.gz` -> `a/b`); the key itself when it has none. */
export function stripCsvSuffix(key: string): string {
  const lower = key.toLowerCase();
  for (const [suffix] of CSV_SUFFIXES) if (lower.endsWith(suffix)) return key.slice(0, -suffix.length);
  return key;
}

/**
 * The key relative to the input folder, or `undefined` when the key is not under it. A plain prefix
 * slice, not a string replace: only the leading prefix is removed, and an empty prefix keeps the key.
 *
 * @example
 * relativeKey('in/x/in/a.csv', 'in/'); // 'x/in/a.csv'
 * relativeKey('a.csv', ''); // 'a.csv'
 */
export function relativeKey(key: string, inputFolder: string): string | undefined {
  if (!key.startsWith(inputFolder)) return undefined;
  const rel = key.slice(inputFolder.length);
  return rel === '' ? undefined : rel;
}

/** Where the outputs of one input go. */
export interface OutputKeys {
  readonly relative: string;
  readonly outputs: Readonly<Partial<Record<OutputFormat, string>>>;
  readonly rejects: string;
}

/**
 * Output keys of an input: `{outputFolder}{relative key without .csv[.gz|.zst]}{.parquet|.avro}`, and the
 * rejects at `{outputFolder}_rejects/{relative key without .csv[.gz|.zst]}.csv`.
 *
 * @example
 * outputKeys('in/2024/a b+c.csv.gz', 'in/', 'out/', ['parquet']);
 * // { relative: '2024/a b+c.csv.gz', outputs: { parquet: 'out/2024/a b+c.parquet' }, rejects: 'out/_rejects/2024/a b+c.csv' }
 */
export function outputKeys(
  key: string,
  inputFolder: string,
  outputFolder: string,
  formats: readonly OutputFormat[],
): OutputKeys | undefined {
  const relative = relativeKey(key, inputFolder);
  if (relative === undefined) return undefined;
  const stem = stripCsvSuffix(relative);
  const outputs: Partial<Record<OutputFormat, string>> = {};
  for (const f of formats) outputs[f] = `${outputFolder}${stem}${OUTPUT_EXTENSION[f]}`;
  return { relative, outputs, rejects: `${outputFolder}${REJECTS_FOLDER}${stem}.csv` };
}

/** Where a run reads and writes. Prefixes are folders ({@link folderPrefix}). */
export interface ConvertLocation {
  readonly inputBucket: string;
  readonly inputFolder: string;
  readonly outputBucket: string;
  readonly outputFolder: string;
}

/** Why a key is not converted (or `undefined` when it is). */
export type SkipReason = 'not-csv' | 'outside-input-prefix' | 'own-output' | 'other-bucket';

/**
 * The recursion guard and input filter: a key is converted only when it is in the input bucket, under the
 * input folder, ends in `.csv`/`.csv.gz`/`.csv.zst`, and is not one of our own outputs. Our outputs end in
 * `.parquet`/`.avro` (never inputs) except the rejects, which are CSV: so when input and output share a
 * bucket, everything under `{outputFolder}_rejects/` is skipped.
 *
 * @example
 * skipReason({ inputBucket: 'b', inputFolder: '', outputBucket: 'b', outputFolder: 'out/' }, 'b', 'out/_rejects/a.csv'); // 'own-output'
 */
export function skipReason(loc: ConvertLocation, bucket: string, key: string): SkipReason | undefined {
  if (bucket !== loc.inputBucket) return 'other-bucket';
  if (relativeKey(key, loc.inputFolder) === undefined) return 'outside-input-prefix';
  if (csvCompression(key) === undefined) return 'not-csv';
  if (loc.inputBucket === loc.outputBucket && key.startsWith(`${loc.outputFolder}${REJECTS_FOLDER}`)) {
    return 'own-output';
  }
  return undefined;
}
