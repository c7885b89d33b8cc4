/**
 * Amazon S3 event notifications: key encoding, parsing and building.
 *
 * Pure functions, no I/O and no `@aws-sdk/*` imports. Parsing is the edge where S3 event keys are decoded,
 * exactly once (DESIGN.md §4); everything downstream works with raw keys, which are data, never paths.
 */
import { z } from 'zod';

import { BalerError, S3EventParseError } from './errors.js';

// ---------------------------------------------------------------------------------------------------------
// Key encoding
// ---------------------------------------------------------------------------------------------------------

/*
 * How S3 encodes `s3.object.key` in event notifications.
 *
 * What AWS states: "The object key name value is URL encoded. For example, "red flower.jpg" becomes
 * "red+flower.jpg" (Amazon S3 returns "application/x-www-form-urlencoded" as the content type in the
 * response)" (S3 user guide, "Event message structure"). AWS's own Java decoder,
 * `S3EventNotification.S3ObjectEntity.getUrlDecodedKey()` in aws-lambda-java-events, is
 * `java.net.URLDecoder.decode(key, "UTF-8")`, i.e. the inverse of `java.net.URLEncoder`.
 *
 * What real events show: `/` is NOT escaped (real SQS bodies carry keys such as
 * `AWSLogs/111111111111/CloudTrail/eu-west-2/...` and `year%3D2025/month%3D08/...`; minio/minio#11665 reports
 * the same, "the slash character is not encoded, while otherwise using query-style encoding (eg space -> +)");
 * `=` becomes `%3D` (same event, and aws/aws-sam-cli#379); `:` becomes `%3A` (aws/aws-sdk-js#837).
 *
 * The rule we emit is therefore Java `URLEncoder` over UTF-8 with `/` left as is:
 *   - `A-Z a-z 0-9 . - * _ /` are copied unchanged;
 *   - space becomes `+` (so a literal `+` must become `%2B`);
 *   - every other byte of the key's UTF-8 form becomes `%XX` with upper-case hex.
 * We found no real sample containing `* ~ ( ) ! '`; for these we follow URLEncoder (`*` kept, the rest
 * escaped). That only matters for byte-exact comparison with AWS output: the decoder below accepts both
 * forms (and a `%2F` for `/`, which 2015-era events used), as every form decoder does.
 */

