import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';

import { describe, expect, it } from 'vitest';

import {
  ArchiveError,
  ArchiveIntegrityError,
  ArchiveLimitError,
  ArchiveUsageError,
  readArchive,
  type ManifestObject,
  type ReadArchiveOptions,
} from '../../../src/archive/index.js';
import {
  DEFAULT_CHUNK_BYTES,
  DEFAULT_DECOMPRESS_OUTPUT_BYTES,
  DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS,
  DEFAULT_MAX_IN_FLIGHT_CHUNKS,
  DEFAULT_READABLE_HWM_BYTES,
} from '../../../src/archive/zstdStream.js';
import {
  at,
  buildRawArchive,
  buildTar,
  chunked,
  collect,
  flipByte,
  KEY_1024,
  malformedArchives,
  NASTY_KEYS,
  objectBytes,
  packToBuffer,
  randomBytesSeeded,
  sha256,
  SMALL_SPECS,
  validEntries,
  zstdCompress,
  type ObjectSpec,
} from '../../fixtures/archive/index.js';

interface Received {
  object: ManifestObject;
  body: Buffer;
}

async function readAll(
  input: Readable,
  options: Partial<ReadArchiveOptions> = {},
): Promise<{ received: Received[]; result: Awaited<ReturnType<typeof readArchive>> }> {
  const received: Received[] = [];
  const result = await readArchive(input, {
    onObject: async (object, body) => {
      received.push({ object, body: await collect(body) });
    },
    ...options,
  });
  return { received, result };
}

const ROUND_TRIP_SPECS: ObjectSpec[] = [...NASTY_KEYS, KEY_1024].map((key, i) => ({
  key,
  body: objectBytes(i, i % 4 === 0 ? 0 : i * 777),
}));

