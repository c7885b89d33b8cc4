/**
 * `baler convert --queue URL`: converts the objects of S3 ObjectCreated events from an SQS queue.
 * A message is deleted only when every CSV it names was converted, skipped (not ours to convert) or no
 * longer exists; otherwise it stays, comes back after the visibility timeout, and goes to the queue's
 * dead-letter queue after its `maxReceiveCount`.
 */
import type { Message } from '@aws-sdk/client-sqs';
import { errorMessage } from '../core/errors.js';
import type { Logger } from '../core/logger.js';
import { parseS3EventMessage } from '../core/s3Events.js';
import type { Queue } from '../core/sqsQueue.js';
import { summarize, type Converter } from './converter.js';
import type { ConvertStats, FileResult } from './types.js';

/** Settings of the worker loop. */
export interface QueueWorkerOptions {
  readonly queue: Queue;
  readonly converter: Converter;
  readonly log: Logger;
  /** Long-poll wait. @defaultValue 20 */
  readonly pollWaitSec?: number;
  /** Messages taken per receive (each may name several objects). @defaultValue the converter's files in flight */
  readonly messagesPerReceive?: number;
}

/** What a worker run did. */
export interface QueueWorkerReport {
  readonly files: FileResult[];
  readonly stats: ConvertStats;
  readonly messagesDeleted: number;
  readonly messagesLeft: number;
  readonly messagesInvalid: number;
}

/**
 * Receive, convert, delete; until `signal` aborts or, with `untilIdleSec`, the queue stayed empty that
 * long. Messages are kept invisible while their files convert.
 */
export async function runQueueWorker(
  o: QueueWorkerOptions,
  signal: AbortSignal,
  untilIdleSec?: number,
): Promise<QueueWorkerReport> {
  const t0 = performance.now();
  const files: FileResult[] = [];
  let deleted = 0;
  let left = 0;
  let invalid = 0;
  let idleSince = Date.now();
  const wait = o.pollWaitSec ?? 20;
  while (!signal.aborted) {
    if (untilIdleSec !== undefined && Date.now() - idleSince >= untilIdleSec * 1000) break;
    const waitSec = untilIdleSec === undefined ? wait : Math.min(wait, Math.max(1, Math.ceil(untilIdleSec)));
    const messages = await o.queue.receive(o.messagesPerReceive ?? 2, waitSec, signal);
    if (messages.length === 0) continue;
    idleSince = Date.now();
    const keepAlive = o.queue.keepAlive();
    keepAlive.add(messages);
    const outcome = await Promise.all(messages.map((m) => handle(o, m, files)));
    await keepAlive.stop();
    const done = messages.filter((_, i) => outcome[i] === 'done');
    invalid += outcome.filter((x) => x === 'invalid').length;
    left += messages.length - done.length; // failed or invalid: back after the visibility timeout, then the DLQ
    if (done.length) {
      await o.queue.delete(done);
      deleted += done.length;
    }
    idleSince = Date.now();
  }
  return {
    files,
    stats: summarize(files, Math.round(performance.now() - t0)),
    messagesDeleted: deleted,
    messagesLeft: left,
    messagesInvalid: invalid,
  };
}

async function handle(
  o: QueueWorkerOptions,
  m: Message,
  files: FileResult[],
): Promise<'done' | 'retry' | 'invalid'> {
  const log = o.log.child({ messageId: m.MessageId });
  let parsed;
  try {
    parsed = parseS3EventMessage(m.Body ?? '');
  } catch (e: unknown) {
    // Not an S3 event: retrying cannot help; left for the dead-letter queue rather than dropped.
    log.error({ event: 'convert_message_invalid', err: errorMessage(e) });
    return 'invalid';
  }
  if (parsed.kind === 'test') return 'done';
  let ok = true;
  for (const e of parsed.events) {
    if (e.type !== 'created') continue;
    const r = await o.converter.convertFile({
      bucket: e.bucket,
      key: e.key,
      ...(e.size !== undefined ? { size: e.size } : {}),
    });
    if (r.status !== 'skipped') files.push(r);
    if (r.status === 'failed' && !r.notFound) ok = false;
  }
  return ok ? 'done' : 'retry';
}
