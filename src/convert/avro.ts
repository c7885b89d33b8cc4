/**
 * Avro object container files (Avro 1.11 spec, "Object Container Files"), written from a Parquet file by a
 * pool of worker threads: the header here, the blocks by {@link AvroPool}, in order.
 */
import avro from 'avsc';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ConvertError } from './errors.js';
import { avroSchema, type TimestampPrecision } from './schema.js';
import { ident, lit } from './sql.js';
import type { AvroFieldKind } from './avroEncode.js';
import {
  avroWorkerSource,
  type AvroClose,
  type AvroTask,
  type AvroTaskResult,
  type AvroWorkerData,
} from './avroWorker.js';
import type { AvroCodec, Column } from './types.js';

/** Rows per Avro block when no block sizes are given. A block is encoded by one worker; blocks in flight ≤ 2 × threads. */
export const DEFAULT_ROWS_PER_BLOCK = 65_536;

const MAGIC = Buffer.from([0x4f, 0x62, 0x6a, 0x01]); // "Obj" 1
const headerType = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: 16 } },
  ],
});
const longType = avro.Type.forSchema('long');

/**
 * The container header: magic, metadata (`avro.schema`, `avro.codec`) and the sync marker.
 *
 * @example
 * const sync = randomBytes(16);
 * avroHeader(JSON.stringify(schema), 'snappy', sync);
 */
export function avroHeader(schemaJson: string, codec: AvroCodec, sync: Buffer): Buffer {
  return headerType.toBuffer({
    magic: MAGIC,
    meta: { 'avro.schema': Buffer.from(schemaJson), 'avro.codec': Buffer.from(codec) },
    sync,
  });
}

/** One data block: record count, byte count, the (compressed) records, the sync marker. */
export function avroBlock(count: number, data: Uint8Array, sync: Buffer): Buffer[] {
  return [
    longType.toBuffer(count),
    longType.toBuffer(data.length),
    Buffer.from(data.buffer, data.byteOffset, data.length),
    sync,
  ];
}

/** The SELECT expression and Avro field kind of a Parquet column (see avroEncode.ts). */
export function avroColumn(c: Column, precision: TimestampPrecision): { sql: string; kind: AvroFieldKind } {
  const col = ident(c.name);
  switch (c.type) {
    case 'integer':
      return { sql: col, kind: 'long' };
    case 'float':
      return { sql: col, kind: 'double' };
    case 'boolean':
      return { sql: col, kind: 'boolean' };
    case 'date':
      return { sql: `CAST(${col} - DATE '1970-01-01' AS INTEGER)`, kind: 'int' };
    case 'timestamp':
      return { sql: precision === 'micros' ? `epoch_us(${col})` : `epoch_ms(${col})`, kind: 'long' };
    case 'string':
      return { sql: col, kind: 'string' };
  }
}

/** Settings of the pool. */
export interface AvroPoolOptions {
  /** Worker threads. @defaultValue the machine's cores */
  readonly threads?: number;
  /** DuckDB memory limit per worker. @defaultValue 128 */
  readonly memoryLimitMiB?: number;
}

/** A file to encode. */
export interface AvroFileJob {
  readonly parquetPath: string;
  readonly columns: readonly Column[];
  readonly precision: readonly TimestampPrecision[];
  readonly rows: number;
  readonly codec: AvroCodec;
  /**
   * Rows per block, in order (e.g. the Parquet file's row groups, so that each block reads one row group);
   * when absent, blocks of {@link DEFAULT_ROWS_PER_BLOCK} rows. Must add up to `rows`.
   */
  readonly blocks?: readonly number[];
  readonly signal?: AbortSignal;
}

interface Slot {
  readonly worker: Worker;
  busy: boolean;
  pending?: { resolve: (r: AvroTaskResult) => void; reject: (e: Error) => void };
}

/**
 * Worker threads that encode Avro blocks. Files share the pool; each worker runs one block at a time.
 * Memory: at most 2 × threads blocks are held (encoded, waiting for their turn in the output), each about
 * one Parquet row group (DuckDB writes 122,880 rows) × the record size, plus each worker's DuckDB
 * (`memoryLimitMiB`).
 */
export class AvroPool {
  readonly #slots: Slot[] = [];
  readonly #waiting: (() => void)[] = [];
  #nextId = 0;
  #closed = false;
  readonly threads: number;

