import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Readable } from 'node:stream';

import { afterEach, describe, expect, it } from 'vitest';

import {
  ArchiveFormatError,
  ArchiveIntegrityError,
  checkRelativeKey,
  inspectArchive,
  objectEntryName,
  serializeJson,
  unpackToDirectory,
} from '../../../src/archive/index.js';
import {
  at,
  buildManifest,
  buildRawArchive,
  chunked,
  KEY_1024,
  malformedArchives,
  objectBytes,
  packToBuffer,
  sha256,
  SMALL_SPECS,
  validEntries,
  type ObjectSpec,
} from '../../fixtures/archive/index.js';

/** Every file below `dir`, as paths relative to it. */
async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile() || e.isSymbolicLink())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

const sandboxes: string[] = [];

afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function sandbox(): Promise<{ base: string; out: string }> {
  const base = await mkdtemp(join(tmpdir(), 'baler-unpack-'));
  sandboxes.push(base);
  const out = join(base, 'out');
  return { base, out };
}

describe('Function: checkRelativeKey', () => {
  it.each([
    ['a.txt', ['a.txt']],
    ['dir/sub/ü 日本 +%.txt', ['dir', 'sub', 'ü 日本 +%.txt']],
    ['..a/b..', ['..a', 'b..']],
    ['.hidden/x', ['.hidden', 'x']],
  ])('accepts %j', (key, segments) => {
    // Assess
    expect(checkRelativeKey(key)).toEqual({ ok: true, segments });
  });

  it.each([
    ['', /empty/],
    ['../evil', /"\.\." segment/],
    ['a/../../evil', /"\.\." segment/],
    ['a/./b', /"\." segment/],
    ['/etc/passwd', /absolute/],
    ['a//b', /empty segment/],
    ['folder/', /empty segment/],
    ['nul\u0000byte', /NUL/],
    [`${'x'.repeat(256)}/y`, /longer than 255 bytes/],
    [KEY_1024, /longer than 255 bytes/],
  ])('refuses %j', (key, reason) => {
    // Act
    const check = checkRelativeKey(key);

    // Assess
    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toMatch(reason);
  });
});