describe('Function: readArchive', () => {
  it('returns every object in order with its bytes, metadata and verified digest', async () => {
    // Prepare
    const specs: ObjectSpec[] = [
      ...ROUND_TRIP_SPECS,
      { key: 'big/one.bin', body: objectBytes(100, 5 * 1024 * 1024 + 3) },
      { key: 'big/random.bin', body: randomBytesSeeded(101, 2 * 1024 * 1024) },
      {
        key: 'meta.txt',
        body: Buffer.from('m'),
        extra: {
          contentType: 'text/plain; charset=utf-8',
          contentEncoding: 'identity',
          contentLanguage: 'de-CH',
          contentDisposition: 'attachment; filename="ü.txt"',
          cacheControl: 'max-age=60',
          expires: 'Wed, 21 Oct 2015 07:28:00 GMT',
          metadata: JSON.parse('{"x-y": "z", "__proto__": "kept"}') as Record<string, string>,
          tags: { team: 'data', 'a b': '+%' },
          storageClass: 'GLACIER_IR',
          versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
        },
      },
    ];
    const { archive, result: packed } = await packToBuffer(specs);

    // Act
    const { received, result } = await readAll(Readable.from([archive]));

    // Assess
    expect(received.map((r) => r.object.key)).toEqual(specs.map((s) => s.key));
    received.forEach((r, i) => {
      expect(r.body.equals(at(specs, i).body)).toBe(true);
    });
    const last = received.at(-1)?.object;
    expect(last?.contentDisposition).toBe('attachment; filename="ü.txt"');
    expect(last?.expires).toBe('Wed, 21 Oct 2015 07:28:00 GMT');
    expect(last?.tags).toEqual({ team: 'data', 'a b': '+%' });
    expect(last?.storageClass).toBe('GLACIER_IR');
    expect(last?.versionId).toBe('3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY');
    expect(Object.entries(last?.metadata ?? {})).toEqual([
      ['x-y', 'z'],
      ['__proto__', 'kept'],
    ]);
    expect(result.objects).toBe(specs.length);
    expect(result.bytes).toBe(specs.reduce((n, s) => n + s.body.length, 0));
    expect(result.compressedBytes).toBe(archive.length);
    expect(result.digests.map((d) => d.sha256)).toEqual(specs.map((s) => sha256(s.body)));
    expect(result.checksums).toEqual(packed.checksums);
    expect(result.manifest.objects.map((o) => o.relativeKey)).toEqual(specs.map((s) => s.key));
  });

  it('gives the same result fed 1 byte at a time and in random chunk sizes', async () => {
    // Prepare
    const { archive } = await packToBuffer(ROUND_TRIP_SPECS);
    const expected = await readAll(Readable.from([archive]));

    // Act
    const bytewise = await readAll(chunked(archive, 1));
    const random = await readAll(chunked(archive, 'random', 42, 1500));

    // Assess
    for (const twin of [bytewise, random]) {
      expect(twin.result.digests).toEqual(expected.result.digests);
      expect(twin.received.map((r) => r.body)).toEqual(expected.received.map((r) => r.body));
    }
  });

  it('reads no further ahead than its bounded buffers while onObject is slow', async () => {
    // Prepare: stored random data (level 0), so compressed bytes ≈ object bytes.
    const body = randomBytesSeeded(5, 12 * 1024 * 1024);
    const { archive } = await packToBuffer([{ key: 'slow.bin', body }], { compressionLevel: 0 });
    let pulled = 0;
    let delivered = 0;
    let maxAhead = 0;
    const input = chunked(archive, 64 * 1024);
    input.on('data', (c: Buffer) => {
      pulled += c.length;
    });

    // Act
    await readArchive(input, {
      onObject: async (_object, objectBody) => {
        for await (const chunk of objectBody) {
          delivered += (chunk as Buffer).length;
          maxAhead = Math.max(maxAhead, pulled - delivered);
          await sleep(1);
        }
      },
    });

    // Assess: the codec's buffers (input in flight, output credits and the buffer being filled, readable
    // side) plus up to 2 MiB in the input stream, tar parser and body: a few MiB, not the 12 MiB object.
    const codec =
      (DEFAULT_MAX_IN_FLIGHT_CHUNKS + 2) * DEFAULT_CHUNK_BYTES +
      (DEFAULT_MAX_DECOMPRESS_OUTPUT_CHUNKS + 1) * DEFAULT_DECOMPRESS_OUTPUT_BYTES +
      DEFAULT_READABLE_HWM_BYTES;
    expect(delivered).toBe(body.length);
    expect(maxAhead).toBeLessThan(codec + 2 * 1024 * 1024);
  });

  it('drains and verifies bodies that onObject skips or destroys', async () => {
    // Prepare
    // The third body is far larger than a body's 64 KiB read-ahead, so reading one chunk leaves most unread.
    const specs = [at(SMALL_SPECS, 0), at(SMALL_SPECS, 1), { key: 'big', body: objectBytes(5, 1024 * 1024) }];
    const { archive } = await packToBuffer(specs);
    const seen: string[] = [];
    const bodies: Readable[] = [];

    // Act
    const result = await readArchive(chunked(archive, 100), {
      onObject: async (object, body, info) => {
        seen.push(`${info.index}:${info.entry}:${object.key}`);
        bodies.push(body);
        if (info.index === 0) body.destroy();
        if (info.index === 2) {
          const iterator = body[Symbol.asyncIterator]();
          await iterator.next(); // read one chunk, then walk away
        }
      },
    });

    // Assess
    expect(seen).toEqual(specs.map((s, i) => `${i}:objects/00000000000${i}:${s.key}`));
    expect(result.digests.map((d) => d.sha256)).toEqual(specs.map((s) => sha256(s.body)));
    const partial = at(bodies, 2);
    expect(partial.destroyed).toBe(true);
    expect(partial.readableEnded).toBe(false); // a late reader sees a premature close, not a short body
  });

  it.each(malformedArchives().map((c) => [c.name, c] as const))(
    'rejects an archive with %s',
    async (_name, c) => {
      // Prepare
      const archive = await c.build();

      // Act
      const result = readAll(Readable.from([archive]));

      // Assess
      const error: unknown = await result.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(c.error);
      expect(error).toBeInstanceOf(ArchiveError);
      expect((error as Error).message).toMatch(c.message);
      if (c.entry !== undefined) expect((error as ArchiveError).entry).toBe(c.entry);
      if (c.key !== undefined) expect((error as ArchiveError).key).toBe(c.key);
    },
  );

  it('rejects the same malformed archives when fed in random chunks', async () => {
    // Prepare
    const cases = malformedArchives();

    // Act
    const outcomes = await Promise.all(
      cases.map(async (c) => {
        const archive = await c.build();
        return readAll(chunked(archive, 'random', archive.length, 100)).then(
          () => undefined,
          (e: unknown) => e,
        );
      }),
    );

    // Assess
    outcomes.forEach((error, i) => {
      expect(error, at(cases, i).name).toBeInstanceOf(at(cases, i).error);
    });
  });

  it('reports a flipped byte inside stored object data as ArchiveIntegrityError', async () => {
    // Prepare: at level 0 the object bytes sit verbatim in the frame; flip one in the middle of the big object.
    const body = randomBytesSeeded(9, 600_000);
    const { archive } = await packToBuffer([{ key: 'victim', body }], { compressionLevel: 0 });
    const at = archive.indexOf(body.subarray(300_000, 300_032));
    expect(at).toBeGreaterThan(0);

    // Act
    const result = readAll(Readable.from([flipByte(archive, at + 5)]));

    // Assess: zstd's checksum (end of frame) or the SHA-256 trailer, whichever the reader meets first.
    await expect(result).rejects.toBeInstanceOf(ArchiveIntegrityError);
    await expect(result).rejects.toThrow(/checksum|victim/);
  });

  it('reports flipped bytes anywhere in a compressed archive as a typed error, never as success', async () => {
    // Prepare
    const { archive } = await packToBuffer(SMALL_SPECS);
    const offsets = [
      4,
      10,
      Math.floor(archive.length / 3),
      Math.floor(archive.length / 2),
      archive.length - 2,
    ];

    // Act
    const outcomes = await Promise.all(
      offsets.map((o) =>
        readAll(Readable.from([flipByte(archive, o)])).then(
          () => undefined,
          (e: unknown) => e,
        ),
      ),
    );

    // Assess
    for (const error of outcomes) expect(error).toBeInstanceOf(ArchiveError);
  });

  it('caps the decompressed size: zeros appended after the tar end', async () => {
    // Prepare
    const tar = await buildTar(validEntries(SMALL_SPECS));
    const archive = await zstdCompress(Buffer.concat([tar, Buffer.alloc(2 * 1024 * 1024)]));

    // Act
    const result = readAll(Readable.from([archive]), { maxManifestBytes: 16 * 1024 });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveLimitError);
    await expect(result).rejects.toThrow(/decompresses to more than/);
  });

  it('enforces maxObjectCount and maxManifestBytes before reading objects', async () => {
    // Prepare
    const archive = await buildRawArchive(validEntries(SMALL_SPECS));
    let calls = 0;
    const onObject = (): Promise<void> => {
      calls += 1;
      return Promise.resolve();
    };

    // Act
    const [tooMany, tooBig] = await Promise.allSettled([
      readArchive(Readable.from([archive]), { onObject, maxObjectCount: 2 }),
      readArchive(Readable.from([archive]), { onObject, maxManifestBytes: 100 }),
    ]);

    // Assess
    expect(tooMany.status === 'rejected' && tooMany.reason).toBeInstanceOf(ArchiveLimitError);
    expect(tooMany.status === 'rejected' && String(tooMany.reason)).toMatch(
      /lists 3 objects, over the limit of 2/,
    );
    expect(tooBig.status === 'rejected' && tooBig.reason).toBeInstanceOf(ArchiveLimitError);
    expect(tooBig.status === 'rejected' && String(tooBig.reason)).toMatch(
      /manifest\.json is \d+ bytes, over the limit of 100/,
    );
    expect(calls).toBe(0);
  });

  it('rethrows an error from onObject as is and stops reading the input', async () => {
    // Prepare
    const { archive } = await packToBuffer(SMALL_SPECS);
    const boom = new Error('put failed');
    const input = chunked(archive, 512);

    // Act
    const result = readArchive(input, {
      onObject: async (_object, body, { index }) => {
        await collect(body);
        if (index === 0) throw boom;
      },
    });

    // Assess
    await expect(result).rejects.toBe(boom);
    expect(input.destroyed).toBe(true);
  });

  it('lets onManifest refuse an archive before any object', async () => {
    // Prepare
    const { archive } = await packToBuffer(SMALL_SPECS);
    let calls = 0;

    // Act
    const result = readArchive(Readable.from([archive]), {
      onManifest: (manifest) => {
        if (!manifest.targets.includes('ap-south-1')) throw new Error('not for this region');
      },
      onObject: () => {
        calls += 1;
        return Promise.resolve();
      },
    });

    // Assess
    await expect(result).rejects.toThrow('not for this region');
    expect(calls).toBe(0);
  });

  it('stops when its signal aborts', async () => {
    // Prepare
    const { archive } = await packToBuffer(SMALL_SPECS);
    const controller = new AbortController();

    // Act
    const result = readArchive(chunked(archive, 256), {
      signal: controller.signal,
      onObject: async () => {
        controller.abort(new Error('shutting down'));
        await sleep(10);
      },
    });

    // Assess
    await expect(result).rejects.toMatchObject({ name: 'AbortError', cause: new Error('shutting down') });
  });

  it('refuses bad limits', async () => {
    // Act
    const result = readArchive(Readable.from([]), { onObject: () => Promise.resolve(), maxObjectCount: -1 });

    // Assess
    await expect(result).rejects.toBeInstanceOf(ArchiveUsageError);
  });
});
