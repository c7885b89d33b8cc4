// The target's write paths at sizes the end-to-end tests do not reach cheaply: objects staged by multipart
// upload with streamed (unbuffered) parts, and small objects written by a second read when the hold budget
// is full; and bodies corrupted on their way to S3. The worker runs in-process against the local radosgw
// with tiny budgets.
import { createHash, createHmac } from 'node:crypto';
import { Readable, Writable } from 'node:stream';
import {
  CreateBucketCommand,
  GetObjectCommand,
  GetObjectTaggingCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { resolveAwsSettings, s3ClientConfig, type AwsClients } from '../../src/core/awsClients.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetrics, MetricsMode } from '../../src/core/metrics.js';
import { Queue } from '../../src/core/sqsQueue.js';
import { PartBufferPool, Stager, type StagedUpload } from '../../src/replicate/stager.js';
import { TargetWorker, type TargetWorkerOptions } from '../../src/replicate/target.js';
import { objectBytes, packToBuffer, type ObjectSpec } from '../fixtures/archive/index.js';
import { localClients, startProxy, uniqueName } from './helpers.js';

const MiB = 1024 * 1024;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

const bytes = (d: ArrayBuffer | ArrayBufferView): Uint8Array =>
  ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d);

/** Body bytes hashed by the SDK's SHA-256 (`sha256` client option) since the test started. */
let sdkHashed = 0;
/** The SDK's SHA-256 (node:crypto), counting what it hashes for payloads (HMACs of the signature are not). */
class CountingSha256 {
  readonly #h: { update(data: string | Uint8Array): unknown; digest(): Buffer };
  readonly #counts: boolean;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    const key = secret === undefined || typeof secret === 'string' ? secret : bytes(secret);
    this.#h = key === undefined ? createHash('sha256') : createHmac('sha256', key);
    this.#counts = secret === undefined;
  }
  update(data: string | ArrayBuffer | ArrayBufferView): void {
    const b = typeof data === 'string' ? Buffer.from(data) : bytes(data);
    if (this.#counts) sdkHashed += b.length;
    this.#h.update(b);
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.#h.digest()));
  }
  reset(): void {
    // single use: the signer creates one per body
  }
}

