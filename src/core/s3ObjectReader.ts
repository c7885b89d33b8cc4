import http from 'node:http';
import https from 'node:https';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { SignatureV4 } from '@smithy/signature-v4';
import { BalerError } from './errors.js';

/** One GET of an object (or a byte range of it). */
export interface ObjectGetRequest {
  readonly bucket: string;
  readonly key: string;
  /** An HTTP Range header value, e.g. `bytes=0-8388607`. */
  readonly range?: string;
  /** Only if the object still has this ETag (else 412). */
  readonly ifMatch?: string;
}

/** What a GET returns: the body stream and the headers a downloader needs. */
export interface ObjectGetResult {
  readonly body: Readable;
  readonly contentLength: number | undefined;
  readonly etag: string | undefined;
  readonly serverSideEncryption: string | undefined;
  readonly sseCustomerAlgorithm: string | undefined;
}

/** Reads objects. Two implementations: the SDK's GetObject, and the lean signed GET below. */
export interface ObjectReader {
  get(request: ObjectGetRequest, signal: AbortSignal): Promise<ObjectGetResult>;
  /** Close the reader's own sockets (the SDK reader has none of its own). */
  destroy(): void;
}

/**
 * An S3 error response seen by the lean reader, shaped like the SDK's service exceptions (`name` = the S3
 * error code, `$metadata.httpStatusCode`), so error handling treats both readers alike.
 */
export class S3HttpError extends BalerError {
  readonly $metadata: { readonly httpStatusCode: number };

  constructor(s3Code: string, message: string, httpStatusCode: number) {
    super('S3_HTTP', message);
    this.name = s3Code;
    this.$metadata = { httpStatusCode };
  }
}

/**
 * The SDK's GetObject as an {@link ObjectReader}: every feature of the SDK (checksum validation on AWS,
 * its middleware), about 1–3 ms of CPU per request.
 */
export function sdkObjectReader(s3: S3Client): ObjectReader {
  return {
    async get(r, signal) {
      const res = await s3.send(
        new GetObjectCommand({ Bucket: r.bucket, Key: r.key, Range: r.range, IfMatch: r.ifMatch }),
        { abortSignal: signal },
      );
      return {
        body: res.Body as Readable,
        contentLength: res.ContentLength,
        etag: res.ETag,
        serverSideEncryption: res.ServerSideEncryption,
        sseCustomerAlgorithm: res.SSECustomerAlgorithm,
      };
    },
    destroy() {
      // The client belongs to the caller.
    },
  };
}

/** Where GETs of one bucket go, as the SDK resolved it (virtual-hosted or path style, FIPS, dual-stack …). */
interface BucketTarget {
  readonly protocol: 'http:' | 'https:';
  readonly hostname: string;
  readonly port: number | undefined;
  /** The request path before the encoded key: `/bucket/` (path style) or `/` (virtual-hosted). */
  readonly prefix: string;
}

