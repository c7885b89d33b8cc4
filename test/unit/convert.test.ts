import { InvalidArgumentError } from 'commander';
import { describe, expect, it } from 'vitest';
import { formatList, ratio } from '../../src/cli/convert.js';
import { lambdaSettings } from '../../src/lambda/convert.js';
import {
  ConvertError,
  DEFAULT_DIALECT,
  SchemaError,
  applyDeclaredSchema,
  avroFieldNames,
  avroSchema,
  columnNames,
  csvCompression,
  fitsIn,
  folderPrefix,
  outputKeys,
  parseConvertEvent,
  parseDeclaredSchema,
  parseFirstRecord,
  relativeKey,
  skipReason,
  validateDialect,
} from '../../src/convert/index.js';
import { buildObjectCreatedRecord, encodeS3EventKey } from '../../src/core/s3Events.js';

describe('Function: csvCompression', () => {
  it.each([
    ['a.csv', 'none'],
    ['dir/a.CSV', 'none'],
    ['a.csv.gz', 'gzip'],
    ['a.csv.zst', 'zstd'],
    ['a.parquet', undefined],
    ['a.csv.bz2', undefined],
    ['.csv', undefined],
    ['dir.csv/', undefined],
    ['a.csvx', undefined],
  ])('%s -> %s', (key, expected) => {
    expect(csvCompression(key)).toBe(expected);
  });
});

describe('Function: outputKeys', () => {
  it('maps the path relative to the input folder under the output folder, with the new extension', () => {
    expect(outputKeys('in/2024/a b+c%ü.csv.gz', 'in/', 'out/', ['parquet', 'avro'])).toEqual({
      relative: '2024/a b+c%ü.csv.gz',
      outputs: { parquet: 'out/2024/a b+c%ü.parquet', avro: 'out/2024/a b+c%ü.avro' },
      rejects: 'out/_rejects/2024/a b+c%ü.csv',
    });
  });

  it('works with an empty input prefix (the original str.replace bug)', () => {
    expect(outputKeys('a.csv', '', '', ['parquet'])?.outputs).toEqual({ parquet: 'a.parquet' });
    expect(outputKeys('x/a.csv', '', 'converted/', ['avro'])?.outputs).toEqual({
      avro: 'converted/x/a.avro',
    });
  });

  it('removes only the leading prefix, not later occurrences', () => {
    expect(relativeKey('in/x/in/a.csv', 'in/')).toBe('x/in/a.csv');
    expect(outputKeys('in/in/in.csv', 'in/', 'in/', ['parquet'])?.outputs.parquet).toBe('in/in/in.parquet');
  });

  it('returns undefined outside the input folder', () => {
    expect(outputKeys('other/a.csv', 'in/', 'out/', ['parquet'])).toBeUndefined();
    expect(relativeKey('input/a.csv', 'in/')).toBeUndefined();
  });
});

describe('Function: folderPrefix', () => {
  it('treats a prefix as a folder', () => {
    expect(folderPrefix('')).toBe('');
    expect(folderPrefix('data')).toBe('data/');
    expect(folderPrefix('data/')).toBe('data/');
  });
});

describe('Function: skipReason (recursion guard and filter)', () => {
  const same = { inputBucket: 'b', inputFolder: '', outputBucket: 'b', outputFolder: 'out/' };
  it('skips our rejects when input and output share a bucket, and every non-CSV output', () => {
    expect(skipReason(same, 'b', 'out/_rejects/a.csv')).toBe('own-output');
    expect(skipReason(same, 'b', 'out/a.parquet')).toBe('not-csv');
    expect(skipReason(same, 'b', 'out/a.avro')).toBe('not-csv');
    expect(skipReason(same, 'b', 'a.csv')).toBeUndefined();
    // A user's CSV under the output folder is still data.
    expect(skipReason(same, 'b', 'out/x.csv')).toBeUndefined();
  });
  it('keeps a _rejects folder of another bucket, and skips other buckets and prefixes', () => {
    const other = { ...same, outputBucket: 'c' };
    expect(skipReason(other, 'b', 'out/_rejects/a.csv')).toBeUndefined();
    expect(skipReason(other, 'x', 'a.csv')).toBe('other-bucket');
    expect(skipReason({ ...other, inputFolder: 'in/' }, 'b', 'a.csv')).toBe('outside-input-prefix');
  });
});

