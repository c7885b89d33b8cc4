import { Readable } from 'node:stream';

import { describe, expect, it } from 'vitest';

import {
  ArchiveFormatError,
  ArchiveIntegrityError,
  BlockHasher,
  blockCount,
  readArchive,
  serializeJson,
  type Manifest,
  type ObjectDigest,
} from '../../../src/archive/index.js';
import {
  buildManifest,
  buildRawArchive,
  chunked,
  collect,
  objectBytes,
  packToBuffer,
  sha256,
  type ObjectSpec,
} from '../../fixtures/archive/index.js';

const KiB = 1024;
const BLOCK = 64 * KiB;

/** SHA-256 of each `block`-byte slice of `data`. */
function sliceDigests(data: Buffer, block: number): string[] {
  const out: string[] = [];
  for (let off = 0; off < data.length; off += block) out.push(sha256(data.subarray(off, off + block)));
  return out;
}

const SPECS: ObjectSpec[] = [
  { key: 'empty', body: Buffer.alloc(0) },
  { key: 'one-block-exactly', body: objectBytes(1, BLOCK) },
  { key: 'three-and-a-bit', body: objectBytes(2, 3 * BLOCK + 17) },
  { key: 'small', body: objectBytes(3, 1000) },
  { key: 'two-exactly', body: objectBytes(4, 2 * BLOCK) },
];

describe('Class: BlockHasher', () => {
  it.each([1, 7, 4096, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK])(
    'gives the digest of every block whatever the chunking (chunks of %i bytes)',
    async (chunk) => {
      const data = objectBytes(9, 5 * BLOCK + 123);
      const h = new BlockHasher(BLOCK);
      for await (const c of chunked(data, chunk)) h.update(c as Buffer);
      expect(h.finish()).toEqual(sliceDigests(data, BLOCK));
      expect(h.finish()).toHaveLength(blockCount(data.length, BLOCK)); // idempotent
    },
  );

  it('has no block for no bytes, and refuses a block size that is not a positive integer', () => {
    expect(new BlockHasher(BLOCK).finish()).toEqual([]);
    expect(blockCount(0, BLOCK)).toBe(0);
    expect(() => new BlockHasher(0)).toThrow(RangeError);
    expect(() => new BlockHasher(1.5)).toThrow(RangeError);
  });
});

