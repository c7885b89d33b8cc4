import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  localTarget,
  NAME_MAX_BYTES,
  PARTIAL_SUFFIX,
  PATH_MAX_BYTES,
  RESUME_SUFFIX,
  RESUME_TMP_SUFFIX,
} from '../../src/soak/keyPath.js';
import {
  discardPartial,
  readResumeRecord,
  recordMatches,
  writeResumeRecord,
  type ResumeRecord,
} from '../../src/soak/resume.js';

const record: ResumeRecord = {
  v: 1,
  etag: '"9b2cf535f27731c974343645a3985328"',
  size: 64 * 1024 * 1024,
  lastModified: '2026-11-20T10:00:00.000Z',
  mode: 'ranged',
  partSizeBytes: 8 * 1024 * 1024,
  done: [0, 1, 5],
};

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'baler-soak-resume-'));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('Function: writeResumeRecord / readResumeRecord', () => {
  it('round-trips a record', async () => {
    const file = path.join(dir, `big.bin${RESUME_SUFFIX}`);
    await writeResumeRecord(file, record);
    expect(await readResumeRecord(file)).toEqual(record);
  });

  it('round-trips a stream record with no parts done and an empty object', async () => {
    const file = path.join(dir, 'r.json');
    const stream: ResumeRecord = { ...record, mode: 'stream', size: 0, done: [] };
    await writeResumeRecord(file, stream);
    expect(await readResumeRecord(file)).toEqual(stream);
  });

  it('replaces the previous record and leaves no temp file behind', async () => {
    const file = path.join(dir, 'r.json');
    await writeResumeRecord(file, record);
    await writeResumeRecord(file, { ...record, done: [0, 1, 2, 3] });
    expect((await readResumeRecord(file))?.done).toEqual([0, 1, 2, 3]);
    expect(await readdir(dir)).toEqual(['r.json']);
  });

  it('writes JSON that names the version', async () => {
    const file = path.join(dir, 'r.json');
    await writeResumeRecord(file, record);
    expect(JSON.parse(await readFile(file, 'utf8'))).toMatchObject({ v: 1, etag: record.etag });
  });

  it('reads a missing file as undefined', async () => {
    expect(await readResumeRecord(path.join(dir, 'none.json'))).toBeUndefined();
  });

  it('reads a directory as undefined', async () => {
    await mkdir(path.join(dir, 'sub'));
    expect(await readResumeRecord(path.join(dir, 'sub'))).toBeUndefined();
  });

  it.each([
    ['empty', ''],
    ['truncated', JSON.stringify(record).slice(0, 40)],
    ['not JSON', 'etag=abc'],
    ['a JSON null', 'null'],
    ['a JSON array', '[]'],
    ['a JSON string', '"x"'],
  ])('reads a corrupt file (%s) as undefined', async (_label, text) => {
    const file = path.join(dir, 'r.json');
    await writeFile(file, text);
    expect(await readResumeRecord(file)).toBeUndefined();
  });

  it.each([
    ['another version', { ...record, v: 2 }],
    ['no etag', { ...record, etag: undefined }],
    ['an empty etag', { ...record, etag: '' }],
    ['a negative size', { ...record, size: -1 }],
    ['a fractional size', { ...record, size: 1.5 }],
    ['a size as a string', { ...record, size: '100' }],
    ['an unknown mode', { ...record, mode: 'parallel' }],
    ['a zero part size', { ...record, partSizeBytes: 0 }],
    ['a negative part index', { ...record, done: [0, -1] }],
    ['done not an array', { ...record, done: 3 }],
    ['no lastModified', { ...record, lastModified: undefined }],
  ])('reads a record with %s as undefined', async (_label, value) => {
    const file = path.join(dir, 'r.json');
    await writeFile(file, JSON.stringify(value));
    expect(await readResumeRecord(file)).toBeUndefined();
  });

  // localTarget keeps room for `NAME.partial.json.tmp`, the temp file writeResumeRecord writes first
  // (255 − 17 = 238 bytes for NAME), so a record can be written for every name it accepts.
  it('can write the record of the longest file name localTarget accepts', async () => {
    const name = 'x'.repeat(NAME_MAX_BYTES - Buffer.byteLength(RESUME_TMP_SUFFIX));
    expect(Buffer.byteLength(name)).toBe(238);
    expect(localTarget(dir, `${name}x`).ok).toBe(false);
    const target = localTarget(dir, name);
    expect(target.ok).toBe(true);
    if (!target.ok) return;
    expect(Buffer.byteLength(path.basename(target.path) + RESUME_TMP_SUFFIX)).toBe(NAME_MAX_BYTES);
    await writeFile(target.path + PARTIAL_SUFFIX, 'partial bytes');
    await writeResumeRecord(target.path + RESUME_SUFFIX, record);
    expect(await readResumeRecord(target.path + RESUME_SUFFIX)).toEqual(record);
    expect((await readdir(dir)).sort()).toEqual([name + PARTIAL_SUFFIX, name + RESUME_SUFFIX]);
  });

  // Linux's PATH_MAX (4096) counts the terminating NUL, so the longest usable path is 4095 bytes; localTarget
  // keeps room for `.partial.json.tmp` within it.
  it('can write the record of the longest path localTarget accepts', async () => {
    // Directories of 200 bytes until the room left fits a last name (≤ 238 bytes), then a name that fills it.
    const segments: string[] = [];
    let deep = dir;
    const maxName = NAME_MAX_BYTES - Buffer.byteLength(RESUME_TMP_SUFFIX);
    const room = () =>
      PATH_MAX_BYTES - 1 - Buffer.byteLength(RESUME_TMP_SUFFIX) - Buffer.byteLength(deep) - 1;
    while (room() > maxName) {
      segments.push('d'.repeat(200));
      deep = path.join(deep, 'd'.repeat(200));
    }
    await mkdir(deep, { recursive: true });
    const last = 'f'.repeat(room());
    const key = [...segments, last].join('/');
    // One byte more (in a directory name, so that no name is too long) and the key is refused.
    const longer = [`${segments[0] ?? ''}d`, ...segments.slice(1), last].join('/');
    expect(localTarget(dir, longer)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/path too long/) as unknown,
    });
    const target = localTarget(dir, key);
    expect(target.ok).toBe(true);
    if (!target.ok) return;
    expect(Buffer.byteLength(target.path + RESUME_TMP_SUFFIX)).toBe(PATH_MAX_BYTES - 1);
    await writeFile(target.path + PARTIAL_SUFFIX, 'partial bytes');
    await writeResumeRecord(target.path + RESUME_SUFFIX, record);
    expect(await readResumeRecord(target.path + RESUME_SUFFIX)).toEqual(record);
  });
});