describe('Function: parseFirstRecord', () => {
  it('splits quoted fields with doubled quotes, delimiters and line breaks inside', () => {
    expect(parseFirstRecord('id,"a ""b"", c","x\ny"\n1,2,3\n')).toEqual(['id', 'a "b", c', 'x\ny']);
  });
  it('drops a UTF-8 BOM and stops at CRLF', () => {
    expect(parseFirstRecord('\uFEFFa;b\r\n1;2', { ...DEFAULT_DIALECT, delimiter: ';' })).toEqual(['a', 'b']);
  });
  it('handles an escape character other than the quote', () => {
    expect(parseFirstRecord("'it\\'s',b\n", { ...DEFAULT_DIALECT, quote: "'", escape: '\\' })).toEqual([
      "it's",
      'b',
    ]);
  });
  it('returns undefined when the record does not end within the text', () => {
    expect(parseFirstRecord('a,"b\nc')).toBeUndefined();
  });
});

describe('Function: columnNames', () => {
  it('names empty columns by position and renames duplicates', () => {
    expect(columnNames(['id', '', 'ID', ' name '])).toEqual(['id', 'column2', 'ID_2', 'name']);
    expect(columnNames(['x', 'y'], false)).toEqual(['column1', 'column2']);
  });
});

describe('Function: validateDialect', () => {
  it('rejects multi-character and clashing settings with the value received', () => {
    expect(() => validateDialect({ ...DEFAULT_DIALECT, delimiter: ';;' })).toThrow(
      /delimiter must be exactly one character, got ";;"/,
    );
    expect(() => validateDialect({ ...DEFAULT_DIALECT, delimiter: '"' })).toThrow(ConvertError);
  });
});

describe('Function: parseDeclaredSchema / applyDeclaredSchema', () => {
  it('parses a schema and orders it by the header', () => {
    const s = parseDeclaredSchema({
      columns: [
        { name: 'b', type: 'date' },
        { name: 'a', type: 'integer' },
      ],
    });
    expect(applyDeclaredSchema(['a', 'b'], s)).toEqual([
      { name: 'a', type: 'integer' },
      { name: 'b', type: 'date' },
    ]);
  });
  it('names the JSON path of a bad document, and the columns that do not match the header', () => {
    expect(() => parseDeclaredSchema({ columns: [{ name: 'a', type: 'int' }] }, 's.json')).toThrow(
      /s\.json: columns\.0\.type/,
    );
    const s = parseDeclaredSchema({
      columns: [
        { name: 'a', type: 'string' },
        { name: 'z', type: 'string' },
      ],
    });
    expect(() => applyDeclaredSchema(['a', 'b'], s)).toThrow(SchemaError);
    expect(() => applyDeclaredSchema(['a', 'b'], s)).toThrow(/not declared: "b"; not in the header: "z"/);
  });
});

describe('Function: fitsIn (the widening lattice)', () => {
  it('widens integer -> float, date -> timestamp, anything -> string, nothing else', () => {
    expect(fitsIn('integer', 'float')).toBe(true);
    expect(fitsIn('date', 'timestamp')).toBe(true);
    expect(fitsIn('boolean', 'string')).toBe(true);
    expect(fitsIn('float', 'integer')).toBe(false);
    expect(fitsIn('timestamp', 'date')).toBe(false);
    expect(fitsIn('boolean', 'integer')).toBe(false);
  });
});