  constructor(o: AvroPoolOptions = {}) {
    this.threads = Math.max(1, o.threads ?? availableParallelism());
    const require = createRequire(import.meta.url);
    const workerData: AvroWorkerData = {
      duckdbPath: require.resolve('@duckdb/node-api'),
      // The C-API bindings node-api itself uses (resolved from node-api, so the versions match).
      bindingsPath: createRequire(require.resolve('@duckdb/node-api')).resolve('@duckdb/node-bindings'),
      snappyPath: require.resolve('snappy'),
      memoryLimitMiB: o.memoryLimitMiB ?? 128,
    };
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(avroWorkerSource(), { eval: true, workerData });
      const slot: Slot = { worker, busy: false };
      worker.on('message', (r: AvroTaskResult) => {
        const p = slot.pending;
        slot.pending = undefined;
        p?.resolve(r);
      });
      worker.on('error', (e: Error) => {
        slot.pending?.reject(e);
        slot.pending = undefined;
      });
      worker.on('exit', (code) => {
        slot.pending?.reject(new ConvertError(`Avro worker exited (code ${code})`));
        slot.pending = undefined;
      });
      this.#slots.push(slot);
    }
  }

  async #run(task: Omit<AvroTask, 'id'>): Promise<{ count: number; data: Uint8Array }> {
    let slot = this.#slots.find((s) => !s.busy);
    while (!slot) {
      await new Promise<void>((r) => this.#waiting.push(r));
      if (this.#closed) throw new ConvertError('Avro pool closed');
      slot = this.#slots.find((s) => !s.busy);
    }
    slot.busy = true;
    try {
      const id = this.#nextId++;
      const r = await new Promise<AvroTaskResult>((resolve, reject) => {
        slot.pending = { resolve, reject };
        slot.worker.postMessage({ ...task, id } satisfies AvroTask);
      });
      if ('error' in r) throw new ConvertError(`Avro encoding failed: ${r.error}`, { code: 'CONVERT_AVRO' });
      return { count: r.count, data: r.data };
    } finally {
      slot.busy = false;
      this.#waiting.shift()?.();
    }
  }

  /**
   * The bytes of an Avro container file with the rows of a Parquet file, in order: the header, then one
   * block per `rowsPerBlock` rows. Up to 2 × threads blocks are encoded ahead of the consumer.
   */
  async *encode(job: AvroFileJob): AsyncGenerator<Buffer> {
    const schema = avroSchema(job.columns, job.precision);
    avro.Type.forSchema(schema as avro.Schema); // avsc checks the schema (names, unions, logical types)
    const schemaJson = JSON.stringify(schema);
    const sync = randomBytes(16);
    yield avroHeader(schemaJson, job.codec, sync);
    const sizes = job.blocks ? [...job.blocks] : [];
    if (!job.blocks)
      for (let n = 0; n < job.rows; n += DEFAULT_ROWS_PER_BLOCK)
        sizes.push(Math.min(DEFAULT_ROWS_PER_BLOCK, job.rows - n));
    const fields = job.columns.map((c, i) => avroColumn(c, job.precision[i] ?? 'millis'));
    const select = fields.map((f) => f.sql).join(', ');
    const kinds = fields.map((f) => f.kind);
    const ahead = 2 * this.threads;
    const inFlight: Promise<{ count: number; data: Uint8Array }>[] = [];
    let next = 0;
    let block = 0;
    const launch = () => {
      const lo = next;
      const hi = Math.min(job.rows, lo + (sizes[block++] ?? DEFAULT_ROWS_PER_BLOCK));
      next = hi;
      const sql =
        `SELECT ${select} FROM read_parquet(${lit(job.parquetPath)}, file_row_number = true) ` +
        `WHERE file_row_number >= ${lo} AND file_row_number < ${hi} ORDER BY file_row_number`;
      const p = this.#run({ sql, kinds, codec: job.codec });
      p.catch(() => undefined); // awaited in order below
      inFlight.push(p);
    };
    let written = 0;
    try {
      while (next < job.rows || inFlight.length > 0) {
        while (next < job.rows && inFlight.length < ahead) launch();
        const { count, data } = await (inFlight.shift() as Promise<{ count: number; data: Uint8Array }>);
        job.signal?.throwIfAborted();
        written += count;
        for (const b of avroBlock(count, data, sync)) yield b;
      }
    } finally {
      // A consumer that stops early: let the blocks in flight finish (their workers stay usable).
      await Promise.allSettled(inFlight);
    }
    if (written !== job.rows) {
      throw new ConvertError(`Avro: wrote ${written} records, the Parquet file has ${job.rows}`, {
        code: 'CONVERT_AVRO',
      });
    }
  }

  /**
   * Stop the workers: each closes its DuckDB and exits (terminating a worker while its DuckDB is open
   * aborted the process in about one run in four); one that has not exited after 5 s is terminated.
   */
  async close(): Promise<void> {
    this.#closed = true;
    for (const w of this.#waiting.splice(0)) w();
    await Promise.all(
      this.#slots.map(async (s) => {
        const exited = new Promise<void>((resolve) => {
          s.worker.once('exit', () => {
            resolve();
          });
        });
        s.worker.postMessage({ close: true } satisfies AvroClose);
        const timer = setTimeout(() => void s.worker.terminate(), 5000);
        await exited;
        clearTimeout(timer);
      }),
    );
  }
}
