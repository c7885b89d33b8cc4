import { ConfigError } from './errors.js';

/** A parsed `s3://bucket/key` URL. */
export interface S3Location {
  readonly bucket: string;
  /** The key or prefix; may be empty. Not URL-decoded: S3 keys are taken literally, as the AWS CLI does. */
  readonly key: string;
}

/** Is this an `s3://` URL (rather than a local path)? */
export function isS3Url(text: string): boolean {
  return text.startsWith('s3://');
}

/**
 * Parse `s3://bucket[/key]`. The key is everything after the first `/` following the bucket, taken literally
 * (spaces, `+`, `%` and unicode are key characters, as with `aws s3`).
 *
 * @example
 * parseS3Url('s3://my-bucket/logs/a b.json') // { bucket: 'my-bucket', key: 'logs/a b.json' }
 */
export function parseS3Url(text: string): S3Location {
  if (!isS3Url(text)) throw new ConfigError(`expected an s3://bucket/key URL, got ${JSON.stringify(text)}`);
  const rest = text.slice('s3://'.length);
  const slash = rest.indexOf('/');
  const bucket = slash === -1 ? rest : rest.slice(0, slash);
  const key = slash === -1 ? '' : rest.slice(slash + 1);
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new ConfigError(`invalid bucket name ${JSON.stringify(bucket)} in ${JSON.stringify(text)}`);
  }
  return { bucket, key };
}