describe('Function: avroSchema', () => {
  it('makes nullable unions with logical types and valid, unique field names', () => {
    const s = avroSchema(
      [
        { name: 'first name', type: 'string' },
        { name: '1st', type: 'integer' },
        { name: 'first_name', type: 'date' },
        { name: 't', type: 'timestamp' },
        { name: 'u', type: 'timestamp' },
      ],
      ['millis', 'millis', 'millis', 'millis', 'micros'],
    );
    expect(s.fields).toEqual([
      { name: 'first_name', type: ['null', 'string'], default: null, doc: 'first name' },
      { name: '_1st', type: ['null', 'long'], default: null, doc: '1st' },
      {
        name: 'first_name_2',
        type: ['null', { type: 'int', logicalType: 'date' }],
        default: null,
        doc: 'first_name',
      },
      {
        name: 't',
        type: ['null', { type: 'long', logicalType: 'timestamp-millis' }],
        default: null,
        doc: 't',
      },
      {
        name: 'u',
        type: ['null', { type: 'long', logicalType: 'timestamp-micros' }],
        default: null,
        doc: 'u',
      },
    ]);
    expect(avroFieldNames(['é', 'é'])).toEqual(['_', '__2']);
  });
});

describe('Function: parseConvertEvent', () => {
  it('reads an S3 event, decoding keys and keeping only ObjectCreated', () => {
    const rec = (eventName: string, key: string) =>
      buildObjectCreatedRecord({
        eventName,
        bucket: 'b',
        key,
        size: 3,
        eTag: 'e',
        region: 'us-east-1',
        eventTime: new Date(0),
        sequencer: '1',
      });
    const removed = { ...rec('ObjectCreated:Put', 'x.csv'), eventName: 'ObjectRemoved:Delete' };
    const event = { Records: [rec('ObjectCreated:Put', 'a b+ü.csv'), removed] };
    expect(event.Records[0]?.s3.object.key).toBe(encodeS3EventKey('a b+ü.csv'));
    expect(parseConvertEvent(event)).toEqual({
      kind: 'objects',
      objects: [{ bucket: 'b', key: 'a b+ü.csv', size: 3 }],
    });
  });
  it('reads a scheduled event and a direct invocation, and names what it expects otherwise', () => {
    expect(parseConvertEvent({ 'detail-type': 'Scheduled Event', source: 'aws.events' })).toEqual({
      kind: 'scheduled',
    });
    expect(parseConvertEvent({ bucket: 'b' })).toEqual({ kind: 'direct', bucket: 'b', prefix: '' });
    expect(() => parseConvertEvent({ bucket: 'b', prefix: 3 })).toThrow(/prefix must be a string/);
    expect(() => parseConvertEvent([])).toThrow(/expected an S3 event notification/);
  });
});

describe('CLI parsers: --to, --max-reject-ratio', () => {
  it('accept valid values and name the option in errors', () => {
    expect(formatList('avro,parquet,avro')).toEqual(['avro', 'parquet']);
    expect(() => formatList('csv')).toThrow(InvalidArgumentError);
    expect(ratio('--max-reject-ratio')('0.05')).toBe(0.05);
    expect(() => ratio('--max-reject-ratio')('2')).toThrow(/--max-reject-ratio must be within 0\.\.1, got 2/);
  });
});

describe('Function: lambdaSettings (the original environment variables)', () => {
  it('reads INPUT_BUCKET, OUTPUT_BUCKET, PREFIX, MAX_WORKERS with defaults', () => {
    expect(lambdaSettings({ INPUT_BUCKET: 'in', PREFIX: 'raw/', MAX_WORKERS: '4' })).toEqual({
      inputBucket: 'in',
      outputBucket: 'in',
      prefix: 'raw/',
      outputPrefix: '',
      workers: 4,
      formats: ['parquet', 'avro'],
      maxRejectRatio: 0,
    });
  });
  it('names the variable and the value in errors', () => {
    expect(() => lambdaSettings({})).toThrow(/INPUT_BUCKET must be set/);
    expect(() => lambdaSettings({ INPUT_BUCKET: 'in', MAX_WORKERS: '0' })).toThrow(
      /MAX_WORKERS must be an integer ≥ 1, got 0/,
    );
    expect(() => lambdaSettings({ INPUT_BUCKET: 'in', OUTPUT_FORMATS: 'orc' })).toThrow(
      /OUTPUT_FORMATS .* got orc/,
    );
    expect(() => lambdaSettings({ INPUT_BUCKET: 'in', MAX_REJECT_RATIO: 'x' })).toThrow(
      /MAX_REJECT_RATIO must be within 0\.\.1, got x/,
    );
  });
});
