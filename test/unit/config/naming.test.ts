import { describe, expect, it } from 'vitest';

import {
  compressionSettingsKey,
  deadLetterQueueName,
  inboundBucketName,
  outboundArchiveKey,
  outboundArchivePrefix,
  outboundBucketName,
  replicationParameterName,
  sanitizeQueueNamePart,
  sourceQueueName,
  stagingBucketName,
  targetQueueName,
} from '../../../src/core/config/index.js';
import { bucketNameProblem } from '../../../src/core/config/rules.js';
import { errorOf } from './helpers.js';

const ACCOUNT = '111122223333';
const SQS_NAME = /^[A-Za-z0-9_-]{1,80}$/;

describe('Function: stagingBucketName', () => {
  it('follows {stack}-{account}-{region}-{outbound|inbound}', () => {
    // Act
    const outbound = outboundBucketName('s3-compressor', ACCOUNT, 'us-east-1');
    const inbound = inboundBucketName('s3-compressor', ACCOUNT, 'eu-west-1');

    // Assess
    expect(outbound).toBe('s3-compressor-111122223333-us-east-1-outbound');
    expect(inbound).toBe('s3-compressor-111122223333-eu-west-1-inbound');
  });

  it('keeps a name of exactly 63 characters as is', () => {
    // Prepare: 63 - "-111122223333-us-east-1-outbound".length = 31
    const stack = `a${'b'.repeat(30)}`;

    // Act
    const name = stagingBucketName(stack, ACCOUNT, 'us-east-1', 'outbound');

    // Assess
    expect(name).toBe(`${stack}-111122223333-us-east-1-outbound`);
    expect(name).toHaveLength(63);
  });

  it('shortens a long stack name with a hash, keeping account, region and direction', () => {
    // Prepare
    const stack = 'my-very-long-replication-stack-name-for-production';

    // Act
    const name = stagingBucketName(stack, ACCOUNT, 'ap-southeast-2', 'inbound');

    // Assess
    expect(name.length).toBeLessThanOrEqual(63);
    expect(bucketNameProblem(name)).toBeUndefined();
    expect(name).toMatch(/^my-very-long-repli-[0-9a-f]{8}-111122223333-ap-southeast-2-inbound$/);
    expect(stagingBucketName(stack, ACCOUNT, 'ap-southeast-2', 'inbound')).toBe(name);
  });

  it('gives two long stack names with the same start different buckets', () => {
    // Act
    const a = outboundBucketName(`${'x'.repeat(40)}-blue`, ACCOUNT, 'us-gov-west-1');
    const b = outboundBucketName(`${'x'.repeat(40)}-green`, ACCOUNT, 'us-gov-west-1');

    // Assess
    expect(a).not.toBe(b);
    expect([a.length, b.length].every((n) => n <= 63)).toBe(true);
  });

  it('never ends the shortened stack part with a hyphen', () => {
    // Prepare: the cut falls right after a "-".
    const stack = `abcdefghijklmno-${'q'.repeat(30)}`;

    // Act
    const name = outboundBucketName(stack, ACCOUNT, 'us-east-1');

    // Assess
    expect(name).not.toContain('--');
    expect(bucketNameProblem(name)).toBeUndefined();
  });

  it.each([
    [['Stack', ACCOUNT, 'us-east-1'], 'stack name must start with a lowercase letter'],
    [['stack', '1234', 'us-east-1'], 'account id must be 12 digits, got "1234"'],
    [['stack', ACCOUNT, 'mars-1'], 'region must be an AWS region code such as "us-east-1", got "mars-1"'],
  ] as const)('rejects malformed input %j', ([stack, account, region], expected) => {
    // Act
    const message = errorOf(() => outboundBucketName(stack, account, region));

    // Assess
    expect(message).toContain(expected);
  });
});

describe('Function: sourceQueueName', () => {
  it.each([
    ['photos', 'raw/2024/', 'source-photos-raw-2024-'],
    ['photos', '', 'source-photos-'],
    ['my.bucket', 'a_b/c-d', 'source-my-bucket-a_b-c-d'],
    ['photos', 'café photos/2024 Q1/', 'source-photos-caf--photos-2024-Q1-'],
    ['photos', '日本/😀/', 'source-photos------'],
  ])('names bucket %j prefix %j %j', (bucket, prefix, expected) => {
    // Act
    const name = sourceQueueName(bucket, prefix);

    // Assess
    expect(name).toBe(expected);
    expect(name).toMatch(SQS_NAME);
  });

  it('shortens a long name with a hash so that its DLQ still fits 80 characters', () => {
    // Prepare
    const bucket = 'b'.repeat(63);
    const prefix = 'deeply/nested/prefix/with/many/levels/';

    // Act
    const name = sourceQueueName(bucket, prefix);
    const dlq = deadLetterQueueName(name);

    // Assess
    expect(name).toHaveLength(76);
    expect(name).toMatch(/^source-b+-[0-9a-f]{8}$/);
    expect(dlq).toHaveLength(80);
    expect(dlq).toMatch(SQS_NAME);
  });

  it('keeps long names that differ only at the end apart', () => {
    // Prepare
    const bucket = 'a'.repeat(60);

    // Act
    const one = sourceQueueName(bucket, `${'p/'.repeat(30)}one/`);
    const two = sourceQueueName(bucket, `${'p/'.repeat(30)}two/`);

    // Assess
    expect(one).not.toBe(two);
  });

  it('shortens names with multi-byte prefixes by characters, not bytes', () => {
    // Act
    const name = sourceQueueName('photos', 'ü'.repeat(200));

    // Assess
    expect(name).toMatch(SQS_NAME);
    expect(name.length).toBeLessThanOrEqual(76);
  });
});

