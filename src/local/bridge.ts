import http from 'node:http';
import { SendMessageCommand, GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { buildObjectCreatedRecord } from '../core/s3Events.js';
import { errorMessage } from '../core/errors.js';

/**
 * The body radosgw POSTs to an HTTP push endpoint (Ceph 16): AWS-like records with `eventSource: ceph:s3`,
 * an empty `awsRegion`, raw (not URL-encoded) keys, microsecond timestamps and an empty `versionId` for
 * unversioned buckets.
 */
const CephRecord = z.object({
  eventTime: z.string(),
  eventName: z.string(),
  userIdentity: z.object({ principalId: z.string() }).partial().optional(),
  requestParameters: z.object({ sourceIPAddress: z.string() }).partial().optional(),
  responseElements: z.record(z.string(), z.string()).optional(),
  s3: z.object({
    configurationId: z.string().optional(),
    bucket: z.object({ name: z.string() }),
    object: z.object({
      key: z.string(),
      size: z.coerce.number().optional(),
      eTag: z.string().optional(),
      versionId: z.string().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});
const CephNotification = z.object({ Records: z.array(CephRecord) });
export type CephRecord = z.infer<typeof CephRecord>;

/** Round a radosgw timestamp (microseconds) to the millisecond form AWS uses: `2026-01-01T00:00:00.000Z`. */
export function toAwsEventTime(cephTime: string): string {
  const t = new Date(cephTime.replace(/(\.\d{3})\d+Z$/, '$1Z'));
  if (Number.isNaN(t.getTime())) throw new Error(`invalid eventTime ${JSON.stringify(cephTime)}`);
  return t.toISOString();
}

/** Turn one radosgw notification record into the record AWS S3 would have sent from `region`. */
export function cephRecordToAws(rec: CephRecord, region: string) {
  const o = rec.s3.object;
  return buildObjectCreatedRecord({
    eventName: rec.eventName.replace(/^s3:/, ''),
    region,
    bucket: rec.s3.bucket.name,
    key: o.key,
    size: o.size ?? 0,
    eTag: (o.eTag ?? '').replace(/"/g, ''),
    ...(o.versionId ? { versionId: o.versionId } : {}),
    sequencer: o.sequencer ?? '',
    eventTime: toAwsEventTime(rec.eventTime),
    ...(rec.s3.configurationId ? { configurationId: rec.s3.configurationId } : {}),
    ...(rec.userIdentity?.principalId ? { principalId: rec.userIdentity.principalId } : {}),
    sourceIp: rec.requestParameters?.sourceIPAddress || '127.0.0.1',
    ...(rec.responseElements?.['x-amz-request-id']
      ? { requestId: rec.responseElements['x-amz-request-id'] }
      : {}),
  });
}

/** Path radosgw topics push to: one per queue and region. */
export function bridgePath(region: string, queueName: string): string {
  return `/q/${encodeURIComponent(region)}/${encodeURIComponent(queueName)}`;
}

export interface BridgeOptions {
  readonly port: number;
  /** SQS client for a region (signing region selects the queue namespace on fauxqs). */
  readonly sqsFor: (region: string) => SQSClient;
  readonly log: Logger;
}

/**
 * The notification bridge: an HTTP server on 127.0.0.1 that receives radosgw bucket notifications at
 * `/q/{region}/{queue}` and sends each record to that SQS queue as an AWS S3 event message
 * (`{"Records":[record]}`, one record per message as AWS does). It answers 200 only once the message is in
 * the queue; radosgw's non-persistent topics deliver synchronously, so when a PutObject returns its event
 * is already queued. A failure is answered 5xx and logged as `bridge_send_failed`.
 */
export function startBridge(o: BridgeOptions): Promise<http.Server> {
  const queueUrls = new Map<string, string>();
  const queueUrl = async (region: string, name: string): Promise<string> => {
    const k = `${region}/${name}`;
    let url = queueUrls.get(k);
    if (!url) {
      const res = await o.sqsFor(region).send(new GetQueueUrlCommand({ QueueName: name }));
      url = res.QueueUrl ?? '';
      queueUrls.set(k, url);
    }
    return url;
  };
  const server = http.createServer((req, res) => {
    const reply = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/plain' }).end(body);
    };
    if (req.method === 'GET' && req.url === '/health') {
      reply(200, 'ok');
      return;
    }
    const m = /^\/q\/([^/]+)\/([^/?]+)/.exec(req.url ?? '');
    if (req.method !== 'POST' || !m) {
      reply(404, 'not found');
      return;
    }
    const region = decodeURIComponent(m[1] ?? '');
    const queue = decodeURIComponent(m[2] ?? '');
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let records: CephRecord[];
        try {
          records = CephNotification.parse(JSON.parse(text)).Records;
        } catch (e: unknown) {
          o.log.error({
            event: 'bridge_bad_notification',
            queue,
            err: errorMessage(e),
            body: text.slice(0, 2000),
          });
          reply(400, 'bad notification');
          return;
        }
        try {
          const url = await queueUrl(region, queue);
          for (const rec of records) {
            if (!/^(s3:)?ObjectCreated:/.test(rec.eventName)) {
              // wireBucketToQueue subscribes to ObjectCreated:* only; anything else is a misconfiguration.
              o.log.warn({
                event: 'bridge_event_ignored',
                queue,
                name: rec.eventName,
                key: rec.s3.object.key,
              });
              continue;
            }
            const body = JSON.stringify({ Records: [cephRecordToAws(rec, region)] });
            await o.sqsFor(region).send(new SendMessageCommand({ QueueUrl: url, MessageBody: body }));
            o.log.debug({
              event: 'bridge_forwarded',
              queue,
              region,
              key: rec.s3.object.key,
              name: rec.eventName,
            });
          }
          reply(200, 'ok');
        } catch (e: unknown) {
          queueUrls.delete(`${region}/${queue}`);
          o.log.error({ event: 'bridge_send_failed', queue, region, err: errorMessage(e) });
          reply(502, 'queue send failed');
        }
      })();
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, '127.0.0.1', () => {
      resolve(server);
    });
  });
}