describe('Function: recordMatches', () => {
  const object = { etag: record.etag, size: record.size };

  it('matches the same version and layout', () => {
    expect(recordMatches(record, object, 'ranged', record.partSizeBytes)).toBe(true);
  });

  it('does not match without a record', () => {
    expect(recordMatches(undefined, object, 'ranged', record.partSizeBytes)).toBe(false);
  });

  it('does not match another ETag (the object changed)', () => {
    expect(
      recordMatches(
        record,
        { ...object, etag: '"00000000000000000000000000000000"' },
        'ranged',
        record.partSizeBytes,
      ),
    ).toBe(false);
  });

  it('compares ETags exactly (quotes and case included)', () => {
    expect(
      recordMatches(record, { ...object, etag: record.etag.slice(1, -1) }, 'ranged', record.partSizeBytes),
    ).toBe(false);
    expect(
      recordMatches(record, { ...object, etag: record.etag.toUpperCase() }, 'ranged', record.partSizeBytes),
    ).toBe(false);
  });

  it('does not match another size', () => {
    expect(recordMatches(record, { ...object, size: object.size + 1 }, 'ranged', record.partSizeBytes)).toBe(
      false,
    );
  });

  it('does not match another mode', () => {
    expect(recordMatches(record, object, 'stream', record.partSizeBytes)).toBe(false);
    expect(recordMatches({ ...record, mode: 'stream' }, object, 'ranged', record.partSizeBytes)).toBe(false);
  });

  it('does not match another part size in ranged mode (part indexes would point elsewhere)', () => {
    expect(recordMatches(record, object, 'ranged', record.partSizeBytes * 2)).toBe(false);
  });

  it('ignores the part size in stream mode (it resumes from the file length)', () => {
    const stream: ResumeRecord = { ...record, mode: 'stream', done: [] };
    expect(recordMatches(stream, object, 'stream', record.partSizeBytes * 2)).toBe(true);
  });
});

describe('Function: discardPartial', () => {
  it('removes the partial file and its record', async () => {
    const partial = path.join(dir, `a.bin${PARTIAL_SUFFIX}`);
    const rec = path.join(dir, `a.bin${RESUME_SUFFIX}`);
    await writeFile(partial, 'bytes');
    await writeResumeRecord(rec, record);
    await writeFile(path.join(dir, 'a.bin'), 'a finished file stays');
    await discardPartial(partial, rec);
    expect(await readdir(dir)).toEqual(['a.bin']);
  });

  it('tolerates missing files', async () => {
    const partial = path.join(dir, `b.bin${PARTIAL_SUFFIX}`);
    const rec = path.join(dir, `b.bin${RESUME_SUFFIX}`);
    await expect(discardPartial(partial, rec)).resolves.toBeUndefined();
    await writeFile(partial, 'bytes');
    await discardPartial(partial, rec);
    expect(await readdir(dir)).toEqual([]);
    await writeResumeRecord(rec, record);
    await discardPartial(partial, rec);
    expect(await readdir(dir)).toEqual([]);
  });

  it('tolerates a missing directory', async () => {
    await expect(
      discardPartial(path.join(dir, 'no', `c${PARTIAL_SUFFIX}`), path.join(dir, 'no', `c${RESUME_SUFFIX}`)),
    ).resolves.toBeUndefined();
  });
});