/** Bytes copied unchanged by the encoder: Java URLEncoder's unreserved set plus `/`. */
const UNESCAPED_BYTE = /^[A-Za-z0-9.\-*_/]$/;
const HEX_PAIR = /^[0-9A-Fa-f]{2}$/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const utf8Encoder = new TextEncoder();
// `ignoreBOM` keeps a leading U+FEFF: it is part of the key, not a byte-order mark.
const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Precomputed output for each byte value 0..255. */
const ENCODED_BYTE: readonly string[] = Array.from({ length: 256 }, (_, byte) => {
  const char = String.fromCharCode(byte);
  if (byte === 0x20) return '+';
  if (byte < 0x80 && UNESCAPED_BYTE.test(char)) return char;
  return `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
});

/** Quote a possibly long key for an error message, on one line. */
function quoteForMessage(text: string): string {
  const max = 120;
  return JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text);
}

/**
 * Encode an object key the way Amazon S3 writes `s3.object.key` in event notifications:
 * form-URL-encoding of the UTF-8 bytes (space as `+`, `+` as `%2B`), with `/` left unescaped.
 * See the comment above for the exact character set and the evidence for it.
 *
 * @param key - the raw object key (any UTF-8 string, up to 1,024 bytes in S3)
 * @returns the encoded key, as it appears in an AWS event
 * @throws BalerError (`S3_KEY_INVALID`) if `key` contains a lone UTF-16 surrogate (not valid UTF-8)
 *
 * @example
 * encodeS3EventKey('photos/red flower+1.jpg'); // 'photos/red+flower%2B1.jpg'
 * encodeS3EventKey('año=2024/ü.txt'); // 'a%C3%B1o%3D2024/%C3%BC.txt'
 */
export function encodeS3EventKey(key: string): string {
  if (LONE_SURROGATE.test(key)) {
    throw new BalerError(
      'S3_KEY_INVALID',
      `object key ${quoteForMessage(key)} contains a lone UTF-16 surrogate and is not valid UTF-8`,
    );
  }
  let out = '';
  for (const byte of utf8Encoder.encode(key)) out += ENCODED_BYTE[byte] ?? '';
  return out;
}

/**
 * Decode `s3.object.key` from an S3 event: `+` becomes a space, then `%XX` escapes are decoded as UTF-8
 * bytes. Characters that were left unescaped (including raw non-ASCII) pass through unchanged.
 *
 * @param encoded - the key as found in the event
 * @returns the raw object key
 * @throws S3EventParseError on a malformed escape (`%` not followed by two hex digits) or when the
 *   escapes do not form valid UTF-8
 *
 * @example
 * decodeS3EventKey('photos/red+flower%2B1.jpg'); // 'photos/red flower+1.jpg'
 * decodeS3EventKey('100%'); // throws S3EventParseError: malformed percent-escape "%" at offset 3 ...
 */
export function decodeS3EventKey(encoded: string): string {
  const bytes: number[] = [];
  let i = 0;
  while (i < encoded.length) {
    const unit = encoded.charCodeAt(i);
    if (unit === 0x2b /* + */) {
      bytes.push(0x20);
      i += 1;
    } else if (unit === 0x25 /* % */) {
      const hex = encoded.slice(i + 1, i + 3);
      if (!HEX_PAIR.test(hex)) {
        throw new S3EventParseError(
          `malformed percent-escape ${JSON.stringify(encoded.slice(i, i + 3))} at offset ${i} in key ${quoteForMessage(encoded)}`,
        );
      }
      bytes.push(Number.parseInt(hex, 16));
      i += 3;
    } else if (unit < 0x80) {
      bytes.push(unit);
      i += 1;
    } else {
      const codePoint = encoded.codePointAt(i) ?? unit;
      if (codePoint >= 0xd800 && codePoint <= 0xdfff) {
        throw new S3EventParseError(
          `lone UTF-16 surrogate at offset ${i} in key ${quoteForMessage(encoded)}`,
        );
      }
      const char = String.fromCodePoint(codePoint);
      for (const byte of utf8Encoder.encode(char)) bytes.push(byte);
      i += char.length;
    }
  }
  try {
    return utf8Decoder.decode(Uint8Array.from(bytes));
  } catch (e: unknown) {
    throw new S3EventParseError(
      `percent-escapes in key ${quoteForMessage(encoded)} do not form valid UTF-8`,
      { cause: e },
    );
  }
}

// ---------------------------------------------------------------------------------------------------------
// Event JSON schemas and types
// ---------------------------------------------------------------------------------------------------------

const isoTimestamp = z
  .string()
  .refine((value) => !Number.isNaN(Date.parse(value)), 'expected an ISO-8601 timestamp');

/*
 * Records are loose objects: AWS adds fields in minor event versions ("Applications should ignore new
 * fields to stay forward compatible"), e.g. `glacierEventData`, `replicationEventData`.
 */
const s3EventRecordSchema = z.looseObject({
  eventVersion: z.string(),
  eventSource: z.string(),
  awsRegion: z.string(),
  eventTime: isoTimestamp,
  eventName: z.string().min(1),
  userIdentity: z.looseObject({ principalId: z.string() }).optional(),
  requestParameters: z.looseObject({ sourceIPAddress: z.string() }).optional(),
  responseElements: z.looseObject({ 'x-amz-request-id': z.string(), 'x-amz-id-2': z.string() }).optional(),
  s3: z.looseObject({
    s3SchemaVersion: z.string().optional(),
    configurationId: z.string().optional(),
    bucket: z.looseObject({
      name: z.string().min(1),
      ownerIdentity: z.looseObject({ principalId: z.string() }).optional(),
      arn: z.string().optional(),
    }),
    object: z.looseObject({
      key: z.string().min(1),
      size: z.number().int().nonnegative().optional(),
      eTag: z.string().optional(),
      // The S3 docs describe versionId as "object version if bucket is versioning-enabled, otherwise null".
      versionId: z.string().nullable().optional(),
      sequencer: z.string().optional(),
    }),
  }),
});

const s3EventNotificationSchema = z.looseObject({
  Records: z.array(s3EventRecordSchema).min(1),
});

const s3TestEventSchema = z.looseObject({
  Service: z.literal('Amazon S3'),
  Event: z.literal('s3:TestEvent'),
  Time: isoTimestamp,
  Bucket: z.string().min(1),
  RequestId: z.string(),
  HostId: z.string(),
});

const snsEnvelopeSchema = z.looseObject({
  Type: z.literal('Notification'),
  Message: z.string(),
});

/**
 * One record of an S3 event notification, as AWS writes it (event version 2.x). Unknown fields are kept.
 *
 * @example
 * const record: S3EventRecord = buildObjectCreatedRecord({ ... });
 * record.s3.object.key; // still URL-encoded: use parseS3EventMessage() to get ObjectEvents
 */
export type S3EventRecord = z.infer<typeof s3EventRecordSchema>;

/**
 * The body S3 sends to SQS/SNS/Lambda for object events: `{ "Records": [ ... ] }`.
 *
 * @example
 * const body: S3EventNotification = { Records: [buildObjectCreatedRecord({ ... })] };
 * JSON.stringify(body); // what the local notification bridge sends to SQS
 */
export type S3EventNotification = z.infer<typeof s3EventNotificationSchema>;

/**
 * The message S3 sends once when a notification configuration is put on a bucket.
 *
 * @example
 * const test: S3TestEvent = buildTestEvent({ bucket: 'b', time: new Date(), requestId: 'R', hostId: 'H' });
 */
export type S3TestEvent = z.infer<typeof s3TestEventSchema>;

/** What kind of change an event describes. */
export const ObjectEventType = {
  created: 'created',
  removed: 'removed',
  other: 'other',
} as const;
/**
 * `created` for `ObjectCreated:*`; `removed` for `ObjectRemoved:*` and `LifecycleExpiration:*` (both mean
 * the object, or its current version, is gone); `other` for everything else (restore, replication, tagging).
 *
 * @example
 * const type: ObjectEventType = 'created';
 */
export type ObjectEventType = (typeof ObjectEventType)[keyof typeof ObjectEventType];

/**
 * One object change, normalised: key decoded, ETag unquoted, `s3:` prefix removed from the event name.
 *
 * @example
 * const parsed = parseS3EventMessage(body);
 * if (parsed.kind === 'records') for (const e of parsed.events) if (e.type === 'created') console.log(e.key);
 */
export interface ObjectEvent {
  readonly type: ObjectEventType;
  /** Event name without the `s3:` prefix, e.g. `ObjectCreated:Put`. */
  readonly eventName: string;
  readonly bucket: string;
  /** The raw object key (decoded from the event's URL encoding). */
  readonly key: string;
  /** Object size in bytes (absent on removals). */
  readonly size?: number;
  /** ETag without quotes; absent when the event has none or an empty one. */
  readonly eTag?: string;
  readonly versionId?: string;
  /** Hex string ordering events on the same key (compare after left-padding with zeros). */
  readonly sequencer?: string;
  /** ISO-8601 time S3 finished processing the request. */
  readonly eventTime: string;
  /** `awsRegion` of the record (empty from some S3-compatible stores). */
  readonly region: string;
}

/**
 * Result of {@link parseS3EventMessage}: either the bucket's test message or the object events.
 *
 * @example
 * const parsed: ParsedS3Message = parseS3EventMessage(body);
 * if (parsed.kind === 'test') log.debug({ event: 's3_test_event', bucket: parsed.bucket });
 */
export type ParsedS3Message =
  | { readonly kind: 'test'; readonly bucket: string; readonly time: string }
  | { readonly kind: 'records'; readonly events: readonly ObjectEvent[] };

// ---------------------------------------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------------------------------------

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** Render a JSON path like `Records[0].s3.object.key` (or `responseElements["x-amz-id-2"]`). */
function formatPath(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (typeof segment === 'string' && IDENTIFIER.test(segment))
      out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(String(segment))}]`;
  }
  return out === '' ? '(root)' : out;
}

