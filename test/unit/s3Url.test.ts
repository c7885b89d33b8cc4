import { describe, expect, it } from 'vitest';
import { isS3Url, parseS3Url } from '../../src/core/s3Url.js';
import { ConfigError } from '../../src/core/errors.js';

describe('Function: parseS3Url', () => {
  it.each([
    ['s3://bucket', { bucket: 'bucket', key: '' }],
    ['s3://bucket/', { bucket: 'bucket', key: '' }],
    ['s3://my.bucket-1/a b/c+d%20.txt', { bucket: 'my.bucket-1', key: 'a b/c+d%20.txt' }],
    ['s3://bucket//lead/ü', { bucket: 'bucket', key: '/lead/ü' }],
  ])('%s', (url, expected) => {
    expect(parseS3Url(url)).toEqual(expected);
  });

  it.each(['bucket/key', 's3://', 's3://Upper/key', 's3://ab/key', 'https://s3.amazonaws.com/b/k'])(
    'rejects %s as a usage error',
    (url) => {
      expect(() => parseS3Url(url)).toThrow(ConfigError);
    },
  );

  it('tells URLs from paths', () => {
    expect(isS3Url('s3://b/k')).toBe(true);
    expect(isS3Url('./s3:/b')).toBe(false);
  });
});
