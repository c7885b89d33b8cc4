import { readFile } from 'node:fs/promises';
import { CopyObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { GetQueueUrlCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { z } from 'zod';
import type { Logger } from '../core/logger.js';
import { Queue } from '../core/sqsQueue.js';
import { parseS3EventMessage } from '../core/s3Events.js';
import { errorMessage } from '../core/errors.js';
import { LOCAL_REPLICATION_QUEUE } from './provision.js';

const RulesFile = z.object({
  rules: z.array(
    z.object({
      id: z.string(),
      priority: z.number(),
      outboundBucket: z.string(),
      prefix: z.string(),
      destinationRegion: z.string(),
      inboundBucket: z.string(),
    }),
  ),
});
export type EmulatedRule = z.infer<typeof RulesFile>['rules'][number];

/** The inbound buckets an outbound object goes to under `rules` (S3 replication: every matching rule). */
export function replicationTargets(rules: readonly EmulatedRule[], bucket: string, key: string): string[] {
  return [
    ...new Set(
      rules
        .filter((r) => r.outboundBucket === bucket && key.startsWith(r.prefix))
        .sort((a, b) => a.priority - b.priority)
        .map((r) => r.inboundBucket),
    ),
  ];
}

/** `CopySource` for a key: bucket/key with the key URL-encoded, `/` kept. */
export function copySource(bucket: string, key: string): string {
  return `${bucket}/${encodeURIComponent(key).replace(/%2F/g, '/')}`;
}

export interface EmulatorOptions {
  readonly s3: S3Client;
  readonly sqs: SQSClient;
  /** JSON file `{rules: [...]}` written by provisioning; read for every message, so re-provisioning applies. */
  readonly rulesFile: string;
  readonly log: Logger;
  readonly signal: AbortSignal;
}

/**
 * Emulate S3 replication from outbound to inbound staging buckets on the local stack: consume the outbound
 * buckets' ObjectCreated events from an internal queue and server-side copy each object to the inbound bucket
 * of every matching rule. A failed copy leaves the message for redelivery (DLQ after the redrive count), as
 * S3 replication retries; the copy is idempotent.
 */
export async function runReplicationEmulator(o: EmulatorOptions): Promise<void> {
  let queue: Queue | undefined;
  while (!o.signal.aborted) {
    if (!queue) {
      try {
        const { QueueUrl } = await o.sqs.send(new GetQueueUrlCommand({ QueueName: LOCAL_REPLICATION_QUEUE }));
        queue = new Queue({ sqs: o.sqs, queueUrl: QueueUrl ?? '', visibilityTimeoutSec: 120, log: o.log });
      } catch {
        // Not provisioned yet: nothing to replicate.
        await new Promise((r) => setTimeout(r, 2_000));
        continue;
      }
    }
    const messages = await queue.receive(10, 5, o.signal);
    for (const m of messages) {
      try {
        const parsed = parseS3EventMessage(m.Body ?? '');
        if (parsed.kind === 'records') {
          const { rules } = RulesFile.parse(JSON.parse(await readFile(o.rulesFile, 'utf8')));
          for (const ev of parsed.events) {
            for (const inbound of replicationTargets(rules, ev.bucket, ev.key)) {
              await o.s3.send(
                new CopyObjectCommand({
                  Bucket: inbound,
                  Key: ev.key,
                  CopySource: copySource(ev.bucket, ev.key),
                }),
              );
              o.log.debug({ event: 'replicated', src: `${ev.bucket}/${ev.key}`, dst: inbound });
            }
          }
        }
        await queue.delete([m]);
      } catch (e: unknown) {
        o.log.error({ event: 'replication_failed', messageId: m.MessageId, err: errorMessage(e) });
      }
    }
  }
}
