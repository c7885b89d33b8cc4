/**
 * Naming rules shared by the CDK app and the local stack (DESIGN.md §3): staging buckets, queues, tables,
 * table keys and outbound archive keys. Pure functions: the same inputs always give the same names.
 *
 * Where the original Python system had a rule, the name is the same as its name; where its names could break
 * an AWS limit (bucket names over 63 characters, queue names over 80), baler shortens them with a hash so
 * every name stays valid and distinct.
 */
import { createHash } from 'node:crypto';

import { ConfigError } from '../errors.js';
import { S3_BUCKET_NAME_MAX_LENGTH, SQS_QUEUE_NAME_MAX_LENGTH, StagingDirection } from './constants.js';
import { showValue } from './issues.js';
import { bucketNameProblem, regionProblem, stackNameProblem } from './rules.js';

// ---------------------------------------------------------------------------------------------------------
// Tables
// ---------------------------------------------------------------------------------------------------------

/** DynamoDB table of the adaptive compression statistics, one item per monitored source. */
export const COMPRESSION_SETTINGS_TABLE = 'compression-settings';
/** Partition key (string) of {@link COMPRESSION_SETTINGS_TABLE}; values from {@link compressionSettingsKey}. */
export const COMPRESSION_SETTINGS_KEY = 'BucketPrefix';
/** DynamoDB table of the destinations of each source, read by the source worker. */
export const REPLICATION_PARAMETERS_TABLE = 'replication-parameters';
/** Partition key (string) of {@link REPLICATION_PARAMETERS_TABLE}; values from {@link replicationParameterName}. */
export const REPLICATION_PARAMETERS_KEY = 'ParameterName';

// ---------------------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------------------

/** Hex characters of the hash appended to a shortened name: 32 bits, collisions need ~65k names. */
const HASH_CHARS = 8;

/**
 * First {@link HASH_CHARS} hex digits of the SHA-256 of `text`: the tag that keeps a shortened name distinct.
 *
 * @example
 * shortHash('s3-compressor'); // 8 lowercase hex digits, always the same for the same text
 */
export function shortHash(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex').slice(0, HASH_CHARS);
}

function assertValid(problem: string | undefined, what: string): void {
  if (problem !== undefined) throw new ConfigError(`${what} ${problem}`);
}

const ACCOUNT_ID = /^\d{12}$/;

// ---------------------------------------------------------------------------------------------------------
// Staging buckets
// ---------------------------------------------------------------------------------------------------------

/**
 * Name of the staging bucket of one region: `{stack}-{account}-{region}-{outbound|inbound}`, the original
 * system's rule. Source workers write archives to `outbound`; S3 replication copies them to `inbound` in
 * each target region.
 *
 * When the name would pass the 63-character bucket limit (a stack name longer than about 26 characters),
 * the stack part is cut and followed by a hash of the whole stack name, `{stack head}-{hash8}-{account}-…`:
 * account, region and direction stay readable, and two long stack names never share a bucket.
 *
 * @throws ConfigError when the stack name, account id (12 digits) or region is malformed.
 * @example
 * stagingBucketName('s3-compressor', '111122223333', 'us-east-1', 'outbound');
 * // 's3-compressor-111122223333-us-east-1-outbound'
 */
export function stagingBucketName(
  stackName: string,
  accountId: string,
  region: string,
  direction: StagingDirection,
): string {
  assertValid(stackNameProblem(stackName), 'stack name');
  assertValid(regionProblem(region), 'region');
  if (!ACCOUNT_ID.test(accountId)) {
    throw new ConfigError(`account id must be 12 digits, got ${showValue(accountId)}`);
  }
  const tail = `-${accountId}-${region}-${direction}`;
  let name = `${stackName}${tail}`;
  if (name.length > S3_BUCKET_NAME_MAX_LENGTH) {
    const hash = shortHash(stackName);
    const room = S3_BUCKET_NAME_MAX_LENGTH - tail.length - 1 - hash.length;
    // A stack name starts with a letter, so `head` is never empty while `room` >= 1.
    const head = stackName.slice(0, Math.max(room, 0)).replace(/-+$/, '');
    name = `${head}-${hash}${tail}`;
  }
  assertValid(bucketNameProblem(name), `staging bucket name for stack ${showValue(stackName)}`);
  return name;
}

