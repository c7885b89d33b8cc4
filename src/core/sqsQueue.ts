import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from './logger.js';
import { BalerError, errorMessage } from './errors.js';

/** SQS limits (AWS): at most 10 messages per receive/delete/change batch; long polls up to 20 s. */
export const SQS_MAX_BATCH = 10;
export const SQS_MAX_WAIT_SEC = 20;

/** A queue could not be read, or its messages could not be deleted or kept invisible. */
export class QueueError extends BalerError {
  constructor(message: string, options?: ErrorOptions) {
    super('QUEUE', message, options);
  }
}

export interface QueueOptions {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  /** How long received messages stay invisible; kept alive while work runs. */
  readonly visibilityTimeoutSec: number;
  readonly log: Logger;
}

/**
 * One SQS queue as a worker sees it: long-poll receives, batch deletes that report per-message failures, and a
 * keep-alive that extends the visibility of in-flight messages every third of the timeout until released.
 */
/** Slack after a long poll's wait time before it is surely over server-side. */
const QUIET_MARGIN_MS = 500;

export class Queue {
  readonly url: string;
  readonly #o: QueueOptions;

  /** When every aborted receive has surely ended server-side (epoch ms). */
  #quietAt = 0;

  constructor(o: QueueOptions) {
    this.#o = o;
    this.url = o.queueUrl;
  }

  /** Long-poll for up to `max` (≤10) messages, waiting at most `waitSec`. Aborting returns no messages. */
  async receive(max: number, waitSec: number, signal?: AbortSignal): Promise<Message[]> {
    const wait = Math.min(Math.max(0, Math.round(waitSec)), SQS_MAX_WAIT_SEC);
    const endsBy = Date.now() + wait * 1000 + QUIET_MARGIN_MS;
    try {
      const r = await this.#o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.url,
          MaxNumberOfMessages: Math.min(Math.max(1, max), SQS_MAX_BATCH),
          WaitTimeSeconds: wait,
          VisibilityTimeout: this.#o.visibilityTimeoutSec,
          MessageSystemAttributeNames: ['ApproximateReceiveCount', 'SentTimestamp'],
        }),
        signal ? { abortSignal: signal } : {},
      );
      return r.Messages ?? [];
    } catch (e: unknown) {
      if (signal?.aborted) {
        // Only the connection is gone: the poll may still run server-side until its wait time ends.
        this.#quietAt = Math.max(this.#quietAt, endsBy);
        return [];
      }
      // Failed after the SDK's retries: name the queue (a worker may poll several).
      throw new QueueError(`${this.url}: receive failed: ${errorMessage(e)}`, { cause: e });
    }
  }

  /**
   * Delete messages (in batches of 10, up to 8 batches at a time). Throws a QueueError naming the ids that could
   * not be deleted.
   */
  async delete(messages: readonly Message[]): Promise<void> {
    const failed: string[] = [];
    const chunks: Message[][] = [];
    for (let i = 0; i < messages.length; i += SQS_MAX_BATCH)
      chunks.push(messages.slice(i, i + SQS_MAX_BATCH));
    const worker = async () => {
      for (let chunk = chunks.shift(); chunk; chunk = chunks.shift()) {
        const batch = chunk;
        const r = await this.#o.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.url,
            Entries: batch.map((m, j) => ({ Id: String(j), ReceiptHandle: m.ReceiptHandle })),
          }),
        );
        for (const f of r.Failed ?? []) {
          failed.push(`${batch[Number(f.Id)]?.MessageId ?? f.Id}: ${f.Message ?? f.Code}`);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(8, chunks.length) }, worker));
    if (failed.length)
      throw new QueueError(`could not delete ${failed.length} message(s): ${failed.join('; ')}`);
  }

  /** Make messages visible again after `delaySec` (0 = now), e.g. to retry them sooner than the timeout. */
  /**
   * Wait until no aborted receive can still be running server-side. Aborting a receive only drops the
   * connection: SQS may still hand that long poll messages, which then stay invisible for the whole
   * visibility timeout. Call this before releasing messages that must be visible again at once.
   */
  async quiet(): Promise<void> {
    const ms = this.#quietAt - Date.now();
    if (ms > 0) await sleep(ms);
  }

  async release(messages: readonly Message[], delaySec = 0): Promise<void> {
    await this.#changeVisibility(messages, delaySec);
  }

  async #changeVisibility(messages: readonly Message[], timeoutSec: number): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_MAX_BATCH) {
      const chunk = messages.slice(i, i + SQS_MAX_BATCH);
      await this.#o.sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: this.url,
          Entries: chunk.map((m, j) => ({
            Id: String(j),
            ReceiptHandle: m.ReceiptHandle,
            VisibilityTimeout: timeoutSec,
          })),
        }),
      );
    }
  }

  /**
   * Keep `messages` invisible while work runs: every third of the visibility timeout, extend it by the full
   * timeout. Call `add` for messages received later; `stop` ends the keep-alive (before delete/release).
   */
  keepAlive(): { add(messages: readonly Message[]): void; stop(): Promise<void> } {
    const held: Message[] = [];
    const timeoutSec = this.#o.visibilityTimeoutSec;
    const ac = new AbortController();
    const loop = (async () => {
      for (;;) {
        try {
          await sleep(Math.max(1, timeoutSec / 3) * 1000, undefined, { signal: ac.signal });
        } catch {
          return;
        }
        try {
          await this.#changeVisibility(held, timeoutSec);
        } catch (e: unknown) {
          this.#o.log.warn({ event: 'visibility_extend_failed', queue: this.url, err: errorMessage(e) });
        }
      }
    })();
    return {
      add: (messages) => {
        held.push(...messages);
      },
      stop: async () => {
        ac.abort();
        await loop;
      },
    };
  }
}
