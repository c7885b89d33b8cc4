/**
 * Declared schemas (`--schema schema.json`) and the Avro schema of an output. Pure: no I/O.
 */
import { z } from 'zod';
import { SchemaError } from './errors.js';
import { ColumnType, type Column } from './types.js';

const declaredSchema = z.strictObject({
  columns: z
    .array(
      z.strictObject({
        name: z.string().min(1),
        type: z.enum(Object.values(ColumnType) as [ColumnType, ...ColumnType[]]),
      }),
    )
    .min(1),
});

/** A declared schema: the type of each column, by header name. */
export type DeclaredSchema = z.infer<typeof declaredSchema>;

/**
 * Parse a declared schema document: `{"columns": [{"name": "id", "type": "integer"}, ...]}` with types
 * `boolean`, `integer`, `float`, `date`, `timestamp`, `string`.
 *
 * @throws SchemaError naming the JSON path and what is allowed
 * @example
 * parseDeclaredSchema({ columns: [{ name: 'id', type: 'integer' }] });
 */
export function parseDeclaredSchema(doc: unknown, source = 'schema'): DeclaredSchema {
  const r = declaredSchema.safeParse(doc);
  if (!r.success) {
    const issues = r.error.issues
      .slice(0, 3)
      .map((i) => `${i.path.length ? i.path.join('.') : '(root)'}: ${i.message}`)
      .join('; ');
    throw new SchemaError(`${source}: ${issues}`);
  }
  const seen = new Set<string>();
  for (const c of r.data.columns) {
    if (seen.has(c.name))
      throw new SchemaError(`${source}: column ${JSON.stringify(c.name)} is declared twice`);
    seen.add(c.name);
  }
  return r.data;
}

/**
 * The declared type of each header column, in header order.
 *
 * @throws SchemaError when a header column is not declared or a declared column is not in the header
 */
export function applyDeclaredSchema(names: readonly string[], schema: DeclaredSchema): Column[] {
  const byName = new Map(schema.columns.map((c) => [c.name, c.type]));
  const missing = names.filter((n) => !byName.has(n));
  const unknown = schema.columns.map((c) => c.name).filter((n) => !names.includes(n));
  if (missing.length || unknown.length) {
    const parts = [
      missing.length ? `not declared: ${missing.map((n) => JSON.stringify(n)).join(', ')}` : '',
      unknown.length ? `not in the header: ${unknown.map((n) => JSON.stringify(n)).join(', ')}` : '',
    ].filter(Boolean);
    throw new SchemaError(`the declared schema does not match the header (${parts.join('; ')})`);
  }
  return names.map((name) => ({ name, type: byName.get(name) as ColumnType }));
}

/** Is every value of type `narrow` also a value of type `wide`, unchanged? (the widening lattice) */
export function fitsIn(narrow: ColumnType, wide: ColumnType): boolean {
  if (narrow === wide || wide === 'string') return true;
  return (narrow === 'integer' && wide === 'float') || (narrow === 'date' && wide === 'timestamp');
}

const AVRO_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Avro field names for the columns: Avro allows `[A-Za-z_][A-Za-z0-9_]*`, so other characters become `_`,
 * a leading digit gets a `_` in front, and clashes get `_2`, `_3`, ... The header name is kept in the
 * field's `doc`.
 *
 * @example
 * avroFieldNames(['id', 'first name', '1st']); // ['id', 'first_name', '_1st']
 */
export function avroFieldNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    let base = n.replace(/[^A-Za-z0-9_]/g, '_');
    if (!AVRO_NAME.test(base)) base = `_${base}`;
    let name = base;
    for (let i = 2; seen.has(name); i++) name = `${base}_${i}`;
    seen.add(name);
    return name;
  });
}

/** Precision of the Avro timestamps of a file: millis unless some value has sub-millisecond digits. */
export type TimestampPrecision = 'millis' | 'micros';

/** The Avro type of a column (without the null branch). */
function avroType(type: ColumnType, precision: TimestampPrecision): unknown {
  switch (type) {
    case 'boolean':
      return 'boolean';
    case 'integer':
      return 'long';
    case 'float':
      return 'double';
    case 'date':
      return { type: 'int', logicalType: 'date' };
    case 'timestamp':
      return { type: 'long', logicalType: `timestamp-${precision}` };
    case 'string':
      return 'string';
  }
}

/**
 * The Avro record schema of a file: one field per column, each a `["null", T]` union with default null;
 * dates are `int`/`date`, timestamps `long`/`timestamp-millis` (or `timestamp-micros` when a value has
 * sub-millisecond digits, per column: `precision[i]`; naive CSV timestamps are taken as UTC).
 *
 * @example
 * avroSchema([{ name: 'id', type: 'integer' }]);
 * // { type: 'record', name: 'Row', namespace: 'baler.convert', fields: [{ name: 'id', type: ['null', 'long'], default: null, doc: 'id' }] }
 */
export function avroSchema(columns: readonly Column[], precision: readonly TimestampPrecision[] = []) {
  const names = avroFieldNames(columns.map((c) => c.name));
  return {
    type: 'record',
    name: 'Row',
    namespace: 'baler.convert',
    fields: columns.map((c, i) => ({
      name: names[i] as string,
      type: ['null', avroType(c.type, precision[i] ?? 'millis')],
      default: null,
      doc: c.name,
    })),
  };
}
