import { DuckDBInstance } from '@duckdb/node-api';
import bindings from '@duckdb/node-bindings';
import avro from 'avsc';
import { describe, expect, it } from 'vitest';
import { encodeChunk, type AvroFieldKind, type ByteSink } from '../../src/convert/index.js';
import { seededRandom } from '../../src/core/random.js';

/** Encode the rows of a query with encodeChunk (DuckDB vectors straight to Avro bytes). */
async function encodeQuery(sql: string, kinds: AvroFieldKind[]): Promise<Buffer> {
  const db = await DuckDBInstance.create(':memory:');
  const conn = await db.connect();
  const sink: ByteSink = { buf: new Uint8Array(16), pos: 0 };
  const result = await conn.stream(sql);
  for (;;) {
    const chunk = await result.fetchChunk();
    if (!chunk || chunk.rowCount === 0) break;
    encodeChunk(bindings, chunk.chunk, chunk.rowCount, kinds, sink);
  }
  conn.closeSync();
  db.closeSync();
  return Buffer.from(sink.buf.subarray(0, sink.pos));
}

const nullable = (type: string): avro.Schema => ['null', type] as avro.Schema;

describe('Function: encodeChunk', () => {
  it('writes the same bytes as avsc for random rows of every kind, with nulls, over several chunks', async () => {
    // Prepare: 5,000 rows (three DuckDB chunks), values avsc's number-based long can hold
    const rnd = seededRandom(42);
    const rows = Array.from({ length: 5000 }, (_, i) => {
      const pick = <T>(v: T): T | null => (rnd() < 0.15 ? null : v);
      const text =
        ['', 'a', 'short', 'exactly12byt', 'thirteen byte', 'ünïcödé ✓ longer than twelve bytes', `row ${i}`][
          i % 7
        ] ?? '';
      return {
        l: pick(Math.round((rnd() - 0.5) * 2 ** 52)),
        i: pick(Math.round((rnd() - 0.5) * 2 ** 31)),
        d: pick((rnd() - 0.5) * 1e10),
        b: pick(rnd() < 0.5),
        s: pick(text),
      };
    });
    const values = rows
      .map(
        (r) =>
          `(${r.l ?? 'NULL'}::BIGINT, ${r.i ?? 'NULL'}::INTEGER, ${r.d ?? 'NULL'}::DOUBLE, ${r.b ?? 'NULL'}::BOOLEAN, ${
            r.s === null ? 'NULL' : `'${r.s}'`
          }::VARCHAR, ${rows.indexOf(r)})`,
      )
      .join(', ');
    const type = avro.Type.forSchema({
      type: 'record',
      name: 'R',
      fields: [
        { name: 'l', type: nullable('long') },
        { name: 'i', type: nullable('int') },
        { name: 'd', type: nullable('double') },
        { name: 'b', type: nullable('boolean') },
        { name: 's', type: nullable('string') },
      ],
    });
    // Act
    const ours = await encodeQuery(
      `SELECT l, i, d, b, s FROM (VALUES ${values}) t(l, i, d, b, s, n) ORDER BY n`,
      ['long', 'int', 'double', 'boolean', 'string'],
    );
    // Assess
    const theirs = Buffer.concat(rows.map((r) => type.toBuffer(r)));
    expect(ours.equals(theirs)).toBe(true);
  });

  it('encodes every 64-bit integer exactly (zig-zag varint), including the extremes', async () => {
    // Act
    const ours = await encodeQuery(
      `SELECT n FROM (VALUES (0::BIGINT, 1), (-1, 2), (1, 3), (-9223372036854775808, 4), (9223372036854775807, 5), (9007199254740993, 6)) t(n, o) ORDER BY o`,
      ['long'],
    );
    // Assess: each value is union branch 1 (0x02) and the zig-zag varint of the value
    const zigzag = (n: bigint) => (n >= 0n ? n * 2n : -n * 2n - 1n);
    const varint = (v: bigint) => {
      const out: number[] = [];
      while (v > 0x7fn) {
        out.push(Number(v & 0x7fn) | 0x80);
        v >>= 7n;
      }
      out.push(Number(v));
      return out;
    };
    const expected = [0n, -1n, 1n, -9223372036854775808n, 9223372036854775807n, 9007199254740993n].flatMap(
      (n) => [2, ...varint(zigzag(n))],
    );
    expect([...ours]).toEqual(expected);
  });
});
