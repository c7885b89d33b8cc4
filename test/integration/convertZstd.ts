import { Readable } from 'node:stream';
import { createZstdCompressStream } from '../../src/archive/index.js';

/** zstd-compress a buffer with the project's codec (a `.csv.zst` input). */
export async function compressZstd(data: Buffer): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of Readable.from([data]).pipe(createZstdCompressStream({ level: 3 })))
    chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
