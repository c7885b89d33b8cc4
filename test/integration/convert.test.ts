import { CreateBucketCommand } from '@aws-sdk/client-s3';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AwsClients } from '../../src/core/awsClients.js';
import { Converter, listCsvObjects, type ConverterOptions } from '../../src/convert/index.js';
import { compressZstd } from './convertZstd.js';
import { getBytes, listKeys, put, quietLog, readAvro, readParquet } from './convertHelpers.js';
import { localClients, uniqueName } from './helpers.js';

/** Every supported type, with nulls (empty fields) in each column. */
const ALL_TYPES_CSV = [
  'id,name,price,active,day,created_at,note',
  '1,alice,1.5,true,2024-01-31,2024-01-31 10:00:00,"hello, world"',
  '2,bob,-2.25,false,2024-02-29,2024-02-29 23:59:59.123,"say ""hi"""',
  '3,,,,,,',
  '-4503599627370496,"multi',
  'line",0.001,TRUE,1970-01-01,1970-01-01 00:00:00,x',
].join('\n');

describe('Class: Converter (local stack)', () => {
  let aws: AwsClients;
  let bucket: string;
  let out: string;

  beforeAll(async () => {
    aws = localClients();
    bucket = uniqueName('conv-in');
    out = uniqueName('conv-out');
    await aws.s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: out }));
  });
  afterAll(() => {
    aws.destroy();
  });

  async function convert(
    prefix: string,
    outPrefix: string,
    o: Partial<ConverterOptions> = {},
    outBucket = out,
  ) {
    const location = {
      inputBucket: bucket,
      inputFolder: prefix,
      outputBucket: outBucket,
      outputFolder: outPrefix,
    };
    const c = await Converter.open({ s3: aws.s3, location, log: quietLog, avroThreads: 2, ...o });
    try {
      return await c.convertAll(listCsvObjects(aws.s3, bucket, prefix));
    } finally {
      await c.close();
    }
  }

  it('converts every type and nulls; Parquet (DuckDB) and Avro (avsc) read back the same rows and types', async () => {
    // Prepare
    await put(aws.s3, bucket, 'types/all.csv', ALL_TYPES_CSV);
    // Act
    const { files, stats } = await convert('types/', 'types-out/');
    // Assess
    expect(files[0]?.error).toBeUndefined();
    expect(stats).toMatchObject({ converted: 1, failed: 0, rows: 4, rejected: 0 });
    expect(files[0]?.columns?.map((c) => c.type)).toEqual([
      'integer',
      'string',
      'float',
      'boolean',
      'date',
      'timestamp',
      'string',
    ]);
    const pq = await readParquet(aws.s3, out, 'types-out/all.parquet', 'id');
    expect(pq.types).toEqual({
      id: 'BIGINT',
      name: 'VARCHAR',
      price: 'DOUBLE',
      active: 'BOOLEAN',
      day: 'DATE',
      created_at: 'TIMESTAMP',
      note: 'VARCHAR',
    });
    const byId = new Map(pq.rows.map((r) => [String(r['id']), r]));
    expect(byId.get('2')).toMatchObject({ name: 'bob', price: -2.25, active: false, note: 'say "hi"' });
    expect(byId.get('3')).toMatchObject({
      name: null,
      price: null,
      active: null,
      day: null,
      created_at: null,
      note: null,
    });
    expect(byId.get('-4503599627370496')).toMatchObject({
      name: 'multi\nline',
      price: 0.001,
      active: true,
    });

    const av = await readAvro(aws.s3, out, 'types-out/all.avro');
    expect(av.codec).toBe('snappy');
    expect(av.schema.fields.map((f) => [f.name, f.type])).toEqual([
      ['id', ['null', 'long']],
      ['name', ['null', 'string']],
      ['price', ['null', 'double']],
      ['active', ['null', 'boolean']],
      ['day', ['null', { type: 'int', logicalType: 'date' }]],
      ['created_at', ['null', { type: 'long', logicalType: 'timestamp-millis' }]],
      ['note', ['null', 'string']],
    ]);
    expect(av.records).toHaveLength(4);
    const first = av.records.find((r) => r['id'] === 1);
    expect(first).toEqual({
      id: 1,
      name: 'alice',
      price: 1.5,
      active: true,
      day: Date.UTC(2024, 0, 31) / 86_400_000,
      created_at: Date.UTC(2024, 0, 31, 10),
      note: 'hello, world',
    });
    expect(av.records.find((r) => r['id'] === 2)?.['created_at']).toBe(
      Date.UTC(2024, 1, 29, 23, 59, 59, 123),
    );
    expect(av.records.find((r) => r['id'] === 3)).toEqual({
      id: 3,
      name: null,
      price: null,
      active: null,
      day: null,
      created_at: null,
      note: null,
    });
    expect(av.records.map((r) => r['id'])).toEqual([1, 2, 3, -4503599627370496]);
    expect(av.records[3]?.['name']).toBe('multi\nline');
  });

  it('writes every 64-bit integer exactly to both formats', async () => {
    // Prepare: beyond ±2^53, where doubles (and avsc's number-based long) round
    await put(
      aws.s3,
      bucket,
      'big-int/b.csv',
      'n\n-9223372036854775808\n-9007199254740993\n9007199254740993\n9223372036854775807\n0\n',
    );
    // Act
    const { stats } = await convert('big-int/', 'big-int-out/');
    // Assess
    expect(stats).toMatchObject({ converted: 1, rows: 5 });
    const expected = [-9223372036854775808n, -9007199254740993n, 9007199254740993n, 9223372036854775807n, 0n];
    const pq = await readParquet(aws.s3, out, 'big-int-out/b.parquet');
    expect(pq.rows.map((r) => r['n'])).toEqual(expected);
    const av = await readAvro(aws.s3, out, 'big-int-out/b.avro', { bigintLongs: true });
    expect(av.schema.fields[0]?.type).toEqual(['null', 'long']);
    expect(av.records.map((r) => r['n'])).toEqual(expected);
  });

  it('reads .csv.gz and .csv.zst with a BOM, keys with spaces, + , % and unicode, from an empty prefix', async () => {
    // Prepare: the input bucket root is the input; outputs go to another bucket's root.
    const src = uniqueName('conv-root');
    const dst = uniqueName('conv-root-out');
    await aws.s3.send(new CreateBucketCommand({ Bucket: src }));
    await aws.s3.send(new CreateBucketCommand({ Bucket: dst }));
    const csv = '\uFEFFa,b\n1,x\n2,y\n';
    await put(aws.s3, src, 'dir/a b+c%20ü.csv.gz', gzipSync(csv));
    await put(aws.s3, src, 'z.csv.zst', await compressZstd(Buffer.from(csv)));
    await put(aws.s3, src, 'plain.csv', csv);
    await put(aws.s3, src, 'not-a-csv.txt', csv);
    // Act
    const c = await Converter.open({
      s3: aws.s3,
      location: { inputBucket: src, inputFolder: '', outputBucket: dst, outputFolder: '' },
      log: quietLog,
      formats: ['parquet'],
      parquetCodec: 'zstd',
    });
    const { stats } = await c.convertAll(listCsvObjects(aws.s3, src, ''));
    await c.close();
    // Assess
    expect(stats).toMatchObject({ converted: 3, failed: 0, rows: 6 });
    expect(await listKeys(aws.s3, dst)).toEqual(['dir/a b+c%20ü.parquet', 'plain.parquet', 'z.parquet']);
    const pq = await readParquet(aws.s3, dst, 'dir/a b+c%20ü.parquet', 'a');
    expect(Object.keys(pq.types)).toEqual(['a', 'b']); // the BOM is not part of the first name
    expect(pq.rows).toEqual([
      { a: 1n, b: 'x' },
      { a: 2n, b: 'y' },
    ]);
  });

  it('rejects ragged and badly quoted records with their line numbers; the ratio decides the file', async () => {
    // Prepare
    const csv = [
      'id,name,n',
      '1,a,1',
      '2,b',
      '3,"c"d,3',
      '4,d,4,extra',
      '5,e,5',
      '6,f,6',
      '7,g,7',
      '8,h,8',
    ].join('\n');
    await put(aws.s3, bucket, 'ragged/r.csv', csv);
    // Act: default --max-reject-ratio 0 fails the file, writes only the rejects
    const strict = await convert('ragged/', 'ragged-strict/');
    const lenient = await convert('ragged/', 'ragged-lenient/', { maxRejectRatio: 0.5 });
    // Assess
    expect(strict.stats).toMatchObject({ failed: 1, converted: 0 });
    expect(strict.files[0]?.error).toMatch(/3 of 8 records rejected \(37\.50%\), above --max-reject-ratio 0/);
    expect(await listKeys(aws.s3, out, 'ragged-strict/')).toEqual(['ragged-strict/_rejects/r.csv']);
    expect(lenient.stats).toMatchObject({ converted: 1, rows: 5, rejected: 3 });
    const rejects = (await getBytes(aws.s3, out, 'ragged-lenient/_rejects/r.csv'))
      .toString('utf8')
      .trim()
      .split('\n');
    expect(rejects[0]).toBe('line,record,error_type,column,message,raw');
    expect(rejects.slice(1).map((l) => l.split(',').slice(0, 3).join(','))).toEqual([
      '3,,MISSING COLUMNS',
      '4,,UNQUOTED VALUE',
      '5,,TOO MANY COLUMNS',
    ]);
    expect(rejects[1]).toMatch(/"2,b"$/);
    const pq = await readParquet(aws.s3, out, 'ragged-lenient/r.parquet', 'id');
    expect(pq.rows.map((r) => Number(r['id']))).toEqual([1, 5, 6, 7, 8]);
    expect(pq.types['n']).toBe('BIGINT');
  });

  it('does not change a value a sample would mis-infer: 1.5 after 100,000 integers widens the column', async () => {
    // Prepare
    const lines = ['n,s'];
    for (let i = 0; i < 100_000; i++) lines.push(`${i},x`);
    lines.push('1.5,last');
    await put(aws.s3, bucket, 'late/l.csv', lines.join('\n'));
    // Act
    const { stats, files } = await convert('late/', 'late-out/');
    // Assess
    expect(stats).toMatchObject({ converted: 1, rows: 100_001, rejected: 0 });
    expect(files[0]?.columns?.[0]).toEqual({ name: 'n', type: 'float' });
    const pq = await readParquet(aws.s3, out, 'late-out/l.parquet');
    expect(pq.types['n']).toBe('DOUBLE');
    expect(pq.rows.find((r) => r['s'] === 'last')?.['n']).toBe(1.5);
    const av = await readAvro(aws.s3, out, 'late-out/l.avro');
    expect(av.records).toHaveLength(100_001);
    expect(av.records.at(-1)).toEqual({ n: 1.5, s: 'last' });
    expect(av.records[99_999]).toEqual({ n: 99_999, s: 'x' });
  });

  it('finds a malformed record beyond the first 20,480 rows (after the speculative conversion started)', async () => {
    // Prepare
    const lines = ['n,s'];
    for (let i = 0; i < 30_000; i++) lines.push(`${i},x`);
    lines.push('30000,x,extra');
    lines.push('30001,y');
    await put(aws.s3, bucket, 'late-ragged/r.csv', lines.join('\n'));
    // Act
    const { files } = await convert('late-ragged/', 'late-ragged-out/', {
      maxRejectRatio: 0.01,
      formats: ['parquet'],
    });
    // Assess
    expect(files[0]).toMatchObject({ status: 'converted', rows: 30_001, rejected: 1 });
    const rejects = (await getBytes(aws.s3, out, 'late-ragged-out/_rejects/r.csv')).toString('utf8');
    expect(rejects).toMatch(/^30002,,TOO MANY COLUMNS,/m);
    const pq = await readParquet(aws.s3, out, 'late-ragged-out/r.parquet', 'n');
    expect(pq.types).toEqual({ n: 'BIGINT', s: 'VARCHAR' });
    expect(pq.rows.at(-1)).toEqual({ n: 30001n, s: 'y' });
  });

  it('with a declared schema, rejects the records whose values break it instead of rounding them', async () => {
    // Prepare
    await put(
      aws.s3,
      bucket,
      'declared/d.csv',
      'n,day\n1,2024-01-01\n1.5,2024-01-02\n3,2024-01-03 10:00:00\n4,2024-01-04\n',
    );
    const schema = {
      columns: [
        { name: 'n', type: 'integer' as const },
        { name: 'day', type: 'date' as const },
      ],
    };
    // Act
    const { files } = await convert('declared/', 'declared-out/', { schema, maxRejectRatio: 1 });
    // Assess
    expect(files[0]).toMatchObject({ status: 'converted', rows: 2, rejected: 2 });
    const pq = await readParquet(aws.s3, out, 'declared-out/d.parquet', 'n');
    expect(pq.types).toEqual({ n: 'BIGINT', day: 'DATE' });
    expect(pq.rows.map((r) => Number(r['n']))).toEqual([1, 4]);
    const rejects = (await getBytes(aws.s3, out, 'declared-out/_rejects/d.csv')).toString('utf8');
    expect(rejects).toMatch(/^,2,CAST,n,/m);
    expect(rejects).toMatch(/^,3,CAST,day,/m);
  });

  it('fails an unreadable file alone; the others are converted', async () => {
    // Prepare
    await put(aws.s3, bucket, 'mixed/bad.csv.gz', Buffer.from('this is not gzip'));
    await put(aws.s3, bucket, 'mixed/good.csv', 'a\n1\n');
    // Act
    const { files, stats } = await convert('mixed/', 'mixed-out/', {
      formats: ['avro'],
      avroCodec: 'deflate',
    });
    // Assess
    expect(stats).toMatchObject({ files: 2, converted: 1, failed: 1 });
    expect(files.find((f) => f.key === 'mixed/bad.csv.gz')?.error).toMatch(/cannot read the gzip stream/);
    const av = await readAvro(aws.s3, out, 'mixed-out/good.avro');
    expect(av.codec).toBe('deflate');
    expect(av.records).toEqual([{ a: 1 }]);
  });

  it('fails an input whose outputs another input of the run already wrote (a.csv and a.csv.gz), overwriting nothing', async () => {
    // Prepare: both map to dup-out/a.parquet.
    await put(aws.s3, bucket, 'dup/a.csv', 'n\n1\n');
    await put(aws.s3, bucket, 'dup/a.csv.gz', gzipSync('n\n2\n'));
    // Act
    const { files, stats } = await convert('dup/', 'dup-out/', { formats: ['parquet'] });
    // Assess
    expect(stats).toMatchObject({ files: 2, converted: 1, failed: 1 });
    expect(files.find((f) => f.key === 'dup/a.csv.gz')?.error).toMatch(
      /dup-out\/a\.parquet is also the output of "dup\/a\.csv".*nothing written/,
    );
    const pq = await readParquet(aws.s3, out, 'dup-out/a.parquet');
    expect(pq.rows).toEqual([{ n: 1n }]);
  });

  it('reports an object that no longer exists as failed and not found (the worker then drops its message)', async () => {
    // Prepare
    const c = await Converter.open({
      s3: aws.s3,
      location: { inputBucket: bucket, inputFolder: 'gone/', outputBucket: out, outputFolder: 'gone-out/' },
      log: quietLog,
      formats: ['parquet'],
    });
    // Act
    const r = await c.convertFile({ bucket, key: 'gone/x.csv', size: 10 });
    await c.close();
    // Assess
    expect(r).toMatchObject({ status: 'failed', notFound: true });
    expect(r.error).toMatch(/gone\/x\.csv does not exist/);
  });

  it('handles a header-only file, CRLF line ends and a tab delimiter; an empty object fails clearly', async () => {
    // Prepare
    await put(aws.s3, bucket, 'shapes/header-only.csv', 'a\tb\r\n');
    await put(aws.s3, bucket, 'shapes/crlf.csv', 'a\tb\r\n1\tx y\r\n2\t"q\tz"\r\n');
    await put(aws.s3, bucket, 'shapes/empty.csv', '');
    // Act
    const { files } = await convert('shapes/', 'shapes-out/', {
      dialect: { delimiter: '\t', quote: '"', escape: '"', header: true },
    });
    // Assess
    const byKey = new Map(files.map((f) => [f.key, f]));
    expect(byKey.get('shapes/header-only.csv')).toMatchObject({ status: 'converted', rows: 0 });
    expect(byKey.get('shapes/crlf.csv')).toMatchObject({ status: 'converted', rows: 2 });
    expect(byKey.get('shapes/empty.csv')?.error).toMatch(/is empty \(no header record\)/);
    expect((await readAvro(aws.s3, out, 'shapes-out/header-only.avro')).records).toEqual([]);
    const pq = await readParquet(aws.s3, out, 'shapes-out/crlf.parquet', 'a');
    expect(pq.rows).toEqual([
      { a: 1n, b: 'x y' },
      { a: 2n, b: 'q\tz' },
    ]);
  });

  it('never reconverts its own outputs when input and output share a bucket', async () => {
    // Prepare: output folder inside the input folder; a rejected record makes a CSV under _rejects/
    await put(aws.s3, bucket, 'shared/in.csv', 'a,b\n1,2\n3\n');
    // Act: twice
    const first = await convert('shared/', 'shared/out/', { maxRejectRatio: 1 }, bucket);
    const second = await convert('shared/', 'shared/out/', { maxRejectRatio: 1 }, bucket);
    // Assess
    expect(first.stats).toMatchObject({ converted: 1, skipped: 0 });
    expect(second.stats).toMatchObject({ converted: 1, skipped: 1 });
    expect(second.files.find((f) => f.status === 'skipped')?.key).toBe('shared/out/_rejects/in.csv');
    expect(await listKeys(aws.s3, bucket, 'shared/')).toEqual([
      'shared/in.csv',
      'shared/out/_rejects/in.csv',
      'shared/out/in.avro',
      'shared/out/in.parquet',
    ]);
  });
});