describe('Function: unpackToDirectory', () => {
  it('writes each object to dir/<relativeKey> and the manifest, refusing unsafe keys', async () => {
    // Prepare
    const { base, out } = await sandbox();
    const specs: ObjectSpec[] = [
      { key: 'prefix/a.txt', relativeKey: 'a.txt', body: objectBytes(1, 100) },
      { key: 'prefix/dir/ü +%.bin', relativeKey: 'dir/ü +%.bin', body: objectBytes(2, 2 * 1024 * 1024) },
      { key: 'prefix/empty', relativeKey: 'empty', body: Buffer.alloc(0) },
      { key: 'prefix/../evil', relativeKey: '../evil', body: Buffer.from('evil') },
      { key: 'prefix//abs', relativeKey: '/abs-evil', body: Buffer.from('evil') },
      { key: 'prefix/folder/', relativeKey: 'folder/', body: Buffer.alloc(0) },
      { key: KEY_1024, relativeKey: KEY_1024, body: Buffer.from('long') },
    ];
    const { archive } = await packToBuffer(specs, { monitoredPrefix: 'prefix/' });

    // Act
    const result = await unpackToDirectory(Readable.from([archive]), out);

    // Assess
    expect(await listFiles(out)).toEqual(['a.txt', 'dir/ü +%.bin', 'empty', 'manifest.json']);
    expect((await readFile(join(out, 'dir/ü +%.bin'))).equals(at(specs, 1).body)).toBe(true);
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toContain('"monitoredPrefix": "prefix/"');
    expect(result.written.map((w) => w.key)).toEqual(['prefix/a.txt', 'prefix/dir/ü +%.bin', 'prefix/empty']);
    expect(result.rejected.map((r) => [r.relativeKey, r.error.code])).toEqual([
      ['../evil', 'ARCHIVE_UNSAFE_PATH'],
      ['/abs-evil', 'ARCHIVE_UNSAFE_PATH'],
      ['folder/', 'ARCHIVE_UNSAFE_PATH'],
      [KEY_1024, 'ARCHIVE_UNSAFE_PATH'],
    ]);
    expect(result.rejected[0]?.error.reason).toMatch(/"\.\." segment/);
    expect(await readdir(base)).toEqual(['out']);
    expect(result.bytes).toBe(specs.reduce((n, s) => n + s.body.length, 0));
  });

  it('never writes outside the directory for a hand-made malicious archive', async () => {
    // Prepare: keys are data, so this manifest is schema-valid; only the writer can refuse it.
    const { base, out } = await sandbox();
    const evil: ObjectSpec[] = [
      { key: '../evil', body: Buffer.from('1') },
      { key: '../../evil', body: Buffer.from('2') },
      { key: 'ok/../../evil', body: Buffer.from('3') },
      { key: '/tmp/evil', body: Buffer.from('4') },
      { key: 'ok/file.txt', body: Buffer.from('5') },
    ];
    const archive = await buildRawArchive(validEntries(evil));

    // Act
    const result = await unpackToDirectory(Readable.from([archive]), out);

    // Assess
    expect(await listFiles(base)).toEqual(['out/manifest.json', 'out/ok/file.txt']);
    expect(result.rejected.map((r) => r.key)).toEqual([
      '../evil',
      '../../evil',
      'ok/../../evil',
      '/tmp/evil',
    ]);
  });

  it('writes the same files when the archive arrives 1 byte or random chunks at a time', async () => {
    // Prepare
    const specs: ObjectSpec[] = SMALL_SPECS.map((s) => ({ ...s, key: `k/${s.key}` }));
    const { archive } = await packToBuffer(specs);
    const whole = await sandbox();
    const bytewise = await sandbox();
    const random = await sandbox();

    // Act
    await unpackToDirectory(Readable.from([archive]), whole.out);
    await unpackToDirectory(chunked(archive, 1), bytewise.out);
    await unpackToDirectory(chunked(archive, 'random', 3, 900), random.out);

    // Assess
    const expected = await listFiles(whole.out);
    expect(expected).toEqual(['k/first.txt', 'k/second key+%.txt', 'manifest.json']);
    for (const twin of [bytewise, random]) {
      expect(await listFiles(twin.out)).toEqual(expected);
      for (const file of expected) {
        expect((await readFile(join(twin.out, file))).equals(await readFile(join(whole.out, file)))).toBe(
          true,
        );
      }
    }
  });

  it('refuses a tar entry whose own name escapes and writes nothing', async () => {
    // Prepare
    const { base, out } = await sandbox();
    const entries = validEntries(SMALL_SPECS);
    entries[1] = { name: '../evil', data: at(entries, 1).data };
    const archive = await buildRawArchive(entries);

    // Act
    const result = unpackToDirectory(Readable.from([archive]), out);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveFormatError);
    expect(await listFiles(base)).toEqual([]);
  });

  it('does not follow a symlink inside the directory that points outside', async () => {
    // Prepare
    const { base, out } = await sandbox();
    const outside = join(base, 'outside');
    await mkdir(outside);
    await mkdir(out);
    await symlink(outside, join(out, 'link'));
    const { archive } = await packToBuffer([
      { key: 'link/evil', body: Buffer.from('x') },
      { key: 'fine', body: Buffer.from('y') },
    ]);

    // Act
    const result = await unpackToDirectory(Readable.from([archive]), out);

    // Assess
    expect(await readdir(outside)).toEqual([]);
    expect(result.rejected.map((r) => [r.key, r.error.reason])).toEqual([
      ['link/evil', 'has a parent directory that resolves outside the directory'],
    ]);
    expect(result.written.map((w) => w.key)).toEqual(['fine']);
  });

  it('reports path conflicts, a key colliding with the manifest, and lets a later duplicate win', async () => {
    // Prepare
    const { out } = await sandbox();
    const { archive } = await packToBuffer([
      { key: 'a', body: Buffer.from('file a') },
      { key: 'a/b', body: Buffer.from('file a/b') },
      { key: 'manifest.json', body: Buffer.from('{"fake":true}') },
      { key: 'dup', body: Buffer.from('first') },
      { key: 'dup', body: Buffer.from('second') },
    ]);

    // Act
    const result = await unpackToDirectory(Readable.from([archive]), out);

    // Assess
    expect(await readFile(join(out, 'a/b'), 'utf8')).toBe('file a/b');
    expect(await readFile(join(out, 'dup'), 'utf8')).toBe('second');
    expect(await readFile(join(out, 'manifest.json'), 'utf8')).toContain('"format": "baler-archive"');
    expect(result.rejected.map((r) => [r.key, r.error.reason])).toEqual([
      ['a', expect.stringMatching(/conflicts with another path \((EISDIR|EEXIST|ENOTDIR)\)/) as unknown],
      ['manifest.json', 'collides with the manifest file'],
    ]);
  });

  it('renames nothing into place when the archive fails verification', async () => {
    // Prepare
    const { base, out } = await sandbox();
    const forged = validEntries(SMALL_SPECS, {
      checksums: Object.fromEntries(
        SMALL_SPECS.map((_s, i) => [objectEntryName(i), sha256(Buffer.from('no'))]),
      ),
    });
    const archive = await buildRawArchive(forged);

    // Act
    const result = unpackToDirectory(Readable.from([archive]), out);

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveIntegrityError);
    expect(await listFiles(base)).toEqual([]);
  });

  it.each(malformedArchives().map((c) => [c.name, c] as const))(
    'leaves no files behind for an archive with %s',
    async (_name, c) => {
      // Prepare
      const { base, out } = await sandbox();
      const archive = await c.build();

      // Act
      const result = unpackToDirectory(Readable.from([archive]), out);

      // Assess
      await expect(result).rejects.toBeInstanceOf(c.error);
      expect(await listFiles(base)).toEqual([]);
    },
  );

  it('writes the manifest where asked', async () => {
    // Prepare
    const { base, out } = await sandbox();
    const { archive } = await packToBuffer(SMALL_SPECS.slice(0, 1));
    const manifestPath = join(base, 'meta', 'batch.json');

    // Act
    const result = await unpackToDirectory(Readable.from([archive]), out, { manifestPath });

    // Assess
    expect(result.manifestPath).toBe(manifestPath);
    expect(await listFiles(base)).toEqual(['meta/batch.json', 'out/first.txt']);
  });

  it('overwrites an existing file with the archived bytes', async () => {
    // Prepare
    const { out } = await sandbox();
    await mkdir(out);
    await writeFile(join(out, 'first.txt'), 'stale');
    const { archive } = await packToBuffer(SMALL_SPECS.slice(0, 1));

    // Act
    await unpackToDirectory(Readable.from([archive]), out);

    // Assess
    expect((await readFile(join(out, 'first.txt'))).equals(at(SMALL_SPECS, 0).body)).toBe(true);
  });
});

describe('Function: inspectArchive', () => {
  it('lists every entry with sizes and verified digests without writing anything', async () => {
    // Prepare
    const { archive, result: packed } = await packToBuffer(SMALL_SPECS);
    const manifestBytes = serializeJson(buildManifest(SMALL_SPECS)).length;

    // Act
    const inspection = await inspectArchive(Readable.from([archive]));

    // Assess
    expect(inspection.entries).toEqual([
      { name: 'manifest.json', size: manifestBytes },
      ...SMALL_SPECS.map((s, i) => ({
        name: objectEntryName(i),
        index: i,
        key: s.key,
        size: s.body.length,
        sha256: sha256(s.body),
      })),
      { name: 'checksums.json', size: serializeJson(packed.checksums).length },
    ]);
    expect(inspection.compressedBytes).toBe(archive.length);
    expect(inspection.bytes).toBe(4000);
    expect(inspection.tarBytes % 512).toBe(0);
    expect(inspection.manifest.archiveId).toBe('20250101T000000Z-test');
  });
});