describe('Function: sanitizeQueueNamePart', () => {
  it('replaces one "-" per code point, as the original did', () => {
    // Act / Assess
    expect(sanitizeQueueNamePart('a b.c/ü😀_-Z9')).toBe('a-b-c---_-Z9');
  });
});

describe('Function: deadLetterQueueName', () => {
  it('appends -dlq', () => {
    // Act / Assess
    expect(deadLetterQueueName('source-photos-')).toBe('source-photos--dlq');
  });

  it('rejects a name whose DLQ would pass 80 characters', () => {
    // Act
    const message = errorOf(() => deadLetterQueueName('q'.repeat(77)));

    // Assess
    expect(message).toContain('dead-letter queue name must be 1 to 80 characters of A-Z a-z 0-9 - _');
  });
});

describe('Function: targetQueueName', () => {
  it('names one queue per region', () => {
    // Act / Assess
    expect(targetQueueName('s3-compressor', 'eu-west-1')).toBe('s3-compressor-target-eu-west-1');
    expect(deadLetterQueueName(targetQueueName('s3-compressor', 'eu-west-1'))).toBe(
      's3-compressor-target-eu-west-1-dlq',
    );
    const long = targetQueueName(`a${'b'.repeat(62)}`, 'ap-southeast-2');
    expect(long.length).toBeLessThanOrEqual(76);
    expect(long).toMatch(/^ab+-[0-9a-f]{8}-target-ap-southeast-2$/);
    expect(targetQueueName(`a${'b'.repeat(62)}`, 'ap-southeast-2')).toBe(long);
  });

  it('rejects something that is not a region', () => {
    // Act / Assess
    expect(errorOf(() => targetQueueName('stack', 'eu west'))).toContain('region must be an AWS region code');
  });
});

describe('Function: replicationParameterName', () => {
  it.each([
    ['photos', 'raw/', '/s3-compressor/photos/raw/'],
    ['photos', '', '/s3-compressor/photos'],
    ['photos', 'café photos/', '/s3-compressor/photos/café photos/'],
  ])('names bucket %j prefix %j %j', (bucket, prefix, expected) => {
    // Act / Assess
    expect(replicationParameterName('s3-compressor', bucket, prefix)).toBe(expected);
  });
});

describe('Function: compressionSettingsKey', () => {
  it('is the replication parameter name, as the original source worker keyed its statistics', () => {
    // Act / Assess
    expect(compressionSettingsKey('s3-compressor', 'photos', 'raw/')).toBe('/s3-compressor/photos/raw/');
    expect(compressionSettingsKey('s3-compressor', 'photos', '')).toBe('/s3-compressor/photos');
  });
});

describe('Function: outboundArchivePrefix', () => {
  it.each([
    ['photos', 'raw/2024/', 'outbound/photos/raw/2024/'],
    ['photos', 'raw', 'outbound/photos/raw/'],
    ['photos', 'raw//', 'outbound/photos/raw/'],
    ['photos', '', 'outbound/photos/'],
    ['photos', '/', 'outbound/photos/'],
    ['photos', 'café photos/日本/', 'outbound/photos/café photos/日本/'],
  ])('for bucket %j prefix %j is %j', (bucket, prefix, expected) => {
    // Act / Assess
    expect(outboundArchivePrefix(bucket, prefix)).toBe(expected);
  });

  it('ends at a boundary, so "logs" never matches the archives of "logs-old"', () => {
    // Act
    const logs = outboundArchivePrefix('b', 'logs');
    const old = outboundArchiveKey('b', 'logs-old/', 'id1');

    // Assess
    expect(old.startsWith(logs)).toBe(false);
  });
});

describe('Function: outboundArchiveKey', () => {
  it('is the prefix, the archive id and .tar.zst', () => {
    // Act / Assess
    expect(outboundArchiveKey('photos', 'raw/', '01J9Z3K7Q8')).toBe('outbound/photos/raw/01J9Z3K7Q8.tar.zst');
    expect(outboundArchiveKey('photos', '', 'abc')).toBe('outbound/photos/abc.tar.zst');
  });

  it.each(['', 'a/b', '../x', 'x'.repeat(65)])('rejects the archive id %j', (id) => {
    // Act / Assess
    expect(errorOf(() => outboundArchiveKey('photos', 'raw/', id))).toContain(
      'archive id must be 1 to 64 characters',
    );
  });
});
