import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/logger.js';
import { Queue, QueueError } from '../../src/core/sqsQueue.js';

const url = 'http://127.0.0.1:9/000000000000/work';

/** A client whose every call fails as the SDK does once its retries are spent. */
function failingSqs(error: Error): SQSClient {
  return { send: () => Promise.reject(error) } as unknown as SQSClient;
}

describe('Class: Queue', () => {
  describe('Method: receive', () => {
    it('names the queue when a receive fails after the SDK retries', async () => {
      // Prepare
      const cause = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
      const queue = new Queue({
        sqs: failingSqs(cause),
        queueUrl: url,
        visibilityTimeoutSec: 30,
        log: createLogger({ service: 'test', level: 'silent' }),
      });
      // Act
      const received = queue.receive(10, 1);
      // Assess
      await expect(received).rejects.toBeInstanceOf(QueueError);
      await expect(received).rejects.toMatchObject({
        message: `${url}: receive failed: connect ECONNREFUSED 127.0.0.1:9`,
        cause,
      });
    });

    it('returns nothing, without an error, when the receive was aborted', async () => {
      // Prepare
      const abort = new AbortController();
      abort.abort();
      const queue = new Queue({
        sqs: failingSqs(Object.assign(new Error('aborted'), { name: 'AbortError' })),
        queueUrl: url,
        visibilityTimeoutSec: 30,
        log: createLogger({ service: 'test', level: 'silent' }),
      });
      // Act
      const received = await queue.receive(10, 1, abort.signal);
      // Assess
      expect(received).toEqual([]);
    });
  });
});