function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  return typeof value;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let current: unknown = root;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/** One line per zod issue: `<path>: <problem>`. */
function describeIssues(prefix: string, error: z.ZodError, input: unknown): string {
  const lines = error.issues.slice(0, 5).map((issue) => {
    const where = formatPath(prefix, issue.path);
    if (issue.code === 'invalid_type') {
      const actual = valueAt(input, issue.path);
      const problem =
        actual === undefined
          ? `missing (expected ${issue.expected})`
          : `expected ${issue.expected}, got ${describeValue(actual)}`;
      return `${where}: ${problem}`;
    }
    return `${where}: ${issue.message.replace(/^Invalid input: /, '')}`;
  });
  const more = error.issues.length > 5 ? ` (and ${error.issues.length - 5} more)` : '';
  return lines.join('; ') + more;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new S3EventParseError(`${where}: invalid JSON (${reason})`, { cause: e });
  }
}

function stripS3Prefix(eventName: string): string {
  return eventName.startsWith('s3:') ? eventName.slice(3) : eventName;
}

function eventTypeOf(eventName: string): ObjectEventType {
  if (eventName.startsWith('ObjectCreated:')) return ObjectEventType.created;
  if (eventName.startsWith('ObjectRemoved:') || eventName.startsWith('LifecycleExpiration:')) {
    return ObjectEventType.removed;
  }
  return ObjectEventType.other;
}

