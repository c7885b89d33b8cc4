import { seededRandom } from '../../src/core/random.js';
import { describe, expect, it } from 'vitest';

import { BalerError, S3EventParseError } from '../../src/core/errors.js';
import {
  buildObjectCreatedRecord,
  buildTestEvent,
  decodeS3EventKey,
  encodeS3EventKey,
  parseS3EventMessage,
  type ObjectEvent,
  type S3EventRecordParts,
} from '../../src/core/s3Events.js';
import {
  awsCompleteMultipartUpload,
  awsObjectCreatedPut,
  awsObjectCreatedPutEncodedKey,
  awsObjectCreatedPutEncodedKeyRaw,
  awsObjectRemovedDelete,
  awsPutRecord,
  awsTestEvent,
  malformedS3EventBodies,
  snsWrappedObjectCreatedPut,
  snsWrappedTestEvent,
} from '../fixtures/s3Events.js';

/** Keys that are data, never paths (DESIGN.md §4). */
const NASTY_KEYS = [
  'red flower.jpg',
  'a+b',
  '100%',
  '%41',
  'ü/日本/😀.txt',
  '../../etc/passwd',
  'a//b///c',
  '/leading/slash',
  '//',
  ' ',
  '+',
  'trailing/',
  '\uFEFFbom',
  'tab\there\nnewline\r\u0000nul\u007f',
  'all ~!*\'()@#$&=;:,?[]{}|^`"<>\\ punctuation',
];

/** Deterministic PRNG (mulberry32), so a failing case can be reproduced. */
const prng = seededRandom;

/** A random string drawn from ASCII (all of it), Latin-1, BMP (CJK, BOM, RTL) and astral code points. */
function randomKey(next: () => number): string {
  const length = 1 + Math.floor(next() * 40);
  let key = '';
  for (let i = 0; i < length; i++) {
    const pick = next();
    let codePoint: number;
    if (pick < 0.5) codePoint = Math.floor(next() * 0x80);
    else if (pick < 0.6) codePoint = [0x20, 0x2b, 0x25, 0x2f][Math.floor(next() * 4)] ?? 0x20;
    else if (pick < 0.75) codePoint = 0x80 + Math.floor(next() * 0x780);
    else if (pick < 0.9)
      codePoint = [0x4e2d, 0xfeff, 0x05d0, 0xfffd, 0xd7ff, 0xe000][Math.floor(next() * 6)] ?? 0x4e2d;
    else codePoint = 0x10000 + Math.floor(next() * 0xfffff);
    key += String.fromCodePoint(codePoint);
  }
  return key;
}

/**
 * Independent oracle for the chosen rule (Java URLEncoder over UTF-8, `/` kept): encodeURIComponent leaves
 * `A-Za-z0-9 - _ . ! ~ * ' ( )`, so escape `! ~ ' ( )` as well, then space -> `+` and `%2F` -> `/`.
 */
function oracle(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!~'()]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/');
}

function utf8Length(text: string): number {
  return new TextEncoder().encode(text).length;
}

/** The nested field names of a JSON value, in order (values ignored). */
function shape(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(shape);
  if (value !== null && typeof value === 'object') {
    return Object.entries(value).map(([k, v]) => [k, shape(v)]);
  }
  return typeof value;
}

function parseError(body: string): S3EventParseError {
  try {
    parseS3EventMessage(body);
  } catch (e: unknown) {
    if (e instanceof S3EventParseError) return e;
    throw e;
  }
  throw new Error('expected parseS3EventMessage to throw');
}

