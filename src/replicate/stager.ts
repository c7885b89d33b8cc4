import { once } from 'node:events';
import { PassThrough } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  PutObjectTaggingCommand,
  UploadPartCommand,
  type CompletedPart,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { DEFAULT_CHECKSUM_BLOCK_BYTES, type ObjectBody } from '../archive/index.js';

const MiB = 1024 * 1024;
/** S3's most parts per upload. */
const MAX_PARTS = 10_000;
/** S3's smallest part (all but the last). */
const MIN_PART_BYTES = 5 * MiB;

/** One destination's multipart upload of one object, not yet visible. */
export interface StagedUpload {
  readonly bucket: string;
  readonly key: string;
  readonly uploadId: string;
  readonly parts: CompletedPart[];
  /** Tags to (re)apply once completed (see {@link Stager.complete}). */
  readonly tags: Readonly<Record<string, string>>;
  state: 'staging' | 'completed' | 'aborted';
}

export interface StagerOptions {
  readonly s3: S3Client;
  /** Part size (bytes); raised so that no object needs more than 10,000 parts. @defaultValue 8 MiB */
  readonly partBytes?: number;
  /** Most bytes of buffered parts in flight; parts larger than a quarter of it are streamed. @defaultValue 32 MiB */
  readonly bufferBytes?: number;
  /** Where part buffers come from and go back to; share one across stagers used in turn. @defaultValue a new pool */
  readonly pool?: PartBufferPool;
  readonly signal?: AbortSignal;
}

/**
 * Part buffers of one size whose uploads are done, for the next parts: a fresh multi-MiB buffer costs page
 * faults, and a dead one stays resident until V8 collects it. A pool can serve many stagers in turn (the
 * target keeps one for all its archives), so one archive's buffers serve the next instead of becoming garbage
 * while the next allocates its own.
 */
export class PartBufferPool {
  readonly #maxIdle: number;
  #size = 0;
  #idle: Buffer[] = [];

  /** @param maxIdle - most buffers kept for reuse; more handed back are left to the GC. */
  constructor(maxIdle = 8) {
    if (!Number.isSafeInteger(maxIdle) || maxIdle < 0) {
      throw new RangeError(`maxIdle must be an integer ≥ 0, got ${maxIdle}`);
    }
    this.#maxIdle = maxIdle;
  }

  /** Buffers waiting for reuse. */
  get idle(): number {
    return this.#idle.length;
  }

  /** A buffer of `size` bytes, reused when one of that size is idle (asking for another size empties the pool). */
  take(size: number): Buffer {
    if (size !== this.#size) {
      this.#idle = [];
      this.#size = size;
    }
    return this.#idle.pop() ?? Buffer.allocUnsafe(size);
  }

