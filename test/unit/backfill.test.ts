import { ListObjectsV2Command, type S3Client, type _Object } from '@aws-sdk/client-s3';
import {
  SendMessageBatchCommand,
  type SendMessageBatchCommandInput,
  type SendMessageBatchCommandOutput,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { parseSince } from '../../src/cli/backfill.js';
import { createLogger } from '../../src/core/logger.js';
import { parseS3EventMessage } from '../../src/core/s3Events.js';
import {
  BACKFILL_CONFIGURATION_ID,
  backfill,
  BackfillDecision,
  BackfillError,
  backfillMessageBody,
  backfillRecord,
  backfillSequencer,
  classifyListedObject,
  type BackfillSource,
  type ListedObject,
} from '../../src/replicate/backfill.js';

const source: BackfillSource = {
  bucket: 'src-bucket',
  region: 'eu-central-1',
  prefixFilter: 'data/',
  suffixFilter: '',
};
const t0 = new Date('2024-05-01T10:00:00.000Z');
const obj = (key: string, lastModified = t0, size = 3): ListedObject => ({
  key,
  size,
  eTag: '"9b2cf535f27731c974343645a3985328"',
  lastModified,
});
const log = createLogger({ level: 'silent' });

describe('Function: backfillRecord', () => {
  it.each([
    ['data/red flower.jpg', 'data/red+flower.jpg'],
    ['data/a+b.txt', 'data/a%2Bb.txt'],
    ['data/a b+c 100%.txt', 'data/a+b%2Bc+100%25.txt'],
    ['data/ü/日本.txt', 'data/%C3%BC/%E6%97%A5%E6%9C%AC.txt'],
    ['data/😀', 'data/%F0%9F%98%80'],
    ['data/year=2024/x:y', 'data/year%3D2024/x%3Ay'],
    ['data//a/../b', 'data//a/../b'],
  ])('encodes %j the AWS way as %j', (key, encoded) => {
    // Act
    const record = backfillRecord(source, obj(key));
    // Assess
    expect(record.s3.object.key).toBe(encoded);
  });

  it('builds an AWS-format ObjectCreated:Put record from the listing', () => {
    // Prepare
    const o = obj('data/a b.csv', t0, 42);
    // Act
    const record = backfillRecord(source, o);
    // Assess
    expect(record).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-central-1',
      eventTime: '2024-05-01T10:00:00.000Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        s3SchemaVersion: '1.0',
        configurationId: BACKFILL_CONFIGURATION_ID,
        bucket: { name: 'src-bucket', arn: 'arn:aws:s3:::src-bucket' },
        object: {
          key: 'data/a+b.csv',
          size: 42,
          eTag: '9b2cf535f27731c974343645a3985328',
          sequencer: backfillSequencer(t0),
        },
      },
    });
    expect(record.s3.object).not.toHaveProperty('versionId');
  });

  it.each([
    'data/red flower.jpg',
    'data/a+b',
    'data/100%',
    'data/%41',
    'data/ü/日本/😀.txt',
    'data/../../etc/passwd',
    'data/ ',
    'data/+',
    'data/trailing/',
    'data/\uFEFFbom',
    `data/${'k'.repeat(1019)}`,
  ])('round-trips %j through parseS3EventMessage', (key) => {
    // Act
    const parsed = parseS3EventMessage(backfillMessageBody(source, obj(key)));
    // Assess
    expect(parsed.kind).toBe('records');
    if (parsed.kind !== 'records') return;
    expect(parsed.events).toHaveLength(1);
    expect(parsed.events[0]).toMatchObject({
      type: 'created',
      eventName: 'ObjectCreated:Put',
      bucket: 'src-bucket',
      key,
      size: 3,
      eTag: '9b2cf535f27731c974343645a3985328',
      region: 'eu-central-1',
    });
  });
});

describe('Function: backfillSequencer', () => {
  it('is the epoch milliseconds in 16 upper-case hex digits, ordered like the times', () => {
    // Act
    const a = backfillSequencer(t0);
    const b = backfillSequencer(new Date(t0.getTime() + 1));
    // Assess
    expect(a).toBe('0000018F3398C100');
    expect(a < b).toBe(true);
  });
});