/** `"abc"` -> `abc`; an empty ETag (radosgw on CompleteMultipartUpload) means "unknown". */
function normaliseETag(eTag: string | undefined): string | undefined {
  if (eTag === undefined) return undefined;
  const bare = eTag.replace(/^"(.*)"$/, '$1');
  return bare === '' ? undefined : bare;
}

function toObjectEvent(record: S3EventRecord, index: number, prefix: string): ObjectEvent {
  let key: string;
  try {
    key = decodeS3EventKey(record.s3.object.key);
  } catch (e: unknown) {
    const reason = e instanceof Error ? e.message : String(e);
    throw new S3EventParseError(
      `${formatPath(prefix, ['Records', index, 's3', 'object', 'key'])}: ${reason}`,
      {
        cause: e,
      },
    );
  }
  const eventName = stripS3Prefix(record.eventName);
  const { size, eTag, versionId, sequencer } = record.s3.object;
  const normalisedETag = normaliseETag(eTag);
  return {
    type: eventTypeOf(eventName),
    eventName,
    bucket: record.s3.bucket.name,
    key,
    ...(size !== undefined && { size }),
    ...(normalisedETag !== undefined && { eTag: normalisedETag }),
    ...(versionId !== undefined && versionId !== null && versionId !== '' && { versionId }),
    ...(sequencer !== undefined && sequencer !== '' && { sequencer }),
    eventTime: record.eventTime,
    region: record.awsRegion,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function parseDocument(document: unknown, prefix: string, allowEnvelope: boolean): ParsedS3Message {
  if (isObject(document) && 'Records' in document) {
    const result = s3EventNotificationSchema.safeParse(document);
    if (!result.success) throw new S3EventParseError(describeIssues(prefix, result.error, document));
    return {
      kind: 'records',
      events: result.data.Records.map((record, index) => toObjectEvent(record, index, prefix)),
    };
  }
  if (isObject(document) && document.Event === 's3:TestEvent') {
    const result = s3TestEventSchema.safeParse(document);
    if (!result.success) throw new S3EventParseError(describeIssues(prefix, result.error, document));
    return { kind: 'test', bucket: result.data.Bucket, time: result.data.Time };
  }
  if (allowEnvelope && isObject(document) && document.Type === 'Notification') {
    const result = snsEnvelopeSchema.safeParse(document);
    if (!result.success) throw new S3EventParseError(describeIssues(prefix, result.error, document));
    const inner = parseJson(result.data.Message, formatPath(prefix, ['Message']));
    return parseDocument(inner, formatPath(prefix, ['Message']), false);
  }
  const expected = allowEnvelope
    ? 'an S3 event notification ({"Records": [...]}), an s3:TestEvent or an SNS Notification envelope'
    : 'an S3 event notification ({"Records": [...]}) or an s3:TestEvent';
  throw new S3EventParseError(
    `${formatPath(prefix, [])}: expected ${expected}, got ${describeValue(document)}`,
  );
}

/**
 * Parse an SQS message body holding an S3 event notification, an `s3:TestEvent`, or either of them
 * wrapped in an SNS `Notification` envelope (S3 -> SNS -> SQS without raw message delivery).
 *
 * Keys are decoded ({@link decodeS3EventKey}), ETag quotes removed, `s3:` event-name prefixes dropped,
 * empty `versionId`/`sequencer`/`eTag` values (S3-compatible stores) treated as absent.
 *
 * @param body - the message body as received
 * @throws S3EventParseError naming the JSON path and the problem, e.g.
 *   `Records[0].s3.object.key: expected string, got number` or `Message: invalid JSON (...)`
 *
 * @example
 * const parsed = parseS3EventMessage(message.Body ?? '');
 * if (parsed.kind === 'records') {
 *   for (const event of parsed.events) if (event.type === 'created') await copy(event.bucket, event.key);
 * }
 */
export function parseS3EventMessage(body: string): ParsedS3Message {
  return parseDocument(parseJson(body, 'body'), '', true);
}

// ---------------------------------------------------------------------------------------------------------
// Building (local notification bridge, tests)
// ---------------------------------------------------------------------------------------------------------

/** Event structure version AWS uses for object created/removed events. */
export const S3_EVENT_VERSION = '2.1';

/**
 * Build the message S3 sends when a notification configuration is put on a bucket.
 *
 * @example
 * buildTestEvent({ bucket: 'my-bucket', time: '2024-05-01T10:00:00.000Z', requestId: '5582815E1AEA5ADF',
 *   hostId: '8cLeGAmw098X5cv4Zkwcmo8vvZa3eH3eKxsPzbB9wrR+YstdA6Knx4Ip8EXAMPLE' });
 * // { Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2024-05-01T10:00:00.000Z', Bucket: 'my-bucket', ... }
 */
export function buildTestEvent(parts: {
  readonly bucket: string;
  readonly time: string | Date;
  readonly requestId: string;
  readonly hostId: string;
}): S3TestEvent {
  return {
    Service: 'Amazon S3',
    Event: 's3:TestEvent',
    Time: typeof parts.time === 'string' ? parts.time : parts.time.toISOString(),
    Bucket: parts.bucket,
    RequestId: parts.requestId,
    HostId: parts.hostId,
  };
}

/** Parts of one AWS-format object event record; see {@link buildObjectCreatedRecord}. */
export interface S3EventRecordParts {
  /** `ObjectCreated:Put`, `ObjectCreated:CompleteMultipartUpload`, ... (an `s3:` prefix is removed). */
  readonly eventName: string;
  readonly region: string;
  readonly bucket: string;
  /** The raw key; it is URL-encoded by the builder. */
  readonly key: string;
  /** Object size in bytes. */
  readonly size: number;
  /** ETag with or without quotes (written without, as AWS does). */
  readonly eTag: string;
  /** Only for versioned buckets; AWS omits the field otherwise. */
  readonly versionId?: string;
  /** Hex string that orders events on one key. */
  readonly sequencer: string;
  /** When the request finished; a Date is written as ISO-8601 with milliseconds. */
  readonly eventTime: string | Date;
  /** `userIdentity.principalId`. @defaultValue `AWS:BALERLOCAL` */
  readonly principalId?: string;
  /** `requestParameters.sourceIPAddress`. @defaultValue `127.0.0.1` */
  readonly sourceIp?: string;
  /** `responseElements["x-amz-request-id"]`. @defaultValue the last 16 hex digits of `sequencer` */
  readonly requestId?: string;
  /** `responseElements["x-amz-id-2"]`. @defaultValue `baler/local/<requestId>` */
  readonly hostId?: string;
  /** `s3.configurationId` (the notification configuration's Id). @defaultValue `baler` */
  readonly configurationId?: string;
  /** `s3.bucket.ownerIdentity.principalId`. @defaultValue `BALERLOCAL` */
  readonly bucketOwnerId?: string;
}

function defaultRequestId(sequencer: string): string {
  const hex = sequencer.toUpperCase().replace(/[^0-9A-F]/g, '');
  return hex.padStart(16, '0').slice(-16);
}

/**
 * Build one object-created record exactly as AWS writes it (event version 2.1): same fields, same order,
 * `eventSource: "aws:s3"`, `s3SchemaVersion: "1.0"`, bucket ARN `arn:aws:s3:::NAME`, `userIdentity`,
 * `requestParameters` and `responseElements` present, the key URL-encoded ({@link encodeS3EventKey}), the
 * ETag without quotes, `versionId` only when given. The local notification bridge uses it to turn radosgw
 * notifications (eventSource `ceph:s3`, version 2.2, empty region) into AWS events.
 *
 * @throws BalerError (`S3_EVENT_INVALID_PARTS`) if `eventName` is not `ObjectCreated:*` or `size` is not a
 *   non-negative integer; (`S3_KEY_INVALID`) if the key is not valid UTF-8
 *
 * @example
 * const record = buildObjectCreatedRecord({
 *   eventName: 'ObjectCreated:Put', region: 'eu-west-1', bucket: 'src', key: 'data/a b.csv', size: 42,
 *   eTag: '"9b2cf535f27731c974343645a3985328"', sequencer: '0055AED6DCD90281E5',
 *   eventTime: '2024-05-01T10:00:00.000Z',
 * });
 * record.s3.object.key; // 'data/a+b.csv'
 * JSON.stringify({ Records: [record] }); // an SQS body indistinguishable from AWS's
 */
export function buildObjectCreatedRecord(parts: S3EventRecordParts): S3EventRecord {
  const eventName = stripS3Prefix(parts.eventName);
  if (!eventName.startsWith('ObjectCreated:')) {
    throw new BalerError(
      'S3_EVENT_INVALID_PARTS',
      `eventName must be ObjectCreated:*, got ${JSON.stringify(parts.eventName)}`,
    );
  }
  if (!Number.isSafeInteger(parts.size) || parts.size < 0) {
    throw new BalerError('S3_EVENT_INVALID_PARTS', `size must be a non-negative integer, got ${parts.size}`);
  }
  const requestId = parts.requestId ?? defaultRequestId(parts.sequencer);
  const eTag = parts.eTag.replace(/^"(.*)"$/, '$1');
  // Field order follows the AWS samples, so a serialised record reads like one S3 sent.
  return {
    eventVersion: S3_EVENT_VERSION,
    eventSource: 'aws:s3',
    awsRegion: parts.region,
    eventTime: typeof parts.eventTime === 'string' ? parts.eventTime : parts.eventTime.toISOString(),
    eventName,
    userIdentity: { principalId: parts.principalId ?? 'AWS:BALERLOCAL' },
    requestParameters: { sourceIPAddress: parts.sourceIp ?? '127.0.0.1' },
    responseElements: {
      'x-amz-request-id': requestId,
      'x-amz-id-2': parts.hostId ?? `baler/local/${requestId}`,
    },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: parts.configurationId ?? 'baler',
      bucket: {
        name: parts.bucket,
        ownerIdentity: { principalId: parts.bucketOwnerId ?? 'BALERLOCAL' },
        arn: `arn:aws:s3:::${parts.bucket}`,
      },
      object: {
        key: encodeS3EventKey(parts.key),
        size: parts.size,
        eTag,
        ...(parts.versionId !== undefined && { versionId: parts.versionId }),
        sequencer: parts.sequencer,
      },
    },
  };
}
