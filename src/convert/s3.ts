/**
 * The converter's S3 adapters: list inputs, download one to a local spool file (decompressing on the way),
 * upload outputs by multipart upload. Nothing is buffered whole in memory.
 */
import { GetObjectCommand, paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createReadStream, createWriteStream } from 'node:fs';
import { Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { createZstdDecompressStream } from '../archive/index.js';
import { ConvertError } from './errors.js';
import { csvCompression } from './keys.js';
import type { InputCompression } from './types.js';
import { isNotFound } from '../core/s3Errors.js';

const MiB = 1024 * 1024;

/** Upload part size and parts in flight: buffered upload bytes ≤ partSizeMiB × (queueSize + 1). */
export const UPLOAD_PART_SIZE_MIB = 8;
export const UPLOAD_QUEUE_SIZE = 2;

/** One listed input. */
export interface InputObject {
  readonly bucket: string;
  readonly key: string;
  /** Size as stored, when known (from the listing or the event). */
  readonly size?: number;
}

/**
 * Keys under `folder` that end in `.csv`, `.csv.gz` or `.csv.zst`, page by page (1,000 keys per request).
 *
 * @example
 * for await (const o of listCsvObjects(s3, 'in', 'landing/')) console.log(o.key);
 */
export async function* listCsvObjects(
  s3: S3Client,
  bucket: string,
  folder: string,
  signal?: AbortSignal,
): AsyncGenerator<InputObject> {
  const pages = paginateListObjectsV2(
    { client: s3, pageSize: 1000 },
    { Bucket: bucket, Prefix: folder },
    ...(signal ? [{ abortSignal: signal }] : []),
  );
  for await (const page of pages) {
    for (const o of page.Contents ?? []) {
      if (o.Key !== undefined && csvCompression(o.Key) !== undefined) {
        yield { bucket, key: o.Key, ...(o.Size !== undefined ? { size: o.Size } : {}) };
      }
    }
  }
}

/** Drops a UTF-8 byte order mark at the very start of the stream. */
class StripBom extends Transform {
  #head: Buffer | undefined = Buffer.alloc(0);

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.#head === undefined) {
      cb(null, chunk);
      return;
    }
    const head = Buffer.concat([this.#head, chunk]);
    if (head.length < 3) {
      this.#head = head;
      cb();
      return;
    }
    this.#head = undefined;
    cb(null, head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf ? head.subarray(3) : head);
  }

  override _flush(cb: TransformCallback): void {
    cb(null, this.#head && this.#head.length ? this.#head : undefined);
  }
}

/** What a download wrote. */
export interface Spooled {
  /** Bytes read from S3 (as stored). */
  readonly storedBytes: number;
  /** Bytes written to the spool file (decompressed, without BOM). */
  readonly csvBytes: number;
}

/**
 * Stream an object to a local file, decompressing gzip (zlib, off the main thread) or zstd (worker
 * thread) on the way and dropping a UTF-8 BOM. Memory is bounded by the stream buffers.
 *
 * @throws ConvertError (`CONVERT_NOT_FOUND`) when the object does not exist; ConvertError for a corrupt
 *   compressed stream
 */
export async function downloadCsv(
  s3: S3Client,
  input: InputObject,
  compression: InputCompression,
  path: string,
  o: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<Spooled> {
  const src = `s3://${input.bucket}/${input.key}`;
  let body: Readable;
  try {
    const r = await s3.send(
      new GetObjectCommand({ Bucket: input.bucket, Key: input.key }),
      o.signal ? { abortSignal: o.signal } : {},
    );
    body = r.Body as Readable;
  } catch (e: unknown) {
    if (isNotFound(e))
      throw new ConvertError(`${src} does not exist`, { cause: e, src, code: 'CONVERT_NOT_FOUND' });
    throw e;
  }
  let storedBytes = 0;
  let csvBytes = 0;
  const countIn = new Transform({
    transform(chunk: Buffer, _e, cb) {
      storedBytes += chunk.length;
      o.onBytes?.(chunk.length);
      cb(null, chunk);
    },
  });
  const countOut = new Transform({
    transform(chunk: Buffer, _e, cb) {
      csvBytes += chunk.length;
      cb(null, chunk);
    },
  });
  const stages: NodeJS.ReadWriteStream[] = [countIn];
  if (compression === 'gzip') stages.push(createGunzip());
  if (compression === 'zstd') stages.push(createZstdDecompressStream());
  stages.push(new StripBom(), countOut);
  try {
    await pipeline([body, ...stages, createWriteStream(path)], o.signal ? { signal: o.signal } : {});
  } catch (e: unknown) {
    if (o.signal?.aborted) throw e;
    throw new ConvertError(
      `${src}: cannot read the ${compression === 'none' ? 'object' : `${compression} stream`}: ${(e as Error).message}`,
      { cause: e, src },
    );
  }
  return { storedBytes, csvBytes };
}

/**
 * Upload a local file or a stream by multipart upload (lib-storage `Upload`, 8 MiB parts, 2 in flight).
 * Nothing is visible at the key until the upload completes; a failed upload is aborted.
 */
export async function uploadBody(
  s3: S3Client,
  bucket: string,
  key: string,
  body: string | AsyncIterable<Buffer>,
  contentType: string,
  signal?: AbortSignal,
): Promise<void> {
  const stream =
    typeof body === 'string' ? createReadStream(body) : Readable.from(body, { objectMode: false });
  const ac = new AbortController();
  const onAbort = () => {
    ac.abort();
  };
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    await new Upload({
      client: s3,
      params: { Bucket: bucket, Key: key, Body: stream, ContentType: contentType },
      partSize: UPLOAD_PART_SIZE_MIB * MiB,
      queueSize: UPLOAD_QUEUE_SIZE,
      leavePartsOnError: false,
      abortController: ac,
    }).done();
  } finally {
    signal?.removeEventListener('abort', onAbort);
    stream.destroy();
  }
}