describe('Function: classifyListedObject', () => {
  const snapshot = new Date('2024-06-01T00:00:00.000Z');
  const filter = { prefixFilter: 'data/', suffixFilter: '.json', snapshot };

  it('applies the literal prefix and suffix filters', () => {
    // Assess
    expect(classifyListedObject(obj('data/a.json'), filter)).toBe(BackfillDecision.enqueue);
    expect(classifyListedObject(obj('data/a.json.gz'), filter)).toBe(BackfillDecision.skippedFilter);
    expect(classifyListedObject(obj('other/a.json'), filter)).toBe(BackfillDecision.skippedFilter);
    // Prefix and suffix may not overlap: 'data/' + '.json' needs 10 characters.
    expect(classifyListedObject(obj('data.json'), { ...filter, prefixFilter: 'data.' })).toBe(
      BackfillDecision.skippedFilter,
    );
  });

  it('keeps objects modified at or after since, and skips older ones', () => {
    // Prepare
    const since = new Date('2024-05-01T10:00:00.000Z');
    // Assess
    expect(classifyListedObject(obj('data/a.json', since), { ...filter, since })).toBe(
      BackfillDecision.enqueue,
    );
    expect(
      classifyListedObject(obj('data/a.json', new Date(since.getTime() + 1_000)), { ...filter, since }),
    ).toBe(BackfillDecision.enqueue);
    expect(
      classifyListedObject(obj('data/a.json', new Date(since.getTime() - 1)), { ...filter, since }),
    ).toBe(BackfillDecision.skippedOlder);
  });

  it('skips objects modified after the snapshot (they have their own events)', () => {
    // Assess
    expect(classifyListedObject(obj('data/a.json', snapshot), filter)).toBe(BackfillDecision.enqueue);
    expect(classifyListedObject(obj('data/a.json', new Date(snapshot.getTime() + 1)), filter)).toBe(
      BackfillDecision.skippedNewer,
    );
  });

  it('checks the filter before the times', () => {
    // Assess
    expect(
      classifyListedObject(obj('data/a.txt', new Date(0)), { ...filter, since: new Date('2024-01-01') }),
    ).toBe(BackfillDecision.skippedFilter);
  });
});

describe('Function: parseSince', () => {
  it.each([
    ['2024-05-01', '2024-05-01T00:00:00.000Z'],
    ['2024-05-01T12:30', '2024-05-01T12:30:00.000Z'],
    ['2024-05-01T12:30:15Z', '2024-05-01T12:30:15.000Z'],
    ['2024-05-01T12:30:15.250+02:00', '2024-05-01T10:30:15.250Z'],
  ])('parses %j as %s (UTC unless a zone is given)', (text, iso) => {
    expect(parseSince(text).toISOString()).toBe(iso);
  });

  it.each(['yesterday', '1', '2024-13-01', '2024-05-01T25:00Z', '05/01/2024'])('rejects %j', (text) => {
    expect(() => parseSince(text)).toThrow(/--since must be an ISO-8601 date/);
  });
});

// ---------------------------------------------------------------------------------------------------------
// backfill() with stubbed clients (send matched by command class)
// ---------------------------------------------------------------------------------------------------------

type BatchHandler = (input: SendMessageBatchCommandInput) => Partial<SendMessageBatchCommandOutput>;

