import { createHash, type Hash } from 'node:crypto';

/**
 * SHA-256 of each `blockBytes`-long block of a byte stream (the last block may be shorter), as the stream
 * goes by. Blocks line up with multipart parts of the same size, so a reader that uploads an object in
 * `blockBytes` parts can sign each part with the digest of its block instead of hashing the bytes again
 * (see docs/ARCHIVE_FORMAT.md, `checksumBlockBytes`).
 */
export class BlockHasher {
  /** Hex digests of the completed blocks, in order. */
  readonly digests: string[] = [];
  readonly #blockBytes: number;
  #hash: Hash | undefined;
  #filled = 0;

  constructor(blockBytes: number) {
    if (!Number.isSafeInteger(blockBytes) || blockBytes < 1) {
      throw new RangeError(`blockBytes must be a positive integer, got ${blockBytes}`);
    }
    this.#blockBytes = blockBytes;
  }

  update(chunk: Uint8Array): void {
    let off = 0;
    while (off < chunk.length) {
      const n = Math.min(this.#blockBytes - this.#filled, chunk.length - off);
      this.#hash ??= createHash('sha256');
      this.#hash.update(off === 0 && n === chunk.length ? chunk : chunk.subarray(off, off + n));
      this.#filled += n;
      off += n;
      if (this.#filled === this.#blockBytes) this.#close();
    }
  }

  /** Close the last, partial block (if any) and return every block's digest. */
  finish(): string[] {
    if (this.#filled > 0) this.#close();
    return this.digests;
  }

  #close(): void {
    this.digests.push((this.#hash ?? createHash('sha256')).digest('hex'));
    this.#hash = undefined;
    this.#filled = 0;
  }
}

/** Number of blocks of an object of `size` bytes (0 for an empty object). */
export function blockCount(size: number, blockBytes: number): number {
  return Math.ceil(size / blockBytes);
}
