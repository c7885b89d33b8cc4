import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it, onTestFinished } from 'vitest';

import {
  ArchiveFormatError,
  ArchiveUsageError,
  createArchivePacker,
  ObjectSizeMismatchError,
  objectEntryName,
  parseChecksums,
  parseManifest,
  readArchive,
} from '../../../src/archive/index.js';
import {
  at,
  buildManifest,
  chunked,
  collect,
  KEY_1024,
  NASTY_KEYS,
  objectBytes,
  packToBuffer,
  randomBytesSeeded,
  runTool,
  settled,
  sha256,
  SMALL_SPECS,
  type ObjectSpec,
} from '../../fixtures/archive/index.js';

const ZSTD_CLI = '/usr/bin/zstd';

const SPECS: ObjectSpec[] = [
  ...[...NASTY_KEYS, KEY_1024].map((key, i) => ({ key, body: objectBytes(i, i % 3 === 0 ? 0 : 100 * i) })),
  { key: 'multi/megabyte.bin', body: objectBytes(1000, 3 * 1024 * 1024 + 17) },
];

/** Resolve with the error a promise rejects with (fails the test if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
}

describe('Function: createArchivePacker', () => {
  it('writes manifest, objects and checksums that zstd -d | tar -t lists in order', async () => {
    // Prepare
    const { archive, result, manifest } = await packToBuffer(SPECS);

    // Act
    const tar = await runTool(ZSTD_CLI, ['-d', '-c'], archive);
    const listing = await runTool('tar', ['-t'], tar.stdout);

    // Assess
    expect(tar.code).toBe(0);
    expect(listing.code).toBe(0);
    expect(listing.stdout.toString().trimEnd().split('\n')).toEqual([
      'manifest.json',
      ...SPECS.map((_s, i) => objectEntryName(i)),
      'checksums.json',
    ]);
    expect(result.objects).toBe(SPECS.length);
    expect(result.bytes).toBe(SPECS.reduce((n, s) => n + s.body.length, 0));
    expect(result.compressedBytes).toBe(archive.length);
    expect(result.zstd.threadId).not.toBe(0);
    expect(result.zstd.busySeconds).toBeGreaterThan(0);
    expect(result.checksums.objects[objectEntryName(1)]).toBe(sha256(at(SPECS, 1).body));
    expect(result.manifest).toEqual(parseManifest(manifest));
  });

  it('extracts with plain zstd -d | tar -x into index-named files only, verifiable with sha256', async () => {
    // Prepare
    const { archive } = await packToBuffer(SPECS);
    const dir = await mkdtemp(join(tmpdir(), 'baler-tar-x-'));
    onTestFinished(() => rm(dir, { recursive: true, force: true }));
    const tar = (await runTool(ZSTD_CLI, ['-d', '-c'], archive)).stdout;

    // Act
    const extracted = await runTool('tar', ['-x', '-C', dir], tar);

    // Assess
    expect(extracted.code).toBe(0);
    expect((await readdir(dir)).sort()).toEqual(['checksums.json', 'manifest.json', 'objects']);
    expect((await readdir(join(dir, 'objects'))).length).toBe(SPECS.length);
    const manifest = parseManifest(await readFile(join(dir, 'manifest.json')));
    const checksums = parseChecksums(await readFile(join(dir, 'checksums.json')));
    expect(checksums.manifest).toBe(sha256(await readFile(join(dir, 'manifest.json'))));
    for (const [i, object] of manifest.objects.entries()) {
      const data = await readFile(join(dir, objectEntryName(i)));
      expect(object.key).toBe(at(SPECS, i).key);
      expect(data.equals(at(SPECS, i).body)).toBe(true);
      expect(checksums.objects[objectEntryName(i)]).toBe(sha256(data));
    }
  });

  it('writes a store (level 0) archive that zstd -d reads too', async () => {
    // Prepare
    const specs = [{ key: 'random.bin', body: randomBytesSeeded(4, 500_000) }];

    // Act
    const { archive } = await packToBuffer(specs, { compressionLevel: 0 });
    const tar = await runTool(ZSTD_CLI, ['-d', '-c'], archive);

    // Assess
    expect(tar.code).toBe(0);
    expect(archive.length).toBeGreaterThan(500_000);
    expect(archive.length).toBeLessThan(500_000 + 8 * 1024);
  });

  it('writes an archive with no objects', async () => {
    // Act
    const { archive, result } = await packToBuffer([]);
    const read = await readArchive(Readable.from([archive]), { onObject: () => Promise.resolve() });

    // Assess
    expect(result.objects).toBe(0);
    expect(read.objects).toBe(0);
    expect(read.manifest.archiveId).toBe(result.manifest.archiveId);
  });

  it('accepts object bodies in any chunking, including 1-byte chunks and async iterables', async () => {
    // Prepare
    const specs = SMALL_SPECS;
    const manifest = buildManifest(specs);
    const packer = createArchivePacker({ manifest });
    const output = collect(packer.output);

    // Act
    await packer.addObject(0, chunked(at(specs, 0).body, 1), at(specs, 0).body.length);
    await packer.addObject(1, Readable.from([]), 0);
    await packer.addObject(
      2,
      (async function* () {
        yield new Uint8Array(at(specs, 2).body.subarray(0, 10));
        await sleep(1);
        yield at(specs, 2).body.subarray(10);
      })(),
      at(specs, 2).body.length,
    );
    await packer.finalize();
    const read = await readArchive(Readable.from([await output]), { onObject: () => Promise.resolve() });

    // Assess
    expect(read.digests.map((d) => d.sha256)).toEqual(specs.map((s) => sha256(s.body)));
  });

  it('stops pulling object bytes while the output is not read (backpressure)', async () => {
    // Prepare: 32 MiB of stored random data; nobody reads the output at first.
    const size = 32 * 1024 * 1024;
    const manifest = buildManifest([{ key: 'big', body: Buffer.alloc(0) }], { compressionLevel: 0 });
    manifest.objects[0] = { ...at(manifest.objects, 0), size };
    let pulled = 0;
    const body = new Readable({
      read() {
        if (pulled >= size) {
          this.push(null);
          return;
        }
        const chunk = randomBytesSeeded(pulled, 64 * 1024);
        pulled += chunk.length;
        this.push(chunk);
      },
    });
    const packer = createArchivePacker({ manifest });

    // Act
    const adding = packer.addObject(0, body, size);
    const pulledWhileStalled = await settled(() => pulled);
    let written = 0;
    const drain = pipeline(
      packer.output,
      new Writable({
        write(chunk: Buffer, _encoding, callback) {
          written += chunk.length;
          callback();
        },
      }),
    );
    await adding;
    await packer.finalize();
    await drain;

    // Assess
    expect(pulledWhileStalled).toBeGreaterThan(0);
    expect(pulledWhileStalled).toBeLessThan(4 * 1024 * 1024);
    expect(written).toBeGreaterThan(size);
  });

  it('rejects a body shorter than its size with ObjectSizeMismatchError and voids the output', async () => {
    // Prepare
    const manifest = buildManifest(SMALL_SPECS);
    const packer = createArchivePacker({ manifest });
    const output = collect(packer.output);

    // Act
    const error = await rejection(
      packer.addObject(0, Readable.from([at(SMALL_SPECS, 0).body.subarray(1)]), 1000),
    );

    // Assess
    expect(error).toBeInstanceOf(ObjectSizeMismatchError);
    expect(error).toMatchObject({
      expectedBytes: 1000,
      actualBytes: 999,
      key: 'first.txt',
      entry: objectEntryName(0),
    });
    await expect(output).rejects.toBe(error);
    await expect(packer.addObject(1, Readable.from([]), 0)).rejects.toThrow(/failed earlier/);
    await expect(packer.finalize()).rejects.toBeInstanceOf(ArchiveUsageError);
  });

  it('rejects a body longer than its size as soon as it overflows', async () => {
    // Prepare
    const manifest = buildManifest(SMALL_SPECS);
    const packer = createArchivePacker({ manifest });
    const output = collect(packer.output);
    let yielded = 0;
    const endless = Readable.from(
      (function* () {
        for (;;) {
          yielded += 1;
          yield Buffer.alloc(400, 1);
        }
      })(),
    );

    // Act
    const error = await rejection(packer.addObject(0, endless, 1000));

    // Assess
    expect(error).toBeInstanceOf(ObjectSizeMismatchError);
    expect(error).toMatchObject({ expectedBytes: 1000, actualBytes: 1200 });
    expect(yielded).toBeLessThan(10);
    expect(endless.destroyed).toBe(true);
    await expect(output).rejects.toBe(error);
  });

  it('refuses objects out of order, sizes that contradict the manifest and concurrent calls', async () => {
    // Prepare
    const packer = createArchivePacker({ manifest: buildManifest(SMALL_SPECS) });
    const output = collect(packer.output);

    // Act
    const wrongIndex = await rejection(packer.addObject(1, Readable.from([]), 0));
    const wrongSize = await rejection(packer.addObject(0, Readable.from([]), 5));
    const first = packer.addObject(0, chunked(at(SMALL_SPECS, 0).body, 10), 1000);
    const concurrent = await rejection(packer.addObject(1, Readable.from([]), 0));
    await first;
    const early = await rejection(packer.finalize());
    await packer.addObject(1, Readable.from([]), 0);
    await packer.addObject(2, Readable.from([at(SMALL_SPECS, 2).body]), 3000);
    await packer.finalize();
    const late = await rejection(packer.addObject(3, Readable.from([]), 0));

    // Assess
    expect(wrongIndex).toBeInstanceOf(ArchiveUsageError);
    expect(String(wrongIndex)).toMatch(/expected index 0, got 1/);
    expect(String(wrongSize)).toMatch(/expectedSize 5 differs from manifest size 1000/);
    expect(String(concurrent)).toMatch(/previous addObject\(\) is still running/);
    expect(String(early)).toMatch(/2 of 3 objects not added yet \(next: index 1\)/);
    expect(String(late)).toMatch(/already finalized/);
    const read = await readArchive(Readable.from([await output]), { onObject: () => Promise.resolve() });
    expect(read.objects).toBe(3);
  });

  it('refuses an invalid manifest, naming the JSON path', () => {
    // Prepare
    const manifest = buildManifest(SMALL_SPECS);
    manifest.objects[2] = { ...at(manifest.objects, 2), lastModified: 'never' };

    // Act
    const act = (): unknown => createArchivePacker({ manifest });

    // Assess
    expect(act).toThrow(ArchiveFormatError);
    expect(act).toThrow(/objects\[2\]\.lastModified/);
  });

  it('fails addObject instead of hanging when the consumer destroys the output', async () => {
    // Prepare
    const size = 8 * 1024 * 1024;
    const manifest = buildManifest([{ key: 'x', body: Buffer.alloc(0) }], { compressionLevel: 0 });
    manifest.objects[0] = { ...at(manifest.objects, 0), size };
    const packer = createArchivePacker({ manifest });
    const body = Readable.from(
      (function* () {
        for (let i = 0; i < 128; i += 1) yield randomBytesSeeded(i, 64 * 1024);
      })(),
    );

    // Act
    const adding = packer.addObject(0, body, size);
    await sleep(50);
    packer.output.destroy(new Error('upload failed'));

    // Assess
    await expect(adding).rejects.toThrow('upload failed');
    expect(body.destroyed).toBe(true);
  });

  it('propagates a body error and stops on abort', async () => {
    // Prepare
    const packer = createArchivePacker({ manifest: buildManifest(SMALL_SPECS) });
    const output = collect(packer.output);
    const controller = new AbortController();
    const aborted = createArchivePacker({ manifest: buildManifest(SMALL_SPECS), signal: controller.signal });
    const abortedOutput = collect(aborted.output);
    const broken = new Readable({
      read() {
        this.destroy(new Error('socket reset'));
      },
    });

    // Act
    const error = await rejection(packer.addObject(0, broken, 1000));
    controller.abort(new Error('shutdown'));

    // Assess
    expect(String(error)).toMatch(/socket reset/);
    await expect(output).rejects.toThrow('socket reset');
    await expect(abortedOutput).rejects.toThrow('shutdown');
    await expect(aborted.addObject(0, Readable.from([]), 1000)).rejects.toThrow(/failed earlier/);
  });
});