function stubs(pages: _Object[][], onBatch: BatchHandler = () => ({})) {
  const sent: { key: string; body: string }[] = [];
  const listed: (string | undefined)[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const s3 = {
    send: (cmd: unknown) => {
      if (!(cmd instanceof ListObjectsV2Command)) throw new Error('unexpected S3 command');
      const token = cmd.input.ContinuationToken;
      listed.push(cmd.input.Prefix);
      const i = token === undefined ? 0 : Number(token);
      const more = i + 1 < pages.length;
      return Promise.resolve({
        Contents: pages[i] ?? [],
        IsTruncated: more,
        ...(more ? { NextContinuationToken: String(i + 1) } : {}),
      });
    },
  } as unknown as S3Client;
  const sqs = {
    send: async (cmd: unknown) => {
      if (!(cmd instanceof SendMessageBatchCommand)) throw new Error('unexpected SQS command');
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await new Promise((r) => setTimeout(r, 1));
      inFlight -= 1;
      const out = onBatch(cmd.input);
      const failed = new Set((out.Failed ?? []).map((f) => f.Id));
      for (const e of cmd.input.Entries ?? []) {
        if (failed.has(e.Id)) continue;
        const parsed = parseS3EventMessage(e.MessageBody ?? '');
        if (parsed.kind === 'records')
          sent.push({ key: parsed.events[0]?.key ?? '', body: e.MessageBody ?? '' });
      }
      return { Successful: [], Failed: [], ...out };
    },
  } as unknown as SQSClient;
  return { s3, sqs, sent, listed, maxInFlight: () => maxInFlight };
}

const listing = (keys: string[], lastModified = t0): _Object[] =>
  keys.map((Key) => ({ Key, Size: 1, ETag: '"e"', LastModified: lastModified }));

describe('Function: backfill', () => {
  const base = { queueUrl: 'http://q/source', source, dryRun: false, log, retryBaseMs: 1 };

  it('streams every page and enqueues one event per matching object, in batches of 10', async () => {
    // Prepare
    const keys = Array.from({ length: 95 }, (_, i) => `data/k ${i}+`);
    const s = stubs([listing(keys.slice(0, 40)), listing(keys.slice(40, 80)), listing(keys.slice(80))]);
    // Act
    const report = await backfill({
      ...base,
      s3: s.s3,
      sqs: s.sqs,
      concurrency: 3,
      signal: new AbortController().signal,
    });
    // Assess
    expect(report).toEqual({
      listed: 95,
      matched: 95,
      enqueued: 95,
      skippedOlder: 0,
      skippedNewer: 0,
      skippedFilter: 0,
    });
    expect(s.sent.map((x) => x.key).sort()).toEqual([...keys].sort());
    expect(s.listed.every((p) => p === 'data/')).toBe(true);
    expect(s.maxInFlight()).toBeLessThanOrEqual(3);
  });

  it('counts suffix, since and snapshot skips, and sends nothing in a dry run', async () => {
    // Prepare
    const future = new Date(Date.now() + 3_600_000);
    const s = stubs([
      [
        ...listing(['data/a.json', 'data/b.txt']),
        ...listing(['data/old.json'], new Date('2020-01-01T00:00:00Z')),
        ...listing(['data/new.json'], future),
      ],
    ]);
    // Act
    const report = await backfill({
      ...base,
      s3: s.s3,
      sqs: s.sqs,
      source: { ...source, suffixFilter: '.json' },
      since: new Date('2024-01-01T00:00:00Z'),
      dryRun: true,
      signal: new AbortController().signal,
    });
    // Assess
    expect(report).toEqual({
      listed: 4,
      matched: 1,
      enqueued: 0,
      skippedOlder: 1,
      skippedNewer: 1,
      skippedFilter: 1,
    });
    expect(s.sent).toEqual([]);
  });

  it('retries entries reported in Failed until they are accepted', async () => {
    // Prepare
    let calls = 0;
    const s = stubs([listing(['data/a', 'data/b', 'data/c'])], (input) => {
      calls += 1;
      // First call: the 2nd entry is throttled.
      return calls === 1
        ? { Failed: [{ Id: input.Entries?.[1]?.Id, Code: 'ThrottlingException', SenderFault: false }] }
        : {};
    });
    // Act
    const report = await backfill({ ...base, s3: s.s3, sqs: s.sqs, signal: new AbortController().signal });
    // Assess
    expect(calls).toBe(2);
    expect(report.enqueued).toBe(3);
    expect(s.sent.map((x) => x.key).sort()).toEqual(['data/a', 'data/b', 'data/c']);
  });

  it('throws a BackfillError naming the keys that still fail after every attempt', async () => {
    // Prepare
    const s = stubs([listing(['data/ok', 'data/bad key'])], (input) => ({
      Failed: (input.Entries ?? [])
        .filter((e) => (e.MessageBody ?? '').includes('bad+key'))
        .map((e) => ({ Id: e.Id, Code: 'InternalError', SenderFault: false })),
    }));
    // Act
    const run = backfill({
      ...base,
      s3: s.s3,
      sqs: s.sqs,
      sendAttempts: 3,
      signal: new AbortController().signal,
    });
    // Assess
    await expect(run).rejects.toThrow(BackfillError);
    const e = (await run.catch((x: unknown) => x)) as BackfillError;
    expect(e.message).toContain('"data/bad key"');
    expect(e.failedKeys).toEqual(['data/bad key']);
    expect(e.report.enqueued).toBe(1);
  });

  it('does not retry sender faults', async () => {
    // Prepare
    let calls = 0;
    const s = stubs([listing(['data/a'])], (input) => {
      calls += 1;
      return { Failed: [{ Id: input.Entries?.[0]?.Id, Code: 'InvalidMessageContents', SenderFault: true }] };
    });
    // Act
    const run = backfill({ ...base, s3: s.s3, sqs: s.sqs, signal: new AbortController().signal });
    // Assess
    await expect(run).rejects.toThrow(/InvalidMessageContents|"data\/a"/);
    expect(calls).toBe(1);
  });

  it('names the keys of a batch whose call fails as a whole, with the cause', async () => {
    // Prepare
    const s = stubs([listing(['data/x', 'data/y'])], () => {
      throw Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' });
    });
    // Act
    const e = (await backfill({ ...base, s3: s.s3, sqs: s.sqs, signal: new AbortController().signal }).catch(
      (x: unknown) => x,
    )) as BackfillError;
    // Assess
    expect(e).toBeInstanceOf(BackfillError);
    expect(e.message).toMatch(
      /SendMessageBatch failed: QueueDoesNotExist: The specified queue does not exist/,
    );
    expect(e.failedKeys).toEqual(['data/x', 'data/y']);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('reports a listing failure', async () => {
    // Prepare
    const s = stubs([]);
    const s3 = {
      send: () => Promise.reject(Object.assign(new Error('denied'), { name: 'AccessDenied' })),
    } as unknown as S3Client;
    // Act
    const run = backfill({ ...base, s3, sqs: s.sqs, signal: new AbortController().signal });
    // Assess
    await expect(run).rejects.toThrow(/listing failed: AccessDenied: denied/);
  });

  it('stops on abort and reports what was enqueued', async () => {
    // Prepare
    const ac = new AbortController();
    const keys = Array.from({ length: 100 }, (_, i) => `data/${i}`);
    const s = stubs([listing(keys.slice(0, 50)), listing(keys.slice(50))], () => {
      ac.abort();
      return {};
    });
    // Act
    const report = await backfill({ ...base, s3: s.s3, sqs: s.sqs, concurrency: 1, signal: ac.signal });
    // Assess
    expect(report.enqueued).toBe(10);
    expect(report.listed).toBeLessThan(100);
    expect(s.sent).toHaveLength(10);
  });
});
