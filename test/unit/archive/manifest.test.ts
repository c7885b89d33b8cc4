import { describe, expect, it } from 'vitest';

import {
  ArchiveFormatError,
  createArchiveId,
  objectEntryName,
  parseChecksums,
  parseManifest,
  parseObjectEntryName,
  serializeJson,
} from '../../../src/archive/index.js';
import { buildManifest, KEY_1024, NASTY_KEYS, objectBytes } from '../../fixtures/archive/index.js';

function formatError(fn: () => unknown): ArchiveFormatError {
  try {
    fn();
  } catch (e: unknown) {
    if (e instanceof ArchiveFormatError) return e;
    throw e;
  }
  throw new Error('expected an ArchiveFormatError');
}

describe('Function: parseManifest', () => {
  it('accepts a manifest with nasty keys and returns it unchanged through JSON', () => {
    // Prepare
    const manifest = buildManifest(
      [...NASTY_KEYS, KEY_1024].map((key, i) => ({
        key,
        body: objectBytes(i, 10),
        extra: {
          metadata: { 'x y': 'ü' },
          tags: { env: 'prod' },
          versionId: 'v1',
          storageClass: 'STANDARD_IA',
        },
      })),
    );

    // Act
    const parsed = parseManifest(serializeJson(manifest));

    // Assess
    expect(parsed.objects.map((o) => o.key)).toEqual([...NASTY_KEYS, KEY_1024]);
    expect(parsed.objects[0]?.metadata).toEqual({ 'x y': 'ü' });
    expect(parsed.objects[0]?.storageClass).toBe('STANDARD_IA');
    expect(JSON.parse(serializeJson(parsed).toString())).toEqual(
      JSON.parse(serializeJson(manifest).toString()),
    );
  });

  it('keeps "__proto__" metadata and tag keys as data', () => {
    // Prepare
    const text = serializeJson(buildManifest([{ key: 'k', body: Buffer.alloc(1) }]))
      .toString()
      .replace('"metadata": {}', '"metadata": {"__proto__": "x"}');

    // Act
    const parsed = parseManifest(text);

    // Assess
    const metadata = parsed.objects[0]?.metadata ?? {};
    expect(Object.keys(metadata)).toEqual(['__proto__']);
    expect(Object.getPrototypeOf(metadata)).toBeNull();
    expect(JSON.parse(JSON.stringify(metadata))).toEqual(JSON.parse('{"__proto__":"x"}'));
  });

  it('names the JSON path of every problem', () => {
    // Prepare
    const manifest = buildManifest([
      { key: 'a', body: Buffer.alloc(1) },
      { key: 'b', body: Buffer.alloc(1) },
    ]) as unknown as { objects: Record<string, unknown>[] };
    manifest.objects[1] = { ...manifest.objects[1], size: -1, metadata: { 'a b': 5 } };

    // Act
    const error = formatError(() => parseManifest(manifest));

    // Assess
    expect(error.code).toBe('ARCHIVE_FORMAT');
    expect(error.entry).toBe('manifest.json');
    expect(error.issues.map((i) => i.path)).toEqual(['objects[1].size', 'objects[1].metadata["a b"]']);
    expect(error.message).toMatch(/^manifest\.json: objects\[1\]\.size: /);
  });

  it.each([
    ['key over 1,024 bytes', { key: `${KEY_1024}x` }, 'objects[0].key'],
    ['empty key', { key: '' }, 'objects[0].key'],
    ['lone surrogate', { key: 'a\ud800b' }, 'objects[0].key'],
    ['fractional size', { size: 1.5 }, 'objects[0].size'],
    ['size over 5 TiB', { size: 5 * 1024 ** 4 + 1 }, 'objects[0].size'],
    ['bad lastModified', { lastModified: 'yesterday' }, 'objects[0].lastModified'],
    ['non-string tag', { tags: { a: 1 } }, 'objects[0].tags.a'],
  ])('rejects an object with %s', (_name, patch, path) => {
    // Prepare
    const manifest = buildManifest([{ key: 'k', body: Buffer.alloc(1), extra: patch as never }]);

    // Act
    const error = formatError(() => parseManifest(manifest));

    // Assess
    expect(error.issues.map((i) => i.path)).toContain(path);
  });

  it.each([
    ['formatVersion', { formatVersion: 2 }],
    ['format', { format: 'tar' }],
    ['compressionLevel', { compressionLevel: 20 }],
    ['archiveId', { archiveId: '../x' }],
    ['targets', { targets: [] }],
    ['created', { created: '2025-01-01' }],
  ])('rejects a bad %s', (field, patch) => {
    // Prepare
    const manifest = { ...buildManifest([]), ...patch };

    // Act
    const error = formatError(() => parseManifest(manifest));

    // Assess
    expect(error.issues.map((i) => i.path)).toContain(field);
  });

  it('rejects text that is not JSON', () => {
    // Act
    const error = formatError(() => parseManifest('{"format":'));

    // Assess
    expect(error.message).toBe('manifest.json: not valid JSON');
    expect(error.cause).toBeInstanceOf(SyntaxError);
  });
});

describe('Function: parseChecksums', () => {
  it('accepts sha256 hex per entry name and rejects anything else', () => {
    // Prepare
    const hex = 'a'.repeat(64);
    const good = { algorithm: 'sha256', manifest: hex, objects: { 'objects/000000000000': hex } };

    // Act
    const parsed = parseChecksums(JSON.stringify(good));
    const badAlgorithm = formatError(() => parseChecksums({ ...good, algorithm: 'md5' }));
    const badHex = formatError(() => parseChecksums({ ...good, objects: { 'objects/000000000000': 'ABC' } }));

    // Assess
    expect(parsed.objects['objects/000000000000']).toBe(hex);
    expect(badAlgorithm.issues[0]?.path).toBe('algorithm');
    expect(badHex.issues[0]?.path).toBe('objects["objects/000000000000"]');
    expect(badHex.entry).toBe('checksums.json');
  });
});

describe('Function: objectEntryName', () => {
  it('zero-pads the index to 12 digits and round-trips through parseObjectEntryName', () => {
    // Act
    const names = [0, 7, 123, 999_999_999_999].map(objectEntryName);

    // Assess
    expect(names).toEqual([
      'objects/000000000000',
      'objects/000000000007',
      'objects/000000000123',
      'objects/999999999999',
    ]);
    expect(names.map(parseObjectEntryName)).toEqual([0, 7, 123, 999_999_999_999]);
    expect([...names].sort()).toEqual(names);
  });

  it('refuses impossible indexes and parses only canonical names', () => {
    // Assess
    expect(() => objectEntryName(-1)).toThrow(RangeError);
    expect(() => objectEntryName(1.5)).toThrow(RangeError);
    expect(() => objectEntryName(10 ** 12)).toThrow(RangeError);
    expect(parseObjectEntryName('objects/7')).toBeUndefined();
    expect(parseObjectEntryName('objects/000000000007/')).toBeUndefined();
    expect(parseObjectEntryName('../objects/000000000007')).toBeUndefined();
  });
});

describe('Function: createArchiveId', () => {
  it('makes ids that sort by time and satisfy the manifest schema', () => {
    // Act
    const early = createArchiveId(new Date('2025-01-01T00:00:00.123Z'));
    const late = createArchiveId(new Date('2025-01-02T00:00:00Z'));

    // Assess
    expect(early).toMatch(/^20250101T000000Z-[0-9a-f-]{36}$/);
    expect(early < late).toBe(true);
    expect(parseManifest(buildManifest([], { archiveId: early })).archiveId).toBe(early);
  });
});