describe('Function: encodeS3EventKey', () => {
  it('encodes like the AWS docs example: space becomes +', () => {
    // Act
    const encoded = encodeS3EventKey('red flower.jpg');

    // Assess
    expect(encoded).toBe('red+flower.jpg');
  });

  it('escapes + and % so that they survive decoding', () => {
    // Act & Assess
    expect(encodeS3EventKey('a+b')).toBe('a%2Bb');
    expect(encodeS3EventKey('100%')).toBe('100%25');
    expect(encodeS3EventKey('%41')).toBe('%2541');
  });

  it('matches a real AWS key: = escaped, / kept', () => {
    // Act
    const encoded = encodeS3EventKey('year=2025/month=08/day=13/part-0.gz');

    // Assess
    expect(encoded).toBe('year%3D2025/month%3D08/day%3D13/part-0.gz');
  });

  it('writes unicode as upper-case UTF-8 percent-escapes', () => {
    // Act & Assess
    expect(encodeS3EventKey('ü')).toBe('%C3%BC');
    expect(encodeS3EventKey('日本')).toBe('%E6%97%A5%E6%9C%AC');
    expect(encodeS3EventKey('😀')).toBe('%F0%9F%98%80');
    expect(encodeS3EventKey('\uFEFF')).toBe('%EF%BB%BF');
  });

  it('leaves .., // and a leading / untouched', () => {
    // Act & Assess
    expect(encodeS3EventKey('/a//b/../c/.')).toBe('/a//b/../c/.');
    expect(encodeS3EventKey('//')).toBe('//');
  });

  it('leaves exactly A-Z a-z 0-9 . - * _ / unescaped', () => {
    // Prepare
    const unescaped = 'ABCXYZabcxyz0189.-*_/';

    // Act & Assess
    expect(encodeS3EventKey(unescaped)).toBe(unescaped);
    for (let code = 0x00; code < 0x80; code++) {
      const char = String.fromCharCode(code);
      if (unescaped.includes(char) || /[A-Za-z0-9]/.test(char) || char === ' ') continue;
      expect(encodeS3EventKey(char), `char 0x${code.toString(16)}`).toBe(
        `%${code.toString(16).toUpperCase().padStart(2, '0')}`,
      );
    }
  });

  it('encodes a 1,024-byte key without loss', () => {
    // Prepare: 341 three-byte characters + 1 byte = the S3 maximum of 1,024 bytes
    const key = `${'€'.repeat(341)}x`;
    expect(utf8Length(key)).toBe(1024);

    // Act
    const encoded = encodeS3EventKey(key);

    // Assess
    expect(encoded).toBe(`${'%E2%82%AC'.repeat(341)}x`);
    expect(decodeS3EventKey(encoded)).toBe(key);
  });

  it('rejects a lone surrogate (not representable in UTF-8)', () => {
    // Act & Assess
    expect(() => encodeS3EventKey('bad\uD800key')).toThrow(BalerError);
    expect(() => encodeS3EventKey('bad\uDC00')).toThrow(/lone UTF-16 surrogate/);
  });
});

describe('Function: decodeS3EventKey', () => {
  it('turns + into space and decodes escapes', () => {
    // Act & Assess
    expect(decodeS3EventKey('red+flower.jpg')).toBe('red flower.jpg');
    expect(decodeS3EventKey('a%2Bb')).toBe('a+b');
    expect(decodeS3EventKey('100%25')).toBe('100%');
    expect(decodeS3EventKey('%2541')).toBe('%41');
  });

  it('accepts lower-case hex, %2F and raw non-ASCII characters', () => {
    // Act & Assess
    expect(decodeS3EventKey('%c3%bc')).toBe('ü');
    expect(decodeS3EventKey('a%2Fb')).toBe('a/b');
    expect(decodeS3EventKey('ü/日本/😀')).toBe('ü/日本/😀');
    expect(decodeS3EventKey('~()!')).toBe('~()!');
  });

  it('keeps a leading byte-order mark as part of the key', () => {
    // Act & Assess
    expect(decodeS3EventKey('%EF%BB%BFa')).toBe('\uFEFFa');
  });

  it.each([
    ['%', 0],
    ['%4', 0],
    ['%G1', 0],
    ['abc%zz', 3],
    ['ok%2', 2],
  ])('rejects the malformed escape in %j at offset %i', (encoded, offset) => {
    // Act & Assess
    expect(() => decodeS3EventKey(encoded)).toThrow(S3EventParseError);
    expect(() => decodeS3EventKey(encoded)).toThrow(`at offset ${offset}`);
    expect(() => decodeS3EventKey(encoded)).toThrow(/malformed percent-escape/);
  });

  it.each(['%C3', '%FF', '%E2%82', '%ED%A0%80'])('rejects escapes %j that are not UTF-8', (encoded) => {
    // Act & Assess
    expect(() => decodeS3EventKey(encoded)).toThrow(/do not form valid UTF-8/);
  });

  it('rejects a lone surrogate in the encoded text', () => {
    // Act & Assess
    expect(() => decodeS3EventKey('x\uD800')).toThrow(S3EventParseError);
  });
});

