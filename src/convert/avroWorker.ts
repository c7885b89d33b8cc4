/**
 * The Avro half of the converter, run in `worker_threads` Workers so that encoding never blocks the main
 * thread and uses every core. Avro blocks are independent, so each task is one block: the worker reads a
 * range of rows of the file's Parquet with its own DuckDB, encodes them ({@link encodeChunk}) and compresses
 * them.
 *
 * Protocol: main -> worker `{ id, sql, kinds, codec }` (one task at a time per worker);
 * worker -> main `{ id, count, data }` (data transferred, not copied) or `{ id, error }`.
 */
import { encodeChunk, type AvroFieldKind, type ByteSink, type ChunkBindings } from './avroEncode.js';

/** One block to encode. */
export interface AvroTask {
  readonly id: number;
  /** A query returning the rows of the block, one value per field, in field order, of the kinds' types. */
  readonly sql: string;
  readonly kinds: readonly AvroFieldKind[];
  readonly codec: 'null' | 'deflate' | 'snappy';
}

/** A block, encoded and compressed, or why not. */
export type AvroTaskResult =
  | { readonly id: number; readonly count: number; readonly data: Uint8Array }
  | { readonly id: number; readonly error: string };

/** Module paths the worker loads (resolved by the main thread, so the worker works from src and dist). */
export interface AvroWorkerData {
  readonly duckdbPath: string;
  readonly bindingsPath: string;
  readonly snappyPath: string;
  /** DuckDB memory limit of the worker's instance. */
  readonly memoryLimitMiB: number;
}

/** Asks the worker to close its DuckDB and exit (terminating it while DuckDB is open can abort the process). */
export interface AvroClose {
  readonly close: true;
}

interface Port {
  on(event: 'message', fn: (msg: AvroTask | AvroClose) => void): void;
  postMessage(msg: AvroTaskResult, transfer?: ArrayBuffer[]): void;
  close(): void;
}

type Req = (id: string) => unknown;
type Encode = typeof encodeChunk;

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */
/**
 * The worker's body. Self-contained (it is serialised with `toString()`): everything it uses comes from
 * its arguments.
 */
function runAvroWorker(port: Port, data: AvroWorkerData, req: Req, encode: Encode): void {
  const duckdb: any = req(data.duckdbPath);
  const bindings = req(data.bindingsPath) as ChunkBindings;
  const zlib: any = req('node:zlib');
  let snappy: any;
  let db: any;
  const ready: Promise<any> = (async () => {
    db = await duckdb.DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: `${data.memoryLimitMiB}MB`,
      autoinstall_known_extensions: 'false',
    });
    return db.connect();
  })();
  const sink: ByteSink = { buf: new Uint8Array(1 << 20), pos: 0 };

  const run = async (task: AvroTask): Promise<AvroTaskResult> => {
    const conn = await ready;
    sink.pos = 0;
    let count = 0;
    const result = await conn.stream(task.sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const rows: number = chunk.rowCount;
      encode(bindings, chunk.chunk, rows, task.kinds, sink);
      count += rows;
    }
    const raw = Buffer.from(sink.buf.buffer, sink.buf.byteOffset, sink.pos);
    let out: Buffer;
    if (task.codec === 'deflate') out = zlib.deflateRawSync(raw);
    else if (task.codec === 'snappy') {
      snappy ??= req(data.snappyPath);
      const body: Buffer = snappy.compressSync(raw);
      out = Buffer.allocUnsafe(body.length + 4);
      body.copy(out, 0);
      out.writeUInt32BE(zlib.crc32(raw) >>> 0, body.length); // the spec: CRC-32 of the uncompressed block
    } else out = raw;
    // A copy with its own ArrayBuffer (transferred): the sink is reused, small Buffers share a pool.
    const owned = new Uint8Array(out.length);
    owned.set(out);
    return { id: task.id, count, data: owned };
  };

  port.on('message', (msg: AvroTask | AvroClose) => {
    if ('close' in msg) {
      void ready.then(
        (conn) => {
          conn.closeSync();
          db.closeSync();
          port.close();
        },
        () => {
          port.close();
        },
      );
      return;
    }
    const task = msg;
    run(task).then(
      (r) => {
        if ('data' in r) port.postMessage(r, [r.data.buffer as ArrayBuffer]);
        else port.postMessage(r);
      },
      (e: unknown) => {
        port.postMessage({ id: task.id, error: e instanceof Error ? e.message : String(e) });
      },
    );
  });
}
/* eslint-enable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */

/** Source of the worker (run with `eval: true`). */
export function avroWorkerSource(): string {
  return [
    "'use strict';",
    "const { parentPort, workerData } = require('node:worker_threads');",
    'var __name = (f) => f;',
    `const encodeChunk = ${encodeChunk.toString()};`,
    `(${runAvroWorker.toString()})(parentPort, workerData, require, encodeChunk);`,
  ].join('\n');
}