/**
 * Name of the outbound staging bucket of a source region; see {@link stagingBucketName}.
 *
 * @example
 * outboundBucketName('s3-compressor', '111122223333', 'us-east-1'); // 's3-compressor-111122223333-us-east-1-outbound'
 */
export function outboundBucketName(stackName: string, accountId: string, region: string): string {
  return stagingBucketName(stackName, accountId, region, StagingDirection.OUTBOUND);
}

/**
 * Name of the inbound staging bucket of a target region; see {@link stagingBucketName}.
 *
 * @example
 * inboundBucketName('s3-compressor', '111122223333', 'eu-west-1'); // 's3-compressor-111122223333-eu-west-1-inbound'
 */
export function inboundBucketName(stackName: string, accountId: string, region: string): string {
  return stagingBucketName(stackName, accountId, region, StagingDirection.INBOUND);
}

// ---------------------------------------------------------------------------------------------------------
// Queues
// ---------------------------------------------------------------------------------------------------------

/** Suffix of a dead-letter queue's name. */
export const DLQ_SUFFIX = '-dlq';
/** Longest main queue name: its DLQ, `{name}-dlq`, must still fit the 80-character SQS limit. */
export const QUEUE_NAME_MAX_LENGTH = SQS_QUEUE_NAME_MAX_LENGTH - DLQ_SUFFIX.length;

/**
 * Replace every character SQS does not allow in a queue name (anything but `A-Z a-z 0-9 - _`) with `-`,
 * one `-` per Unicode code point, as the original's `sanitize_sqs_name` did.
 *
 * @example
 * sanitizeQueueNamePart('my.bucket-photos/2024 é/'); // 'my-bucket-photos-2024---'
 */
export function sanitizeQueueNamePart(text: string): string {
  let out = '';
  for (const ch of text) out += /^[A-Za-z0-9_-]$/.test(ch) ? ch : '-';
  return out;
}

/**
 * Name of the SQS queue that receives the S3 events of one source: `source-{sanitised "bucket-prefix"}`,
 * exactly the original's rule (its CDK used `f'{bucket}-{prefix_filter}'`, so a source without a prefix
 * gets a trailing `-`: `source-my-bucket-`).
 *
 * Names longer than {@link QUEUE_NAME_MAX_LENGTH} (76, so that the DLQ name fits in 80) are cut and end in a
 * hash of the exact bucket and prefix. Different sources can still sanitise to the same name
 * (`my.bucket` and `my-bucket`); validate.ts rejects such a configuration.
 *
 * @example
 * sourceQueueName('photos', 'raw/2024/'); // 'source-photos-raw-2024-'
 * sourceQueueName('photos', '');          // 'source-photos-'
 */
export function sourceQueueName(bucket: string, prefix: string): string {
  const name = `source-${sanitizeQueueNamePart(`${bucket}-${prefix}`)}`;
  if (name.length <= QUEUE_NAME_MAX_LENGTH) return name;
  const hash = shortHash(JSON.stringify([bucket, prefix]));
  return `${name.slice(0, QUEUE_NAME_MAX_LENGTH - 1 - hash.length)}-${hash}`;
}

/**
 * Name of the dead-letter queue of a queue: `{name}-dlq`, as in the original.
 *
 * @throws ConfigError when the result would pass the 80-character SQS limit.
 * @example
 * deadLetterQueueName('source-photos-raw-'); // 'source-photos-raw--dlq'
 */
export function deadLetterQueueName(queueName: string): string {
  const name = `${queueName}${DLQ_SUFFIX}`;
  if (name.length > SQS_QUEUE_NAME_MAX_LENGTH || !/^[A-Za-z0-9_-]+$/.test(name)) {
    throw new ConfigError(
      `dead-letter queue name must be 1 to ${SQS_QUEUE_NAME_MAX_LENGTH} characters of A-Z a-z 0-9 - _, got ${showValue(name)}`,
    );
  }
  return name;
}

/**
 * Name of the one target queue of a stack in a region, fed by the inbound bucket's events:
 * `{stack}-target-{region}`. (The original used the fixed name `target-sqs-queue`; with the stack in it, two
 * stacks in one account and region do not share a queue, and with the region in it a name is unique even
 * where regions share one endpoint, and logs say which region a queue serves.) Long stack names are cut and
 * followed by a hash so that the DLQ name still fits SQS's 80 characters.
 *
 * @throws ConfigError when the stack name or `region` is malformed.
 * @example
 * targetQueueName('s3-compressor', 'eu-west-1'); // 's3-compressor-target-eu-west-1'
 */
