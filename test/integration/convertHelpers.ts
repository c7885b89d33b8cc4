import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DuckDBInstance } from '@duckdb/node-api';
import avro from 'avsc';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { uncompressSync } from 'snappy';
import { createLogger } from '../../src/core/logger.js';

/** A quiet logger for the converter under test. */
export const quietLog = createLogger({ level: 'silent' });

export async function put(s3: S3Client, bucket: string, key: string, body: string | Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Buffer> {
  const r = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return Buffer.from(
    await (r.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
  );
}

export async function listKeys(s3: S3Client, bucket: string, prefix = ''): Promise<string[]> {
  const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key ?? '').sort();
}

/** Rows and column types of a Parquet object, read back with DuckDB. */
export async function readParquet(
  s3: S3Client,
  bucket: string,
  key: string,
  orderBy?: string,
): Promise<{ types: Record<string, string>; rows: Record<string, unknown>[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'convert-test-'));
  try {
    const path = join(dir, 'x.parquet');
    await writeFile(path, await getBytes(s3, bucket, key));
    const db = await DuckDBInstance.create(':memory:');
    const c = await db.connect();
    const d = await c.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
    const types = Object.fromEntries(
      d.getRowObjectsJson().map((r) => [r['column_name'] as string, r['column_type'] as string]),
    );
    const r = await c.runAndReadAll(
      `SELECT * FROM read_parquet('${path}')${orderBy ? ` ORDER BY "${orderBy}"` : ''}`,
    );
    const rows = r.getRowObjectsJS();
    c.closeSync();
    db.closeSync();
    return { types, rows };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** avsc's documented custom long type: 64-bit integers as BigInt (its default `long` is a JS number). */
const bigintLong = avro.types.LongType.__with({
  fromBuffer: (buf: Buffer) => buf.readBigInt64LE(),
  toBuffer: (n: bigint) => {
    const buf = Buffer.alloc(8);
    buf.writeBigInt64LE(n);
    return buf;
  },
  fromJSON: BigInt,
  toJSON: Number,
  isValid: (n: unknown) => typeof n === 'bigint',
  compare: (a: bigint, b: bigint) => (a === b ? 0 : a < b ? -1 : 1),
});

/** Schema (as written in the header), codec and records of an Avro container object, read back with avsc. */
export async function readAvro(
  s3: S3Client,
  bucket: string,
  key: string,
  o: { bigintLongs?: boolean } = {},
): Promise<{
  schema: { fields: { name: string; type: unknown }[] };
  codec: string;
  records: Record<string, unknown>[];
}> {
  const bytes = await getBytes(s3, bucket, key);
  const records: Record<string, unknown>[] = [];
  let schema: { fields: { name: string; type: unknown }[] } = { fields: [] };
  let codec = '';
  await new Promise<void>((resolve, reject) => {
    const decoder = new avro.streams.BlockDecoder({
      codecs: {
        deflate: (buf: Buffer, cb: (e: Error | null, b?: Buffer) => void) => {
          cb(null, inflateRawSync(buf));
        },
        snappy: (buf: Buffer, cb: (e: Error | null, b?: Buffer) => void) => {
          cb(null, uncompressSync(buf.subarray(0, buf.length - 4)) as Buffer);
        },
      },
      parseHook: (s: unknown) =>
        avro.Type.forSchema(s as avro.Schema, o.bigintLongs ? { registry: { long: bigintLong } } : {}),
    });
    decoder.on('metadata', (_type: avro.Type, c: string, header: { meta: Record<string, Buffer> }) => {
      // The schema as written (avsc's Type.schema() drops logical types it has no implementation for).
      schema = JSON.parse(String(header.meta['avro.schema'])) as typeof schema;
      codec = c;
    });
    decoder.on('data', (r: Record<string, unknown>) => records.push({ ...r }));
    decoder.on('end', () => {
      resolve();
    });
    decoder.on('error', reject);
    decoder.end(bytes);
  });
  return { schema, codec, records };
}