describe('checksumBlockBytes (block digests in the trailer)', () => {
  it('the packer lists the blocks of every object larger than one block, and only those', async () => {
    const { result } = await packToBuffer(SPECS, { checksumBlockBytes: BLOCK });
    expect(result.checksums.blocks).toEqual({
      'objects/000000000002': sliceDigests(SPECS[2]?.body ?? Buffer.alloc(0), BLOCK),
      'objects/000000000004': sliceDigests(SPECS[4]?.body ?? Buffer.alloc(0), BLOCK),
    });
    // Whole-object digests are still there for every object: a reader may ignore the blocks.
    expect(Object.keys(result.checksums.objects)).toHaveLength(SPECS.length);
  });

  it('a manifest without it gives a trailer without blocks', async () => {
    const { result } = await packToBuffer(SPECS);
    expect(result.checksums.blocks).toBeUndefined();
  });

  it('is refused below 64 KiB', async () => {
    await expect(packToBuffer(SPECS, { checksumBlockBytes: 4096 })).rejects.toBeInstanceOf(
      ArchiveFormatError,
    );
  });

  it('verifyBlocks: the bodies expose each block digest once read, and the blocks are verified', async () => {
    const { archive, result: packed } = await packToBuffer(SPECS, { checksumBlockBytes: BLOCK });
    const seen: {
      key: string;
      blockBytes: number | undefined;
      blocks: (string | undefined)[];
      body: Buffer;
    }[] = [];
    const result = await readArchive(chunked(archive, 'random'), {
      verifyBlocks: true,
      onObject: async (object, body) => {
        const data = await collect(body);
        const n = blockCount(object.size, BLOCK);
        seen.push({
          key: object.key,
          blockBytes: body.blockBytes,
          blocks: Array.from({ length: n }, (_, i) => body.blockSha256(i)),
          body: data,
        });
      },
    });
    // Objects larger than a block are hashed by blocks, the others whole.
    expect(seen.map((s) => s.blockBytes)).toEqual([undefined, undefined, BLOCK, undefined, BLOCK]);
    for (const [i, s] of seen.entries()) {
      const body = SPECS[i]?.body ?? Buffer.alloc(0);
      expect(s.body.equals(body)).toBe(true);
      if (s.blockBytes !== undefined) expect(s.blocks).toEqual(sliceDigests(body, BLOCK));
    }
    // Every digest reported equals the trailer's; block-verified ones carry their blocks.
    expect(result.digests.map((d: ObjectDigest) => d.sha256)).toEqual(SPECS.map((s) => sha256(s.body)));
    expect(result.digests.map((d) => d.blocks?.length)).toEqual([undefined, undefined, 4, undefined, 2]);
    expect(result.checksums).toEqual(packed.checksums);
  });

  it('without verifyBlocks, a reader hashes whole objects and ignores the blocks (older targets)', async () => {
    const { archive } = await packToBuffer(SPECS, { checksumBlockBytes: BLOCK });
    const result = await readArchive(Readable.from([archive]), {
      onObject: async (_o, body) => {
        expect(body.blockBytes).toBeUndefined();
        await collect(body);
      },
    });
    expect(result.digests.every((d) => d.blocks === undefined)).toBe(true);
    expect(result.digests.map((d) => d.sha256)).toEqual(SPECS.map((s) => sha256(s.body)));
  });

  it('verifyBlocks on an archive that declares no blocks verifies whole objects', async () => {
    const { archive } = await packToBuffer(SPECS);
    const result = await readArchive(Readable.from([archive]), {
      verifyBlocks: true,
      onObject: async (_o, body) => {
        await collect(body);
      },
    });
    expect(result.digests.every((d) => d.blocks === undefined)).toBe(true);
  });

  /** A hand-made archive of SPECS declaring BLOCK, with the trailer's blocks replaced by `blocks`. */
  async function forged(blocks: Record<string, string[]> | undefined): Promise<Buffer> {
    const manifest: Manifest = buildManifest(SPECS, { checksumBlockBytes: BLOCK });
    const manifestRaw = serializeJson(manifest);
    const objects: Record<string, string> = {};
    SPECS.forEach((s, i) => {
      objects[`objects/${String(i).padStart(12, '0')}`] = sha256(s.body);
    });
    const checksums = {
      algorithm: 'sha256' as const,
      manifest: sha256(manifestRaw),
      objects,
      ...(blocks ? { blocks } : {}),
    };
    return buildRawArchive([
      { name: 'manifest.json', data: manifestRaw },
      ...SPECS.map((s, i) => ({ name: `objects/${String(i).padStart(12, '0')}`, data: s.body })),
      { name: 'checksums.json', data: serializeJson(checksums) },
    ]);
  }
  const good = (): Record<string, string[]> => ({
    'objects/000000000002': sliceDigests(SPECS[2]?.body ?? Buffer.alloc(0), BLOCK),
    'objects/000000000004': sliceDigests(SPECS[4]?.body ?? Buffer.alloc(0), BLOCK),
  });
  const read = (archive: Buffer) =>
    readArchive(Readable.from([archive]), {
      verifyBlocks: true,
      onObject: async (_o, body) => {
        await collect(body);
      },
    });

  it('verifyBlocks accepts the hand-made archive with the right blocks (the forgeries below differ only there)', async () => {
    await expect(read(await forged(good()))).resolves.toMatchObject({ objects: SPECS.length });
  });

  it('verifyBlocks refuses a block digest that differs, naming the object and the block', async () => {
    const blocks = good();
    (blocks['objects/000000000002'] ?? [])[1] = sha256(Buffer.from('not this block'));
    const r = read(await forged(blocks));
    await expect(r).rejects.toBeInstanceOf(ArchiveIntegrityError);
    await expect(r).rejects.toThrow(/"three-and-a-bit".*block 1/);
  });

  it('verifyBlocks refuses a trailer without the blocks the manifest promised, or with a wrong count', async () => {
    const missing = read(await forged(undefined));
    await expect(missing).rejects.toBeInstanceOf(ArchiveFormatError);
    await expect(missing).rejects.toThrow(/no block checksums for "objects\/000000000002"/);

    const blocks = good();
    blocks['objects/000000000004'] = (blocks['objects/000000000004'] ?? []).slice(0, 1);
    const short = read(await forged(blocks));
    await expect(short).rejects.toBeInstanceOf(ArchiveFormatError);
    await expect(short).rejects.toThrow(/lists 1 block checksums .* makes 2/);
  });
});
