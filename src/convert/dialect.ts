/**
 * The CSV dialect and the header record. Records are parsed by DuckDB; this file only reads the first
 * record (the column names), which DuckDB needs to be told up front so that ragged rows are rejected
 * instead of being folded into fewer columns.
 */
import { ConvertError } from './errors.js';
import { DEFAULT_DIALECT, type CsvDialect } from './types.js';

/** The UTF-8 byte order mark, dropped from the start of the header. */
const BOM = '\uFEFF';

/**
 * Check a dialect: one-character delimiter, quote and escape; the delimiter differs from the quote and is
 * not a line break.
 *
 * @throws ConvertError naming the field and the value received
 * @example
 * validateDialect({ ...DEFAULT_DIALECT, delimiter: '\t' }); // ok
 */
export function validateDialect(d: CsvDialect): CsvDialect {
  for (const [name, value] of [
    ['delimiter', d.delimiter],
    ['quote', d.quote],
    ['escape', d.escape],
  ] as const) {
    if (value.length !== 1) {
      throw new ConvertError(`${name} must be exactly one character, got ${JSON.stringify(value)}`, {
        code: 'CONVERT_DIALECT',
      });
    }
  }
  if (d.delimiter === d.quote || d.delimiter === '\n' || d.delimiter === '\r') {
    throw new ConvertError(
      `delimiter ${JSON.stringify(d.delimiter)} must differ from the quote and from line breaks`,
      { code: 'CONVERT_DIALECT' },
    );
  }
  return d;
}

/**
 * Split the first record of `text` into fields (RFC 4180 with the dialect's quote and escape), or
 * `undefined` when `text` ends before the record does (a header longer than the bytes given).
 *
 * @example
 * parseFirstRecord('id,"a ""b"", c"\n1,2\n', DEFAULT_DIALECT); // ['id', 'a "b", c']
 */
export function parseFirstRecord(text: string, d: CsvDialect = DEFAULT_DIALECT): string[] | undefined {
  const s = text.startsWith(BOM) ? text.slice(1) : text;
  const fields: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < s.length) {
    const ch = s[i] as string;
    if (quoted) {
      if (ch === d.escape && d.escape !== d.quote && i + 1 < s.length && s[i + 1] === d.quote) {
        field += d.quote;
        i += 2;
      } else if (ch === d.quote) {
        if (d.escape === d.quote && s[i + 1] === d.quote) {
          field += d.quote;
          i += 2;
        } else {
          quoted = false;
          i += 1;
        }
      } else {
        field += ch;
        i += 1;
      }
    } else if (ch === d.quote) {
      quoted = true;
      i += 1;
    } else if (ch === d.delimiter) {
      fields.push(field);
      field = '';
      i += 1;
    } else if (ch === '\n' || ch === '\r') {
      fields.push(field);
      return fields;
    } else {
      field += ch;
      i += 1;
    }
  }
  return undefined;
}

/**
 * Column names from the header fields: trimmed; an empty name becomes `column{n}` (1-based position); a
 * repeated name gets `_2`, `_3`, ... Without a header, the names are `column1..columnN`.
 *
 * @example
 * columnNames(['id', '', 'id']); // ['id', 'column2', 'id_2']
 */
export function columnNames(fields: readonly string[], header = true): string[] {
  const seen = new Set<string>();
  return fields.map((f, i) => {
    const base = header && f.trim() !== '' ? f.trim() : `column${i + 1}`;
    let name = base;
    for (let n = 2; seen.has(name.toLowerCase()); n++) name = `${base}_${n}`;
    seen.add(name.toLowerCase());
    return name;
  });
}
