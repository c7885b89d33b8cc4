import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueUrlCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { backfillCommand } from '../../src/cli/backfill.js';
import type { CommandContext } from '../../src/cli/context.js';
import { ExitCode } from '../../src/cli/exitCode.js';
import type { AwsClients } from '../../src/core/awsClients.js';
import { LOCAL_ACCOUNT_ID, parseConfigPair, topology } from '../../src/core/config/index.js';
import { createLogger } from '../../src/core/logger.js';
import { createMetrics } from '../../src/core/metrics.js';
import { parseS3EventMessage, type ObjectEvent } from '../../src/core/s3Events.js';
import { provisionLocal } from '../../src/local/provision.js';
import { readLocalState } from '../../src/local/stack.js';
import { backfill, type BackfillSource } from '../../src/replicate/backfill.js';
import { localClients, uniqueName } from './helpers.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');
const log = createLogger({ level: 'warn' });

describe('Function: backfill (against the local stack)', () => {
  const id = uniqueName('b').slice(2);
  const src = `bsrc-${id}`;
  const region = 'us-east-1';
  const source: BackfillSource = { bucket: src, region, prefixFilter: 'data/', suffixFilter: '.txt' };
  const configJson = {
    replication_configuration: [
      {
        source: { region, bucket: src, prefix_filter: 'data/', suffix_filter: '.txt' },
        destinations: [{ region: 'eu-west-1', bucket: `bdst-${id}` }],
      },
    ],
  };
  const settingsJson = {
    stack_name: `bf-${id}`,
    enabled_regions: [
      { region, source_target: ['source'] },
      { region: 'eu-west-1', source_target: ['target'] },
    ],
  };
  /** Objects the backfill must enqueue: nasty keys, an empty object, and enough to span several batches. */
  const matching = new Map<string, Buffer>([
    ['data/with space/a b.txt', Buffer.from('spaces')],
    ['data/plus+sign+.txt', Buffer.from('plus')],
    ['data/100% done %2F.txt', Buffer.from('percent')],
    ['data/ünïcödé/日本語 😀.txt', Buffer.from('unicode')],
    ['data/../escape/../../etc/passwd.txt', Buffer.from('dots')],
    ['data//double//slash.txt', Buffer.from('slashes')],
    ['data/year=2024/a:b.txt', Buffer.from('reserved')],
    [`data/${'k'.repeat(1015)}.txt`, Buffer.from('long key')],
    ['data/empty.txt', Buffer.alloc(0)],
    ...Array.from({ length: 23 }, (_, i): [string, Buffer] => [`data/n/${i}.txt`, Buffer.from(`n${i}`)]),
  ]);
  /** Objects it must not: outside the prefix, or not matching the suffix. */
  const others = ['other/a.txt', 'dat/a.txt', 'Data/a.txt', 'data/a.txt.gz', 'data/b.csv', 'data/TXT'];
  let aws: AwsClients;
  let sqs: SQSClient;
  let queueUrl = '';
  let queueName = '';
  let dir = '';
  let destroyClients: () => void = () => undefined;

  /** Receive (and delete) until the queue stayed empty for two polls. */
  async function drain(): Promise<string[]> {
    const bodies: string[] = [];
    let empty = 0;
    while (empty < 2) {
      const r = await sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
      );
      const messages = r.Messages ?? [];
      if (messages.length === 0) {
        empty += 1;
        continue;
      }
      empty = 0;
      bodies.push(...messages.map((m) => m.Body ?? ''));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    return bodies;
  }

  function events(bodies: readonly string[]): ObjectEvent[] {
    return bodies.flatMap((b) => {
      const parsed = parseS3EventMessage(b);
      return parsed.kind === 'records' ? [...parsed.events] : [];
    });
  }

  async function expectOneEventPerMatchingObject(evs: readonly ObjectEvent[]): Promise<void> {
    expect(evs.map((e) => e.key).sort()).toEqual([...matching.keys()].sort());
    for (const e of evs) {
      const body = matching.get(e.key);
      const head = await aws.s3.send(new HeadObjectCommand({ Bucket: src, Key: e.key }));
      expect(e, e.key).toMatchObject({
        type: 'created',
        eventName: 'ObjectCreated:Put',
        bucket: src,
        region,
        size: body?.length,
        eTag: head.ETag?.replace(/"/g, ''),
      });
    }
  }

  beforeAll(async () => {
    const state = await readLocalState(inject('localHome'));
    if (!state) throw new Error('no local stack');
    const loaded = parseConfigPair(configJson, settingsJson);
    await provisionLocal(inject('localHome'), state, loaded, log);
    dir = await mkdtemp(path.join(os.tmpdir(), 'baler-backfill-'));
    await writeFile(path.join(dir, 'replication_config.json'), JSON.stringify(configJson));
    await writeFile(path.join(dir, 'settings.json'), JSON.stringify(settingsJson));
    queueName = topology(loaded, LOCAL_ACCOUNT_ID).sources[0]?.queueName ?? '';
    aws = localClients(region);
    sqs = aws.sqs;
    destroyClients = () => {
      aws.destroy();
    };
    queueUrl = (await sqs.send(new GetQueueUrlCommand({ QueueName: queueName }))).QueueUrl ?? '';
    for (const [key, body] of matching) {
      await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: body }));
    }
    for (const key of others) {
      await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: 'other' }));
    }
    // The puts' own events (and the s3:TestEvent of the notification setup): the backfill must stand alone.
    const real = events(await drain());
    expect(real.length).toBeGreaterThan(0);
  });
  afterAll(() => {
    destroyClients();
  });

  it('enqueues exactly one AWS-format event per matching object, keys decoded back to the originals', async () => {
    // Act (small pages, so the listing is streamed over several pages)
    const report = await backfill({
      s3: aws.s3,
      sqs,
      queueUrl,
      source,
      dryRun: false,
      log,
      signal: new AbortController().signal,
      pageSize: 7,
    });
    // Assess
    expect(report).toEqual({
      listed: matching.size + 3, // data/a.txt.gz, data/b.csv, data/TXT are under the prefix
      matched: matching.size,
      enqueued: matching.size,
      skippedOlder: 0,
      skippedNewer: 0,
      skippedFilter: 3,
    });
    await expectOneEventPerMatchingObject(events(await drain()));
  });

  it('enqueues nothing when --since is in the future', async () => {
    // Act
    const report = await backfill({
      s3: aws.s3,
      sqs,
      queueUrl,
      source,
      since: new Date(Date.now() + 3_600_000),
      dryRun: false,
      log,
      signal: new AbortController().signal,
    });
    // Assess
    expect(report).toMatchObject({ matched: 0, enqueued: 0, skippedOlder: matching.size });
    expect(await drain()).toEqual([]);
  });

  it('enqueues nothing in a dry run, but counts what it would', async () => {
    // Act
    const report = await backfill({
      s3: aws.s3,
      sqs,
      queueUrl,
      source,
      dryRun: true,
      log,
      signal: new AbortController().signal,
    });
    // Assess
    expect(report).toMatchObject({ matched: matching.size, enqueued: 0, skippedFilter: 3 });
    expect(await drain()).toEqual([]);
  });

  it('enqueues only objects modified at or after --since', async () => {
    // Prepare: listings carry whole seconds, so leave a gap of more than one
    await sleep(2_100);
    const since = new Date(Math.floor(Date.now() / 1000) * 1000);
    const later = ['data/later/1.txt', 'data/later/2 +.txt'];
    for (const key of later) {
      await aws.s3.send(new PutObjectCommand({ Bucket: src, Key: key, Body: 'later' }));
    }
    await drain();
    // Act
    const report = await backfill({
      s3: aws.s3,
      sqs,
      queueUrl,
      source,
      since,
      dryRun: false,
      log,
      signal: new AbortController().signal,
    });
    // Assess
    expect(report).toMatchObject({ matched: 2, enqueued: 2, skippedOlder: matching.size });
    expect(
      events(await drain())
        .map((e) => e.key)
        .sort(),
    ).toEqual([...later].sort());
  });

  describe('Command: backfill', () => {
    /** The command in-process, with a context on the local stack (works before program.ts registers it). */
    async function runCommand(...args: string[]): Promise<{ code: number; stdout: string }> {
      const controller = new AbortController();
      const ctxLog = createLogger({ level: 'warn', service: 'backfill' });
      const env = inject('localEnv');
      const makeContext = (): CommandContext => ({
        env,
        cwd: root,
        home: inject('localHome'),
        log: ctxLog,
        localMode: true,
        aws: () => aws,
        metrics: () =>
          createMetrics({ namespace: 'Baler', service: 'backfill', mode: 'log', logger: ctxLog }),
        signal: controller.signal,
      });
      let code: number = ExitCode.Success;
      const out: string[] = [];
      const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
        out.push(String(chunk));
        return true;
      });
      try {
        const cmd = backfillCommand(makeContext, async (fn) => {
          code = await fn();
        });
        await cmd.parseAsync(
          [
            ...args,
            '--config',
            path.join(dir, 'replication_config.json'),
            '--settings',
            path.join(dir, 'settings.json'),
          ],
          { from: 'user' },
        );
      } finally {
        write.mockRestore();
      }
      return { code, stdout: out.join('') };
    }

    it('prints a JSON summary and enqueues the matching objects', async () => {
      // Act
      const dry = await runCommand('--source', '0', '--dry-run');
      const real = await runCommand('--source', '0', '--since', '2000-01-01');
      // Assess
      expect(dry.code).toBe(ExitCode.Success);
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, enqueued: 0, matched: matching.size + 2 });
      expect(real.code).toBe(ExitCode.Success);
      expect(JSON.parse(real.stdout)).toMatchObject({
        dryRun: false,
        enqueued: matching.size + 2,
        skippedFilter: 3,
        queue: queueName,
      });
      expect(events(await drain())).toHaveLength(matching.size + 2);
    });

    it('rejects an unknown source with a usage error', async () => {
      // Act
      const run = runCommand('--source', '7');
      // Assess
      await expect(run).rejects.toThrow(/--source 7: the config has sources 0..0/);
    });
  });

  describe('CLI: baler backfill (built, once program.ts registers it)', () => {
    const baler = (...args: string[]) =>
      exec(
        process.execPath,
        [
          cli,
          'backfill',
          ...args,
          '--config',
          path.join(dir, 'replication_config.json'),
          '--settings',
          path.join(dir, 'settings.json'),
        ],
        { env: { ...process.env, BALER_HOME: inject('localHome'), LOG_LEVEL: 'warn' }, timeout: 120_000 },
      );
    it('exits 0 with a JSON summary, 2 on a usage error', async () => {
      // Act
      const dry = await baler('--source', '0', '--dry-run');
      const bad = await baler('--source', '0', '--since', 'yesterday').then(
        () => ({ code: 0 }),
        (e: unknown) => ({ code: (e as { code?: number }).code }),
      );
      const real = await baler('--source', '0');
      // Assess
      expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, enqueued: 0 });
      expect(bad.code).toBe(ExitCode.Usage);
      expect(JSON.parse(real.stdout)).toMatchObject({ enqueued: matching.size + 2 });
      expect(events(await drain())).toHaveLength(matching.size + 2);
    });
  });
});