describe('Function: encodeS3EventKey/decodeS3EventKey round trip', () => {
  it.each(NASTY_KEYS)('round-trips %j', (key) => {
    // Act
    const encoded = encodeS3EventKey(key);

    // Assess
    expect(encoded).toMatch(/^[A-Za-z0-9.\-*_/+%]*$/);
    expect(decodeS3EventKey(encoded)).toBe(key);
  });

  it('round-trips 5,000 random strings and agrees with an independent encoder', () => {
    // Prepare
    const next = prng(0xba1e5);

    for (let i = 0; i < 5000; i++) {
      const key = randomKey(next);

      // Act
      const encoded = encodeS3EventKey(key);

      // Assess
      expect(encoded, JSON.stringify(key)).toBe(oracle(key));
      expect(decodeS3EventKey(encoded), JSON.stringify(key)).toBe(key);
    }
  });
});

describe('Function: parseS3EventMessage', () => {
  it('parses an AWS ObjectCreated:Put body', () => {
    // Act
    const parsed = parseS3EventMessage(awsObjectCreatedPut);

    // Assess
    expect(parsed).toStrictEqual({
      kind: 'records',
      events: [
        {
          type: 'created',
          eventName: 'ObjectCreated:Put',
          bucket: 'acme-raw-data',
          key: 'incoming/HappyFace.jpg',
          size: 1024,
          eTag: 'd41d8cd98f00b204e9800998ecf8427e',
          versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
          sequencer: '0055AED6DCD90281E5',
          eventTime: '2024-05-01T10:15:42.123Z',
          region: 'us-west-2',
        },
      ],
    });
  });

  it('decodes the key once', () => {
    // Act
    const parsed = parseS3EventMessage(awsObjectCreatedPutEncodedKey);

    // Assess
    expect(parsed.kind).toBe('records');
    if (parsed.kind !== 'records') return;
    expect(parsed.events[0]?.key).toBe(awsObjectCreatedPutEncodedKeyRaw);
    expect(parsed.events[0]).not.toHaveProperty('versionId');
  });

  it('parses a CompleteMultipartUpload larger than 4 GiB exactly', () => {
    // Act
    const parsed = parseS3EventMessage(awsCompleteMultipartUpload);

    // Assess
    expect(parsed.kind === 'records' && parsed.events[0]).toMatchObject({
      type: 'created',
      eventName: 'ObjectCreated:CompleteMultipartUpload',
      key: 'masters/2024/launch keynote.mov',
      size: 5_368_709_121,
      eTag: '2c3f4a19e0b1ae8fd07c2b9b1c2f5e6a-641',
    });
  });

  it('parses an ObjectRemoved:Delete without size or ETag', () => {
    // Act
    const parsed = parseS3EventMessage(awsObjectRemovedDelete);

    // Assess
    expect(parsed).toStrictEqual({
      kind: 'records',
      events: [
        {
          type: 'removed',
          eventName: 'ObjectRemoved:Delete',
          bucket: 'acme-raw-data',
          key: 'incoming/old report.pdf',
          sequencer: '0055AED6DCD9028200',
          eventTime: '2024-05-01T11:00:00.007Z',
          region: 'us-west-2',
        },
      ],
    });
  });

  it('recognises the s3:TestEvent', () => {
    // Act
    const parsed = parseS3EventMessage(awsTestEvent);

    // Assess
    expect(parsed).toStrictEqual({ kind: 'test', bucket: 'acme-raw-data', time: '2024-05-01T09:59:58.089Z' });
  });

  it('unwraps an SNS envelope around records or a test event', () => {
    // Act
    const records = parseS3EventMessage(snsWrappedObjectCreatedPut);
    const test = parseS3EventMessage(snsWrappedTestEvent);

    // Assess
    expect(records).toStrictEqual(parseS3EventMessage(awsObjectCreatedPut));
    expect(test).toStrictEqual({ kind: 'test', bucket: 'acme-raw-data', time: '2024-05-01T09:59:58.089Z' });
  });

  it('normalises an s3: event-name prefix, quoted ETags and empty optional fields', () => {
    // Prepare: shapes some S3-compatible stores send
    const body = JSON.stringify({
      Records: [
        {
          ...awsPutRecord,
          eventName: 's3:ObjectCreated:Copy',
          awsRegion: '',
          s3: {
            ...awsPutRecord.s3,
            object: {
              key: 'k',
              size: 3,
              eTag: '"0cc175b9c0f1b6a831c399e269772661"',
              versionId: '',
              sequencer: '',
            },
          },
        },
        {
          ...awsPutRecord,
          s3: { ...awsPutRecord.s3, object: { key: 'm', size: 0, eTag: '', versionId: null } },
        },
      ],
    });

    // Act
    const parsed = parseS3EventMessage(body);

    // Assess
    expect(parsed.kind === 'records' && parsed.events).toStrictEqual([
      {
        type: 'created',
        eventName: 'ObjectCreated:Copy',
        bucket: 'acme-raw-data',
        key: 'k',
        size: 3,
        eTag: '0cc175b9c0f1b6a831c399e269772661',
        eventTime: '2024-05-01T10:15:42.123Z',
        region: '',
      },
      {
        type: 'created',
        eventName: 'ObjectCreated:Put',
        bucket: 'acme-raw-data',
        key: 'm',
        size: 0,
        eventTime: '2024-05-01T10:15:42.123Z',
        region: 'us-west-2',
      },
    ]);
  });

  it.each([
    ['ObjectCreated:Post', 'created'],
    ['ObjectRemoved:DeleteMarkerCreated', 'removed'],
    ['LifecycleExpiration:Delete', 'removed'],
    ['ObjectRestore:Completed', 'other'],
    ['ObjectTagging:Put', 'other'],
    ['s3:ReducedRedundancyLostObject', 'other'],
  ])('classifies %s as %s', (eventName, type) => {
    // Prepare
    const body = JSON.stringify({ Records: [{ ...awsPutRecord, eventName }] });

    // Act
    const parsed = parseS3EventMessage(body);

    // Assess
    expect(parsed.kind === 'records' && parsed.events[0]?.type).toBe(type);
  });

  it('accepts fields it does not know (forward compatible with new minor versions)', () => {
    // Prepare
    const body = JSON.stringify({
      Records: [
        {
          ...awsPutRecord,
          eventVersion: '2.3',
          glacierEventData: { restoreEventData: { lifecycleRestoreStorageClass: 'GLACIER' } },
          s3: { ...awsPutRecord.s3, object: { ...awsPutRecord.s3.object, contentType: 'image/jpeg' } },
        },
      ],
    });

    // Act
    const parsed = parseS3EventMessage(body);

    // Assess
    expect(parsed.kind === 'records' && parsed.events[0]?.key).toBe('incoming/HappyFace.jpg');
  });

  it('returns every record of a multi-record body in order', () => {
    // Prepare
    const keys = ['a', 'b c', 'd+e'];
    const body = JSON.stringify({
      Records: keys.map((key) => ({
        ...awsPutRecord,
        s3: { ...awsPutRecord.s3, object: { key: encodeS3EventKey(key) } },
      })),
    });

    // Act
    const parsed = parseS3EventMessage(body);

    // Assess
    expect(parsed.kind === 'records' && parsed.events.map((e) => e.key)).toStrictEqual(keys);
  });

  it.each(Object.entries(malformedS3EventBodies))('rejects %s, naming the path', (_name, { body, error }) => {
    // Act
    const e = parseError(body);

    // Assess
    expect(e.code).toBe('S3_EVENT_INVALID');
    expect(e.message).toMatch(error);
    expect(e.message).not.toContain('\n');
  });

  it('keeps the decoding error as the cause of a key error', () => {
    // Act
    const e = parseError(malformedS3EventBodies.badEscape.body);

    // Assess
    expect(e.cause).toBeInstanceOf(S3EventParseError);
  });
});