describe('target worker write paths', () => {
  let aws: AwsClients;
  const id = uniqueName('st').slice(3);
  const inbound = `stin-${id}`;
  const dests = [`sta-${id}`, `stb-${id}`];
  const lines: string[] = [];

  beforeAll(async () => {
    aws = localClients();
    for (const b of [inbound, ...dests]) await aws.s3.send(new CreateBucketCommand({ Bucket: b }));
  });
  afterAll(() => {
    aws.destroy();
  });

  function worker(options: Partial<TargetWorkerOptions>): TargetWorker {
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(chunk.toString());
        cb();
      },
    });
    const log = createLogger({ service: 'target', level: 'info', destination });
    return new TargetWorker({
      s3: aws.s3,
      // restoreArchive() never touches the queue.
      queue: new Queue({
        sqs: aws.sqs,
        queueUrl: 'http://127.0.0.1:1/unused',
        visibilityTimeoutSec: 30,
        log,
      }),
      region: 'eu-west-1',
      destinationsFor: () =>
        Promise.resolve(dests.map((bucket) => ({ bucket, storageClass: undefined, kmsKeyArn: undefined }))),
      log,
      metrics: createMetrics({
        namespace: 'BalerTest',
        service: 'target',
        mode: MetricsMode.log,
        logger: log,
      }),
      ...options,
    });
  }

  async function upload(name: string, specs: ObjectSpec[], blockBytes?: number): Promise<string> {
    const { archive } = await packToBuffer(specs, {
      bucket: 'src',
      monitoredPrefix: '',
      targets: ['eu-west-1'],
      ...(blockBytes === undefined ? {} : { checksumBlockBytes: blockBytes }),
    });
    const key = `outbound/src/${name}.tar.zst`;
    await aws.s3.send(new PutObjectCommand({ Bucket: inbound, Key: key, Body: archive }));
    return key;
  }

  async function expectRestored(specs: readonly ObjectSpec[]): Promise<void> {
    for (const bucket of dests) {
      for (const s of specs) {
        const got = await aws.s3.send(new GetObjectCommand({ Bucket: bucket, Key: s.key }));
        const body = Buffer.from(
          await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
        );
        expect({ key: s.key, md5: md5(body) }).toEqual({ key: s.key, md5: md5(s.body) });
        expect(got.Metadata).toEqual(s.extra?.metadata ?? {});
        const tags = await aws.s3.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: s.key }));
        const tagMap: Record<string, string> = {};
        for (const t of tags.TagSet ?? []) tagMap[t.Key ?? ''] = t.Value ?? '';
        expect(tagMap).toEqual(s.extra?.tags ?? {});
      }
      const uploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
      expect(uploads.Uploads ?? []).toEqual([]);
    }
  }

  it('streams parts too large to buffer to every destination, with tags and metadata', async () => {
    // Prepare: 12 MiB in 5 MiB parts with a 4 MiB part buffer -> every part is streamed, teed to two buckets
    const specs: ObjectSpec[] = [
      {
        key: 'big/streamed.bin',
        body: objectBytes(1, 12 * MiB + 7),
        extra: {
          metadata: { origin: 'stream' },
          tags: { team: 'data', tier: 'a b' },
          contentType: 'application/x-test',
        },
      },
    ];
    const key = await upload('streamed', specs);
    const w = worker({ smallObjectBytes: MiB, partBytes: 5 * MiB, partBufferBytes: 4 * MiB });
    // Act
    const outcome = await w.restoreArchive(inbound, key, new AbortController().signal);
    // Assess
    expect(outcome).toMatchObject({ objects: 1, writes: 2 });
    await expectRestored(specs);
    const head = await aws.s3.send(new HeadObjectCommand({ Bucket: dests[0], Key: 'big/streamed.bin' }));
    expect(head.ContentType).toBe('application/x-test');
    expect(head.ETag).toMatch(/-3"$/); // three parts: 5 + 5 + 2 MiB
  });

  it('writes small objects that do not fit the hold budget by a second read, next to staged ones', async () => {
    // Prepare: 40 small objects of 64 KiB and one staged 3 MiB object; only 256 KiB may be held
    const specs: ObjectSpec[] = Array.from({ length: 40 }, (_, i) => ({
      key: `small/${String(i).padStart(2, '0')} + %.txt`,
      body: objectBytes(100 + i, 64 * 1024),
      extra: { metadata: { n: String(i) }, tags: { i: String(i) } },
    }));
    specs.splice(17, 0, { key: 'small/staged.bin', body: objectBytes(99, 3 * MiB) });
    const key = await upload('deferred', specs);
    const w = worker({ smallObjectBytes: MiB, holdBytes: 256 * 1024, partBytes: 5 * MiB });
    lines.length = 0;
    // Act
    const outcome = await w.restoreArchive(inbound, key, new AbortController().signal);
    // Assess
    expect(outcome).toMatchObject({ objects: 41, writes: 82 });
    const restored = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((l) => l['event'] === 'archive_restored');
    expect(restored).toMatchObject({ staged: 1, reread: 36 }); // 4 × 64 KiB held, the other 36 reread
    await expectRestored(specs);
    const listed = await aws.s3.send(new ListObjectsV2Command({ Bucket: inbound }));
    expect((listed.Contents ?? []).map((o) => o.Key)).not.toContain(key); // the archive is deleted
  });

  it.each([
    ['the SDK hashes each part', undefined],
    ['parts signed with the archive’s block digests', 5 * MiB],
  ])(
    'writes nothing when bodies are corrupted on the way to S3 (signed SHA-256: %s), then delivers on retry',
    async (_how, blockBytes) => {
      // Prepare: one staged object (two 5 MiB parts) and three held ones; a proxy flips one byte in the body of
      // every part and PutObject sent to the destinations (same length: only a checksum can tell)
      const prefix = blockBytes === undefined ? 'corrupt' : 'corrupt-blocks';
      const staged = objectBytes(200, 6 * MiB);
      const specs: ObjectSpec[] = [
        { key: `${prefix}/staged.bin`, body: staged },
        ...[1, 2, 3].map((i) => ({ key: `${prefix}/held-${i}.txt`, body: objectBytes(200 + i, 32 * 1024) })),
      ];
      const key = await upload(prefix, specs, blockBytes);
      let corrupted = 0;
      sdkHashed = 0;
      const partSignatures = new Set<string>();
      const proxy = await startProxy((req, _res, forward) => {
        const url = req.url ?? '';
        const toDestination = dests.some((d) => url.startsWith(`/${d}/`));
        if (req.method !== 'PUT' || !toDestination || url.includes('tagging')) {
          forward();
          return;
        }
        if (url.includes('partNumber=')) partSignatures.add(String(req.headers['x-amz-content-sha256']));
        let first = true;
        forward(undefined, (chunk) => {
          if (first && chunk.length > 0) {
            chunk[0] = (chunk[0] ?? 0) ^ 0xff;
            corrupted += 1;
            first = false;
          }
          return chunk;
        });
      });
      const env = { ...inject('localEnv'), AWS_ENDPOINT_URL_S3: proxy.url };
      const settings = resolveAwsSettings(env, { maxAttempts: 1, retryMode: 'standard' });
      const viaProxy = new S3Client({ ...s3ClientConfig(settings), sha256: CountingSha256 });
      try {
        const w = worker({ s3: viaProxy, smallObjectBytes: MiB, partBytes: 5 * MiB });
        // Act
        const first = w.restoreArchive(inbound, key, new AbortController().signal);
        // Assess: S3 refused the bodies; nothing is visible, no upload is left, the archive stays for a retry
        await expect(first).rejects.toMatchObject({ name: 'XAmzContentSHA256Mismatch' });
        expect(corrupted).toBeGreaterThanOrEqual(2);
        // Parts were signed with the SHA-256 of exactly their bytes: computed by the SDK, or taken from the
        // reader's block digests (then equal to the 5 MiB slices', and the SDK hashed nothing).
        const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
        const slices = [sha(staged.subarray(0, 5 * MiB)), sha(staged.subarray(5 * MiB))];
        expect([...partSignatures].every((h) => slices.includes(h))).toBe(true);
        expect(partSignatures.size).toBeGreaterThanOrEqual(1);
        // With block digests the SDK hashed only the held objects' bodies, not the parts.
        if (blockBytes === undefined) expect(sdkHashed).toBeGreaterThanOrEqual(5 * MiB);
        else expect(sdkHashed).toBeLessThan(MiB);
        for (const bucket of dests) {
          const listed = await aws.s3.send(
            new ListObjectsV2Command({ Bucket: bucket, Prefix: `${prefix}/` }),
          );
          expect(listed.Contents ?? []).toEqual([]);
          const uploads = await aws.s3.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
          expect(uploads.Uploads ?? []).toEqual([]);
        }
        const inboundKeys = await aws.s3.send(new ListObjectsV2Command({ Bucket: inbound }));
        expect((inboundKeys.Contents ?? []).map((o) => o.Key)).toContain(key);

        // Act: the retry (no corruption this time)
        const outcome = await worker({ smallObjectBytes: MiB, partBytes: 5 * MiB }).restoreArchive(
          inbound,
          key,
          new AbortController().signal,
        );
        // Assess
        expect(outcome).toMatchObject({ objects: 4, writes: 8 });
        await expectRestored(specs);
      } finally {
        viaProxy.destroy();
        await proxy.close();
      }
    },
  );

  it('takes part buffers from the pool it is given and gives every one back once uploaded, the short last part’s too', async () => {
    // Prepare: a pool holding three marked 5 MiB buffers, and a 12 MiB object (parts of 5, 5 and 2 MiB)
    const pool = new PartBufferPool();
    const seeded = [pool.take(5 * MiB), pool.take(5 * MiB), pool.take(5 * MiB)];
    for (const b of seeded) pool.give(b.fill(0xab));
    const memories = new Set(seeded.map((b) => b.buffer));
    const body = objectBytes(41, 12 * MiB);
    const key = `pool/${id}.bin`;
    const stager = new Stager({ s3: aws.s3, partBytes: 5 * MiB, bufferBytes: 32 * MiB, pool });

    // Act
    const [up] = await stager.stage([{ Bucket: dests[0], Key: key }], Readable.from([body]), body.length);
    await stager.settled();
    await stager.complete(up as StagedUpload);

    // Assess: the parts came from the pool and all three went back to it; the object is intact
    expect(pool.idle).toBe(3);
    const back = [pool.take(5 * MiB), pool.take(5 * MiB), pool.take(5 * MiB)];
    expect(back.every((b) => memories.has(b.buffer))).toBe(true);
    // Each one carried a part: its bytes start with one of the object's 5 MiB slices (the last, 2 MiB, one too).
    const starts = back.map((b) =>
      [0, 5, 10].find((m) => b.subarray(0, MiB).equals(body.subarray(m * MiB, (m + 1) * MiB))),
    );
    expect(new Set(starts)).toEqual(new Set([0, 5, 10]));
    const got = await aws.s3.send(new GetObjectCommand({ Bucket: dests[0], Key: key }));
    const restored = await (
      got.Body as { transformToByteArray(): Promise<Uint8Array> }
    ).transformToByteArray();
    expect(md5(restored)).toBe(md5(body));
  });
});