export function targetQueueName(stackName: string, region: string): string {
  assertValid(stackNameProblem(stackName), 'stack name');
  assertValid(regionProblem(region), 'region');
  const tail = `-target-${region}`;
  const name = `${stackName}${tail}`;
  if (name.length <= QUEUE_NAME_MAX_LENGTH) return name;
  const hash = shortHash(stackName);
  return `${stackName.slice(0, QUEUE_NAME_MAX_LENGTH - tail.length - 1 - hash.length)}-${hash}${tail}`;
}

// ---------------------------------------------------------------------------------------------------------
// Table keys
// ---------------------------------------------------------------------------------------------------------

/**
 * `ParameterName` of a source's item in the replication-parameters table: `/{stack}/{bucket}` or
 * `/{stack}/{bucket}/{prefix}` with the prefix exactly as configured (the original's rule, trailing `/`
 * included: `/s3-compressor/photos/raw/`).
 *
 * @example
 * replicationParameterName('s3-compressor', 'photos', 'raw/'); // '/s3-compressor/photos/raw/'
 * replicationParameterName('s3-compressor', 'photos', '');     // '/s3-compressor/photos'
 */
export function replicationParameterName(stackName: string, bucket: string, prefix: string): string {
  return prefix === '' ? `/${stackName}/${bucket}` : `/${stackName}/${bucket}/${prefix}`;
}

/**
 * `BucketPrefix` of a source's item in the compression-settings table. It is the source's
 * {@link replicationParameterName}: the original source worker keyed its statistics by the parameter name it
 * had looked up (`ddb_key_name`), so statistics learnt by the original keep their key. Having the stack
 * in the key also keeps two stacks apart in one table.
 *
 * @example
 * compressionSettingsKey('s3-compressor', 'photos', 'raw/'); // '/s3-compressor/photos/raw/'
 */
export function compressionSettingsKey(stackName: string, bucket: string, prefix: string): string {
  return replicationParameterName(stackName, bucket, prefix);
}

// ---------------------------------------------------------------------------------------------------------
// Outbound archive keys
// ---------------------------------------------------------------------------------------------------------

/** Top-level folder of archive keys in the staging buckets. */
export const OUTBOUND_KEY_ROOT = 'outbound/';
/** File extension of an archive. */
export const ARCHIVE_EXTENSION = '.tar.zst';
/** Longest archive id (ids are UUIDs, ULIDs or similar). */
export const ARCHIVE_ID_MAX_LENGTH = 64;

/**
 * Key prefix under which a source's archives are written in the outbound bucket (and replicated to the
 * inbound buckets): `outbound/{bucket}/` or `outbound/{bucket}/{prefix without trailing "/"}/`. It always
 * ends with `/`, so the S3 replication rule of one source never matches the archives of another whose
 * prefix merely starts the same way (`logs` vs `logs-old`).
 *
 * @example
 * outboundArchivePrefix('photos', 'raw/2024/'); // 'outbound/photos/raw/2024/'
 * outboundArchivePrefix('photos', '');          // 'outbound/photos/'
 */
export function outboundArchivePrefix(bucket: string, prefix: string): string {
  const trimmed = prefix.replace(/\/+$/, '');
  return trimmed === '' ? `${OUTBOUND_KEY_ROOT}${bucket}/` : `${OUTBOUND_KEY_ROOT}${bucket}/${trimmed}/`;
}

/**
 * Key of one archive: `{outboundArchivePrefix}{archiveId}.tar.zst`.
 *
 * @throws ConfigError when `archiveId` is not 1-64 characters of `A-Z a-z 0-9 - _`.
 * @example
 * outboundArchiveKey('photos', 'raw/', '01J9Z3K7Q8'); // 'outbound/photos/raw/01J9Z3K7Q8.tar.zst'
 */
export function outboundArchiveKey(bucket: string, prefix: string, archiveId: string): string {
  if (!new RegExp(`^[A-Za-z0-9_-]{1,${ARCHIVE_ID_MAX_LENGTH}}$`).test(archiveId)) {
    throw new ConfigError(
      `archive id must be 1 to ${ARCHIVE_ID_MAX_LENGTH} characters of A-Z a-z 0-9 - _, got ${showValue(archiveId)}`,
    );
  }
  return `${outboundArchivePrefix(bucket, prefix)}${archiveId}${ARCHIVE_EXTENSION}`;
}
