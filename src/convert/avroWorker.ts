/**
 * The Avro half of the converter, run in `worker_threads` Workers so that encoding never blocks the main
 * thread and uses every core. Avro blocks are independent, so each task is one block: the worker reads a
 * range of rows of the file's Parquet with its own DuckDB, encodes them with avsc and compresses them.
 *
 * Protocol: main -> worker `{ id, sql, schema, codec }` (one task at a time per worker);
 * worker -> main `{ id, count, data }` (data transferred, not copied) or `{ id, error }`.
 */

/** One block to encode. */
export interface AvroTask {
  readonly id: number;
  /** A query returning the rows of the block, one value per field, in field order, Avro-ready. */
  readonly sql: string;
  /** The Avro record schema (JSON). */
  readonly schema: string;
  readonly codec: 'null' | 'deflate' | 'snappy';
}

/** A block, encoded and compressed, or why not. */
export type AvroTaskResult =
  | { readonly id: number; readonly count: number; readonly data: Uint8Array }
  | { readonly id: number; readonly error: string };

/** Module paths the worker loads (resolved by the main thread, so the worker works from src and dist). */
export interface AvroWorkerData {
  readonly duckdbPath: string;
  readonly avscPath: string;
  readonly snappyPath: string;
  /** DuckDB memory limit of the worker's instance. */
  readonly memoryLimitMiB: number;
}

interface Port {
  on(event: 'message', fn: (msg: AvroTask) => void): void;
  postMessage(msg: AvroTaskResult, transfer?: ArrayBuffer[]): void;
}

interface Req {
  (id: string): unknown;
}

/* eslint-disable @typescript-eslint/no-explicit-any, @typescript-eslint/no-unsafe-assignment,
   @typescript-eslint/no-unsafe-call, @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-return */
/**
 * The worker's body. Self-contained (it is serialised with `toString()`): everything it uses comes from
 * its arguments.
 */
function runAvroWorker(port: Port, data: AvroWorkerData, req: Req): void {
  const duckdb: any = req(data.duckdbPath);
  const avro: any = req(data.avscPath);
  const zlib: any = req('node:zlib');
  let snappy: any;
  const types = new Map<string, any>();
  const ready: Promise<any> = (async () => {
    const db = await duckdb.DuckDBInstance.create(':memory:', {
      threads: '1',
      memory_limit: `${data.memoryLimitMiB}MB`,
      autoinstall_known_extensions: 'false',
    });
    return db.connect();
  })();

  const run = async (task: AvroTask): Promise<AvroTaskResult> => {
    const conn = await ready;
    let type = types.get(task.schema);
    if (!type) {
      type = avro.Type.forSchema(JSON.parse(task.schema));
      types.set(task.schema, type);
    }
    const names: string[] = type.fields.map((f: any) => f.name);
    const width = names.length;
    let buf = Buffer.allocUnsafe(1 << 20);
    let pos = 0;
    let count = 0;
    const result = await conn.stream(task.sql);
    for (;;) {
      const chunk = await result.fetchChunk();
      if (!chunk || chunk.rowCount === 0) break;
      const cols = chunk.getColumns();
      const n: number = chunk.rowCount;
      for (let r = 0; r < n; r++) {
        const rec: Record<string, unknown> = {};
        for (let c = 0; c < width; c++) rec[names[c] as string] = cols[c][r];
        let next: number = type.encode(rec, buf, pos);
        while (next < 0) {
          // Not enough room: grow (next is minus the bytes missing) and encode the record again.
          const bigger = Buffer.allocUnsafe(Math.max(buf.length * 2, pos - next));
          buf.copy(bigger, 0, 0, pos);
          buf = bigger;
          next = type.encode(rec, buf, pos);
        }
        pos = next;
      }
      count += n;
    }
    const raw = buf.subarray(0, pos);
    let out: Buffer;
    if (task.codec === 'deflate') out = zlib.deflateRawSync(raw);
    else if (task.codec === 'snappy') {
      snappy ??= req(data.snappyPath);
      const body: Buffer = snappy.compressSync(raw);
      out = Buffer.allocUnsafe(body.length + 4);
      body.copy(out, 0);
      out.writeUInt32BE(zlib.crc32(raw) >>> 0, body.length);
    } else out = raw;
    // A copy with its own ArrayBuffer: small Buffers share a pool, which must not be transferred.
    const owned = new Uint8Array(out.length);
    owned.set(out);
    return { id: task.id, count, data: owned };
  };

  port.on('message', (task: AvroTask) => {
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
    `(${runAvroWorker.toString()})(parentPort, workerData, require);`,
  ].join('\n');
}
