import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { inject } from 'vitest';
import { createAwsClients, resolveAwsSettings, type AwsClients } from '../../src/core/awsClients.js';

/** Clients for the local stack the global setup started. */
export function localClients(region?: string): AwsClients {
  const env = inject('localEnv');
  return createAwsClients(resolveAwsSettings(region ? { ...env, AWS_REGION: region } : env));
}

/** A name no other test uses (buckets: 3-63 lowercase chars). */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomBytes(5).toString('hex')}`;
}

/** Port of the notification bridge of the local stack. */
export function bridgePort(): number {
  return Number(inject('localEnv')['BALER_LOCAL_BRIDGE_PORT']);
}

/** Change one body chunk on its way through the proxy (same length keeps the framing intact). */
export type ChunkMap = (chunk: Buffer, status: number) => Buffer;

/**
 * Pass a request on to radosgw, optionally changing each response body chunk on the way back and each
 * request body chunk on the way there (`status` is 0 for request chunks).
 */
export type Forward = (mapResponseChunk?: ChunkMap, mapRequestChunk?: ChunkMap) => void;

/**
 * An HTTP proxy in front of the local radosgw, on a free port: `handle` answers a request itself, or calls
 * `forward` to pass it on (optionally corrupting bodies on the way), for fault tests.
 */
export async function startProxy(
  handle: (req: http.IncomingMessage, res: http.ServerResponse, forward: Forward) => void,
): Promise<{ url: string; close(): Promise<void> }> {
  const target = new URL(inject('localEnv')['AWS_ENDPOINT_URL_S3'] ?? 'http://127.0.0.1:7480');
  const proxy = http.createServer((req, res) => {
    handle(req, res, (mapResponseChunk, mapRequestChunk) => {
      const up = http.request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          const status = upRes.statusCode ?? 502;
          res.writeHead(status, upRes.headers);
          if (!mapResponseChunk) {
            upRes.pipe(res);
            return;
          }
          upRes.on('data', (chunk: Buffer) => res.write(mapResponseChunk(chunk, status)));
          upRes.on('end', () => res.end());
        },
      );
      up.on('error', () => res.destroy());
      if (!mapRequestChunk) {
        req.pipe(up);
        return;
      }
      req.on('data', (chunk: Buffer) => up.write(mapRequestChunk(chunk, 0)));
      req.on('end', () => up.end());
    });
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  const port = (proxy.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((r) => {
        proxy.close(() => {
          r();
        });
      }),
  };
}