  /**
   * Hand back a buffer from {@link PartBufferPool.take} that no request reads any more, or a view from its
   * start (a shorter last part): its whole memory is kept if it is of the current size. Anything else (a
   * buffer of another size, a slice of Node's shared small-buffer slab) is left to the GC.
   */
  give(buf: Buffer): void {
    const memory = buf.buffer;
    if (buf.byteOffset !== 0 || memory.byteLength !== this.#size || this.#idle.length >= this.#maxIdle)
      return;
    if (this.#idle.some((b) => b.buffer === memory)) return;
    this.#idle.push(buf.length === this.#size ? buf : Buffer.from(memory, 0, this.#size));
  }
}

/**
 * SHA-256 digests of a body's fixed-size blocks, known once the body has been read past each block: what an
 * archive entry read in `verifyBlocks` mode provides. When `blockBytes` equals the part size, each part is
 * signed with its block's digest and the SDK does not hash the part again.
 */
export type PartDigests = Pick<ObjectBody, 'blockBytes' | 'blockSha256'>;

/** The part size for an object of `size` bytes: `preferred`, raised to stay within 10,000 parts. */
export function partSizeFor(size: number, preferred: number): number {
  const floor = Math.ceil(size / MAX_PARTS / MiB) * MiB;
  return Math.max(MIN_PART_BYTES, preferred, floor);
}

/**
 * Sign `command`'s request with a payload SHA-256 computed beforehand (SigV4 `x-amz-content-sha256`): the
 * signer uses a header already present instead of hashing the body, and S3 still checks the body against it
 * (`XAmzContentSHA256Mismatch`). The digest must be that of exactly the bytes sent.
 */
export function signWithPayloadSha256(
  command: { middlewareStack: UploadPartCommand['middlewareStack'] },
  sha256: string,
): void {
  command.middlewareStack.add(
    (next) => (args) => {
      const req = args.request as { headers?: Record<string, string> };
      if (req.headers) req.headers['x-amz-content-sha256'] = sha256;
      return next(args);
    },
    { step: 'build', name: 'balerPayloadSha256' },
  );
}

/**
 * Cut a byte stream into `size`-byte buffers (the last may be shorter), each from `alloc` (e.g. a pool of
 * buffers whose uploads finished: fresh multi-MiB buffers cost page faults and garbage collections).
 */
export async function* partsOf(
  body: AsyncIterable<Uint8Array>,
  size: number,
  alloc: (size: number) => Buffer = (n) => Buffer.allocUnsafe(n),
): AsyncGenerator<Buffer> {
  let buf: Buffer | undefined;
  let fill = 0;
  for await (const chunk of body) {
    let off = 0;
    while (off < chunk.length) {
      buf ??= alloc(size);
      const n = Math.min(size - fill, chunk.length - off);
      buf.set(chunk.subarray(off, off + n), fill);
      fill += n;
      off += n;
      if (fill === size) {
        yield buf;
        buf = undefined;
        fill = 0;
      }
    }
  }
  if (buf && fill > 0) yield buf.subarray(0, fill);
}

/**
 * Stages objects as multipart uploads while an archive is still being read and verified: nothing is
 * visible in S3 until {@link Stager.completeAll}; {@link Stager.abortAll} discards everything staged. This is
 * how the target writes large objects in the same pass that verifies the archive.
 *
 * Parts are buffered and uploaded in parallel within `bufferBytes`; parts too large to buffer (objects over
 * ~80 GiB with the default part size) are streamed one at a time to every destination. A buffered part is
 * sent with its SHA-256 in the signature (SigV4 `x-amz-content-sha256`), so S3 rejects a part that arrives
 * corrupted (`XAmzContentSHA256Mismatch`): the digest of its block when the body provides one for blocks of
 * the part size ({@link PartDigests}), else the SDK hashes the part. Streamed parts are sent unsigned and rely
 * on the transport and, on AWS, the SDK's CRC32.
 */
export class Stager {
  readonly uploads: StagedUpload[] = [];
  readonly #o: StagerOptions;
  readonly #inflight = new Set<Promise<void>>();
  readonly #pool: PartBufferPool;
  #bufferedBytes = 0;
  #failure: { error: unknown } | undefined;

  constructor(o: StagerOptions) {
    this.#o = o;
    this.#pool = o.pool ?? new PartBufferPool();
  }

  /**
   * Start one multipart upload per destination (`params` = the PutObject parameters without a body) and
   * upload `body` (`size` bytes) as its parts. Resolves once every part has been handed to S3 (buffered
   * parts may still be in flight: {@link Stager.settled}).
   */
  async stage(
    params: readonly PutObjectCommandInput[],
    body: AsyncIterable<Uint8Array>,
    size: number,
    tags: Readonly<Record<string, string>> = {},
    digests?: PartDigests,
  ): Promise<StagedUpload[]> {
    this.#throwIfFailed();
    const { s3, signal } = this.#o;
    const ups = await Promise.all(
      params.map(async (p) => {
        const r = await s3.send(new CreateMultipartUploadCommand(p), { abortSignal: signal });
        const up: StagedUpload = {
          bucket: p.Bucket ?? '',
          key: p.Key ?? '',
          uploadId: r.UploadId ?? '',
          parts: [],
          tags,
          state: 'staging',
        };
        this.uploads.push(up);
        return up;
      }),
    );
    const budget = this.#o.bufferBytes ?? 32 * MiB;
    // By default parts are the archive's checksum blocks, so their digests can sign them (PartDigests).
    const partSize = partSizeFor(size, this.#o.partBytes ?? DEFAULT_CHECKSUM_BLOCK_BYTES);
    if (partSize > budget / 4) await this.#streamParts(ups, body, size, partSize);
    else {
      let partNumber = 0;
      const alloc = (n: number) => this.#pool.take(n);
      const known = digests?.blockBytes === partSize ? digests : undefined;
      for await (const part of partsOf(body, partSize, alloc)) {
        partNumber += 1;
        await this.#room(part.length, budget);
        this.#bufferedBytes += part.length;
        const n = partNumber;
        const sha256 = known?.blockSha256(n - 1);
        // allSettled: the buffer goes back to the pool only once no request can still be reading it.
        const sent = Promise.allSettled(
          ups.map((up) => this.#uploadPart(up, n, part, part.length, sha256)),
        ).then((results) => {
          for (const r of results) if (r.status === 'rejected') throw r.reason;
        });
        this.#track(
          sent.finally(() => {
            this.#bufferedBytes -= part.length;
            // Reused once every destination has it (the SDK holds no reference after the request).
            this.#pool.give(part);
          }),
        );
      }
    }
    return ups;
  }

  /** Wait for every part in flight; throws the first failure. */
  async settled(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all([...this.#inflight]);
    this.#throwIfFailed();
  }

  /**
   * Make one staged upload visible. Its tags were sent with CreateMultipartUpload (S3 applies them on
   * completion) and are written again on exactly the version just completed, because some S3-compatible
   * stores (Ceph radosgw 16) ignore tags on CreateMultipartUpload.
   */
  async complete(up: StagedUpload): Promise<void> {
    const parts = [...up.parts].sort((a, b) => (a.PartNumber ?? 0) - (b.PartNumber ?? 0));
    const done = await this.#o.s3.send(
      new CompleteMultipartUploadCommand({
        Bucket: up.bucket,
        Key: up.key,
        UploadId: up.uploadId,
        MultipartUpload: { Parts: parts },
      }),
    );
    up.state = 'completed';
    const tagSet = Object.entries(up.tags).map(([Key, Value]) => ({ Key, Value }));
    if (tagSet.length > 0) {
      await this.#o.s3.send(
        new PutObjectTaggingCommand({
          Bucket: up.bucket,
          Key: up.key,
          ...(done.VersionId ? { VersionId: done.VersionId } : {}),
          Tagging: { TagSet: tagSet },
        }),
      );
    }
  }

  /** Abort every upload not completed (best effort: a failed abort is left to the bucket's lifecycle rule). */
  async abortAll(): Promise<void> {
    await Promise.all([...this.#inflight].map((p) => p.catch(() => undefined)));
    await Promise.all(
      this.uploads
        .filter((up) => up.state === 'staging')
        .map(async (up) => {
          up.state = 'aborted';
          await this.#o.s3
            .send(new AbortMultipartUploadCommand({ Bucket: up.bucket, Key: up.key, UploadId: up.uploadId }))
            .catch(() => undefined);
        }),
    );
  }

  async #uploadPart(
    up: StagedUpload,
    partNumber: number,
    body: Buffer | PassThrough,
    length: number,
    sha256?: string,
  ): Promise<void> {
    const command = new UploadPartCommand({
      Bucket: up.bucket,
      Key: up.key,
      UploadId: up.uploadId,
      PartNumber: partNumber,
      Body: body,
      ContentLength: length,
    });
    if (sha256 !== undefined) signWithPayloadSha256(command, sha256);
    const r = await this.#o.s3.send(command, { abortSignal: this.#o.signal });
    up.parts.push({ ETag: r.ETag, PartNumber: partNumber });
  }

  /** Stream parts too large to buffer, one at a time, teed to every destination. */
  async #streamParts(
    ups: readonly StagedUpload[],
    body: AsyncIterable<Uint8Array>,
    size: number,
    partSize: number,
  ): Promise<void> {
    const it = body[Symbol.asyncIterator]();
    let pending: Uint8Array | undefined;
    let remaining = size;
    for (let partNumber = 1; remaining > 0; partNumber++) {
      const length = Math.min(partSize, remaining);
      const outs = ups.map(() => new PassThrough({ highWaterMark: MiB }));
      const sent = Promise.all(
        ups.map((up, i) => this.#uploadPart(up, partNumber, outs[i] as PassThrough, length)),
      );
      sent.catch(() => undefined);
      const failed = sent.then(() => new Promise<never>(() => undefined));
      let left = length;
      try {
        while (left > 0) {
          let chunk = pending;
          pending = undefined;
          if (!chunk) {
            const next = await it.next();
            if (next.done === true) throw new Error(`object body ended ${left} bytes early`);
            chunk = next.value;
          }
          if (chunk.length > left) {
            pending = chunk.subarray(left);
            chunk = chunk.subarray(0, left);
          }
          left -= chunk.length;
          const slow = outs.filter((out) => !out.write(chunk));
          if (slow.length > 0)
            await Promise.race([Promise.all(slow.map((out) => once(out, 'drain'))), failed]);
        }
      } catch (e: unknown) {
        for (const out of outs) out.destroy(e instanceof Error ? e : new Error(String(e)));
        throw e;
      }
      for (const out of outs) out.end();
      await sent;
      remaining -= length;
    }
  }

  /** Wait until `bytes` more fit in the part buffer (always admits one part). */
  async #room(bytes: number, budget: number): Promise<void> {
    while (this.#bufferedBytes > 0 && this.#bufferedBytes + bytes > budget) {
      await Promise.race(this.#inflight);
      this.#throwIfFailed();
    }
  }

  #track(p: Promise<unknown>): void {
    const q = p.then(
      () => undefined,
      (e: unknown) => {
        this.#failure ??= { error: e };
      },
    );
    this.#inflight.add(q);
    void q.finally(() => this.#inflight.delete(q));
  }

  #throwIfFailed(): void {
    if (this.#failure) throw this.#failure.error;
  }
}