describe('Function: buildTestEvent', () => {
  it('builds the AWS test message, field for field', () => {
    // Act
    const event = buildTestEvent({
      bucket: 'acme-raw-data',
      time: new Date('2024-05-01T09:59:58.089Z'),
      requestId: '5582815E1AEA5ADF',
      hostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE',
    });

    // Assess
    expect(JSON.stringify(event)).toBe(awsTestEvent);
    expect(parseS3EventMessage(JSON.stringify(event))).toStrictEqual({
      kind: 'test',
      bucket: 'acme-raw-data',
      time: '2024-05-01T09:59:58.089Z',
    });
  });
});

describe('Function: buildObjectCreatedRecord', () => {
  const parts: S3EventRecordParts = {
    eventName: 'ObjectCreated:Put',
    region: 'us-west-2',
    bucket: 'acme-raw-data',
    key: 'incoming/HappyFace.jpg',
    size: 1024,
    eTag: '"d41d8cd98f00b204e9800998ecf8427e"',
    versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
    sequencer: '0055AED6DCD90281E5',
    eventTime: '2024-05-01T10:15:42.123Z',
    principalId: 'AWS:AIDAJDPLRKLG7UEXAMPLE',
    sourceIp: '203.0.113.7',
    requestId: 'C3D13FE58DE4C810',
    hostId: 'FMyUVURIY8/IgAtTv8xRjskZQpcIZ9KG4V5Wp6S7S/JRWeUWerMUE5JgHvANOjpD',
    configurationId: 'baler-source-0',
    bucketOwnerId: 'A3NL1KOZZKEXAMPLE',
  };

  it('reproduces the AWS sample record exactly, fields in the same order', () => {
    // Act
    const record = buildObjectCreatedRecord(parts);

    // Assess
    expect(shape(record)).toStrictEqual(shape(awsPutRecord));
    expect(JSON.stringify(record)).toBe(JSON.stringify(awsPutRecord));
  });

  it('omits versionId for an unversioned bucket and fills AWS-shaped defaults', () => {
    // Prepare
    const { versionId: _v, principalId: _p, sourceIp: _s, requestId: _r, hostId: _h, ...minimal } = parts;

    // Act
    const record = buildObjectCreatedRecord({ ...minimal, eventTime: new Date('2024-05-01T10:15:42.123Z') });

    // Assess
    expect(record.s3.object).not.toHaveProperty('versionId');
    expect(Object.keys(record.s3.object)).toStrictEqual(['key', 'size', 'eTag', 'sequencer']);
    expect(record.eventTime).toBe('2024-05-01T10:15:42.123Z');
    expect(record.userIdentity).toStrictEqual({ principalId: 'AWS:BALERLOCAL' });
    expect(record.requestParameters).toStrictEqual({ sourceIPAddress: '127.0.0.1' });
    expect(record.responseElements).toStrictEqual({
      'x-amz-request-id': '55AED6DCD90281E5', // the last 16 hex digits of the sequencer
      'x-amz-id-2': 'baler/local/55AED6DCD90281E5',
    });
  });

  it('writes eventName without the s3: prefix, eventSource aws:s3 and the bucket ARN', () => {
    // Act
    const record = buildObjectCreatedRecord({
      ...parts,
      eventName: 's3:ObjectCreated:CompleteMultipartUpload',
      bucket: 'other-bucket',
    });

    // Assess
    expect(record.eventName).toBe('ObjectCreated:CompleteMultipartUpload');
    expect(record.eventSource).toBe('aws:s3');
    expect(record.eventVersion).toBe('2.1');
    expect(record.s3.s3SchemaVersion).toBe('1.0');
    expect(record.s3.bucket.arn).toBe('arn:aws:s3:::other-bucket');
  });

  it.each(NASTY_KEYS)('encodes key %j so that parsing gives it back', (key) => {
    // Act
    const record = buildObjectCreatedRecord({ ...parts, key });
    const parsed = parseS3EventMessage(JSON.stringify({ Records: [record] }));

    // Assess
    expect(record.s3.object.key).toBe(encodeS3EventKey(key));
    const expected: ObjectEvent = {
      type: 'created',
      eventName: 'ObjectCreated:Put',
      bucket: 'acme-raw-data',
      key,
      size: 1024,
      eTag: 'd41d8cd98f00b204e9800998ecf8427e',
      versionId: '096fKKXTRTtl3on89fVO.nfljtsv6qko',
      sequencer: '0055AED6DCD90281E5',
      eventTime: '2024-05-01T10:15:42.123Z',
      region: 'us-west-2',
    };
    expect(parsed).toStrictEqual({ kind: 'records', events: [expected] });
  });

  it('rejects a non-created event name and an invalid size', () => {
    // Act & Assess
    expect(() => buildObjectCreatedRecord({ ...parts, eventName: 'ObjectRemoved:Delete' })).toThrow(
      'eventName must be ObjectCreated:*, got "ObjectRemoved:Delete"',
    );
    expect(() => buildObjectCreatedRecord({ ...parts, size: -1 })).toThrow(
      'size must be a non-negative integer',
    );
    expect(() => buildObjectCreatedRecord({ ...parts, size: 1.5 })).toThrow(BalerError);
  });
});