const PROBE_KEY = 'baler-endpoint-probe';
/** SHA-256 of an empty payload: the content hash of a GET. */
const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';
/** Error bodies are small XML documents; more than this is not read. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

class Captured extends Error {
  constructor(readonly target: BucketTarget) {
    super('captured');
  }
}

/** A key as S3 expects it in a path: each segment URI-encoded (RFC 3986), `/` kept. */
export function encodeKeyPath(key: string): string {
  return key
    .split('/')
    .map((s) =>
      encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`),
    )
    .join('/');
}

/**
 * Let the SDK resolve the endpoint of `bucket` once: build a GetObject request through the client's own
 * middleware (endpoint rules, path style, custom endpoint) and capture it before it is signed and sent.
 */
async function resolveBucketTarget(s3: S3Client, bucket: string): Promise<BucketTarget> {
  const command = new GetObjectCommand({ Bucket: bucket, Key: PROBE_KEY });
  command.middlewareStack.add(
    () => (args) => {
      const req = args.request as { protocol: string; hostname: string; port?: number; path: string };
      const encoded = `/${PROBE_KEY}`;
      if (!req.path.endsWith(encoded)) throw new Error(`unexpected request path ${req.path}`);
      throw new Captured({
        protocol: req.protocol === 'http:' ? 'http:' : 'https:',
        hostname: req.hostname,
        port: req.port,
        prefix: req.path.slice(0, -PROBE_KEY.length),
      });
    },
    { step: 'build', priority: 'low', name: 'balerCaptureEndpoint' },
  );
  try {
    await s3.send(command);
  } catch (e: unknown) {
    if (e instanceof Captured) return e.target;
    throw e;
  }
  throw new Error('the endpoint probe was sent instead of captured');
}

function readErrorBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (s: string) => {
      if (text.length < MAX_ERROR_BODY_BYTES) text += s;
    });
    res.on('end', () => {
      resolve(text);
    });
    res.on('error', () => {
      resolve(text);
    });
  });
}

const header = (res: http.IncomingMessage, name: string): string | undefined => {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
};

export interface SignedReaderOptions {
  /** Sockets kept per host. */
  readonly maxSockets: number;
  /** Socket idle timeout per request. @defaultValue 120000 */
  readonly requestTimeoutMs?: number;
}

/**
 * A lean GET path for bulk downloads: requests signed with the SDK's own SigV4 signer and the client's own
 * credentials, region and (once per bucket) resolved endpoint, sent with Node's http(s) on a keep-alive agent.
 * It skips the SDK's per-request middleware stack, which costs more CPU than the request itself for small
 * objects (measured on 2 cores: ~250 GETs/s through GetObjectCommand, ~800 GETs/s this way; see
 * docs/ARCHITECTURE.md). GET only; everything else stays on the SDK.
 */
export function signedObjectReader(s3: S3Client, options: SignedReaderOptions): ObjectReader {
  const agentOptions = {
    keepAlive: true,
    maxSockets: options.maxSockets,
    keepAliveMsecs: 1_000,
    noDelay: true,
  };
  const agents = { 'http:': new http.Agent(agentOptions), 'https:': new https.Agent(agentOptions) };
  const targets = new Map<string, Promise<BucketTarget>>();
  let signer: Promise<SignatureV4> | undefined;
  const getSigner = () =>
    (signer ??= (async () =>
      new SignatureV4({
        service: 's3',
        region: await s3.config.region(),
        credentials: s3.config.credentials,
        sha256: s3.config.sha256,
        uriEscapePath: false,
        applyChecksum: false,
      }))());
  const targetOf = (bucket: string) => {
    let t = targets.get(bucket);
    if (!t) {
      t = resolveBucketTarget(s3, bucket);
      t.catch(() => targets.delete(bucket));
      targets.set(bucket, t);
    }
    return t;
  };
  return {
    async get(r, signal) {
      const target = await targetOf(r.bucket);
      const host = target.port ? `${target.hostname}:${target.port}` : target.hostname;
      const headers: Record<string, string> = { host, 'x-amz-content-sha256': EMPTY_SHA256 };
      if (r.range) headers['range'] = r.range;
      if (r.ifMatch) headers['if-match'] = r.ifMatch;
      const signed = await (
        await getSigner()
      ).sign({
        method: 'GET',
        protocol: target.protocol,
        hostname: target.hostname,
        port: target.port,
        path: target.prefix + encodeKeyPath(r.key),
        query: {},
        headers,
      });
      const transport = target.protocol === 'http:' ? http : https;
      return await new Promise<ObjectGetResult>((resolve, reject) => {
        const req = transport.request(
          {
            agent: agents[target.protocol],
            protocol: target.protocol,
            hostname: target.hostname,
            port: target.port,
            method: 'GET',
            path: signed.path,
            headers: signed.headers,
            signal,
            timeout: options.requestTimeoutMs ?? 120_000,
          },
          (res) => {
            const status = res.statusCode ?? 0;
            if (status === 200 || status === 206) {
              resolve({
                body: res,
                contentLength: header(res, 'content-length')
                  ? Number(header(res, 'content-length'))
                  : undefined,
                etag: header(res, 'etag'),
                serverSideEncryption: header(res, 'x-amz-server-side-encryption'),
                sseCustomerAlgorithm: header(res, 'x-amz-server-side-encryption-customer-algorithm'),
              });
              return;
            }
            void readErrorBody(res).then((body) => {
              const code = /<Code>([^<]*)<\/Code>/.exec(body)?.[1] ?? `Http${status}`;
              const message = /<Message>([^<]*)<\/Message>/.exec(body)?.[1] ?? `HTTP ${status}`;
              reject(new S3HttpError(code, `${code}: ${message} (HTTP ${status})`, status));
            });
          },
        );
        req.on('timeout', () => {
          req.destroy(Object.assign(new Error('request timed out'), { name: 'TimeoutError' }));
        });
        req.on('error', reject);
        req.end();
      });
    },
    destroy() {
      agents['http:'].destroy();
      agents['https:'].destroy();
    },
  };
}
