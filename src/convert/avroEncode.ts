/**
 * The Avro binary encoding of DuckDB result chunks, column vectors straight to bytes (Avro 1.11 spec,
 * "Binary Encoding"): every field is a `["null", T]` union (branch index as a zig-zag varint: 0 = null,
 * 1 = value), `long`/`int` as zig-zag varints, `double` as 8 bytes little-endian, `boolean` as one byte,
 * `string` as a zig-zag varint length and the UTF-8 bytes.
 *
 * Why not avsc's `Type.encode` per record: that needs a JavaScript object per row and a JavaScript string
 * per text value (decoded from DuckDB's UTF-8 and encoded back), which measured ~4.5 µs per row; and avsc's
 * number-based `long` is exact only to ±2^52. Here bytes are copied from DuckDB's vectors as they are and
 * 64-bit integers are encoded exactly from their two 32-bit halves. avsc still validates the schema, writes
 * the container header and is the reference in the tests (same bytes as `Type.toBuffer` for random rows).
 *
 * Self-contained on purpose: {@link encodeChunk} is serialised into the worker thread's source.
 */

/** How a field's value is read from its DuckDB vector and written. */
export type AvroFieldKind = 'long' | 'int' | 'double' | 'boolean' | 'string';

/** The DuckDB C-API calls used (from `@duckdb/node-bindings`). */
export interface ChunkBindings {
  data_chunk_get_vector(chunk: unknown, column: number): unknown;
  vector_get_data(vector: unknown, byteCount: number): Uint8Array;
  vector_get_validity(vector: unknown, byteCount: number): Uint8Array | null;
  get_data_from_pointer(buffer: ArrayBuffer, pointerOffset: number, byteCount: number): Uint8Array;
}

/** A growable output buffer. */
export interface ByteSink {
  buf: Uint8Array;
  pos: number;
  /**
   * The last chunk encoded, kept reachable: the vectors' data are views of the chunk's native memory,
   * which the chunk's finalizer frees, and nothing else keeps the chunk alive while they are read.
   */
  chunk?: unknown;
}

/**
 * Append the Avro encoding of `rows` rows of a DuckDB data chunk to `out` (growing its buffer as needed).
 * Column `j` of the chunk must have the DuckDB type of `kinds[j]`: BIGINT (`long`), INTEGER (`int`), DOUBLE,
 * BOOLEAN, VARCHAR (`string`).
 */
export function encodeChunk(
  b: ChunkBindings,
  chunk: unknown,
  rows: number,
  kinds: readonly AvroFieldKind[],
  out: ByteSink,
): void {
  const width = { long: 8, int: 4, double: 8, boolean: 1, string: 16 };
  const cols = kinds.map((kind, j) => {
    const vector = b.data_chunk_get_vector(chunk, j);
    const data = b.vector_get_data(vector, rows * width[kind]);
    const validity = b.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
    return { kind, data, view: new DataView(data.buffer, data.byteOffset, data.byteLength), validity };
  });
  let buf = out.buf;
  let pos = out.pos;
  const ensure = (n: number): void => {
    if (pos + n <= buf.length) return;
    const bigger = new Uint8Array(Math.max(buf.length * 2, pos + n));
    bigger.set(buf.subarray(0, pos));
    buf = bigger;
  };
  const varint32 = (value: number): void => {
    let v = value >>> 0;
    while (v > 0x7f) {
      buf[pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[pos++] = v;
  };
  for (let r = 0; r < rows; r++) {
    for (const c of cols) {
      ensure(16);
      if (c.validity && ((c.validity[r >> 3] as number) & (1 << (r & 7))) === 0) {
        buf[pos++] = 0; // union branch 0: null
        continue;
      }
      buf[pos++] = 2; // union branch 1 (zig-zag 1 = 2): the value
      switch (c.kind) {
        case 'long': {
          // zig-zag of a 64-bit two's complement integer, on its 32-bit halves: exact for every int64.
          const lo = c.view.getUint32(r * 8, true);
          const hi = c.view.getInt32(r * 8 + 4, true);
          const sign = hi >> 31;
          let zhi = (((hi << 1) | (lo >>> 31)) ^ sign) >>> 0;
          let zlo = ((lo << 1) ^ sign) >>> 0;
          while (zhi !== 0 || zlo > 0x7f) {
            buf[pos++] = (zlo & 0x7f) | 0x80;
            zlo = ((zlo >>> 7) | (zhi << 25)) >>> 0;
            zhi >>>= 7;
          }
          buf[pos++] = zlo;
          break;
        }
        case 'int': {
          const v = c.view.getInt32(r * 4, true);
          varint32((v << 1) ^ (v >> 31));
          break;
        }
        case 'double': {
          const at = r * 8;
          for (let k = 0; k < 8; k++) buf[pos++] = c.data[at + k] as number; // IEEE 754, little-endian
          break;
        }
        case 'boolean':
          buf[pos++] = c.data[r] === 0 ? 0 : 1;
          break;
        case 'string': {
          // DuckDB's string_t: 4-byte length, then the bytes inline (≤ 12) or a 4-byte prefix and a pointer.
          const at = r * 16;
          const len = c.view.getUint32(at, true);
          ensure(len + 10);
          varint32(len * 2); // zig-zag of a non-negative length
          if (len <= 12) {
            for (let k = 0; k < len; k++) buf[pos++] = c.data[at + 4 + k] as number;
          } else {
            buf.set(
              b.get_data_from_pointer(c.data.buffer as ArrayBuffer, c.data.byteOffset + at + 8, len),
              pos,
            );
            pos += len;
          }
          break;
        }
      }
    }
  }
  out.buf = buf;
  out.pos = pos;
  out.chunk = chunk; // a use after every read of its memory (see ByteSink.chunk)
}
