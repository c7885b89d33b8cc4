/**
 * Single-value rules of the configuration files: AWS naming and format rules as pure predicates.
 *
 * Each `xxxProblem(value)` returns `undefined` when the value is valid, otherwise a message that says what is
 * allowed and shows the value received (`must be …, got "…"`). The schema attaches them to fields, so the
 * JSON path is added by the caller.
 */
import {
  AWS_TAG_KEY_MAX_LENGTH,
  AWS_TAG_VALUE_MAX_LENGTH,
  FARGATE_MEMORY_MIB_BY_CPU,
  S3_BUCKET_NAME_MAX_LENGTH,
  S3_BUCKET_NAME_MIN_LENGTH,
  S3_KEY_MAX_BYTES,
  VPC_CIDR_MAX_PREFIX_LENGTH,
  VPC_CIDR_MIN_PREFIX_LENGTH,
} from './constants.js';
import { showValue } from './issues.js';

const utf8 = new TextEncoder();

/** Number of bytes of the UTF-8 form of `text`. */
export function utf8Length(text: string): number {
  return utf8.encode(text).length;
}

// ---------------------------------------------------------------------------------------------------------
// S3 bucket names
// ---------------------------------------------------------------------------------------------------------

const BUCKET_FORBIDDEN_PREFIXES = ['xn--', 'sthree-', 'amzn-s3-demo-'] as const;
const BUCKET_FORBIDDEN_SUFFIXES = ['-s3alias', '--ol-s3', '.mrap', '--x-s3', '--table-s3'] as const;
const IPV4_LIKE = /^\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;

/**
 * Check a general purpose S3 bucket name against the S3 naming rules: 3-63 characters of `a-z 0-9 . -`,
 * starting and ending with a letter or digit, no `..`, not an IPv4 address, none of the reserved prefixes
 * (`xn--`, `sthree-`, `amzn-s3-demo-`) or suffixes (`-s3alias`, `--ol-s3`, `.mrap`, `--x-s3`, `--table-s3`).
 * Legacy us-east-1 names with capitals or `_` are not accepted.
 *
 * @example
 * bucketNameProblem('my-bucket'); // undefined
 * bucketNameProblem('My_Bucket'); // 'must be a valid S3 bucket name: only a-z, 0-9, "." and "-" are allowed, got "My_Bucket"'
 */
export function bucketNameProblem(name: string): string | undefined {
  const why = bucketNameReason(name);
  return why === undefined ? undefined : `must be a valid S3 bucket name: ${why}, got ${showValue(name)}`;
}

function bucketNameReason(name: string): string | undefined {
  if (name.length < S3_BUCKET_NAME_MIN_LENGTH || name.length > S3_BUCKET_NAME_MAX_LENGTH) {
    return `${S3_BUCKET_NAME_MIN_LENGTH} to ${S3_BUCKET_NAME_MAX_LENGTH} characters are allowed (this one has ${name.length})`;
  }
  if (!/^[a-z0-9.-]+$/.test(name)) return 'only a-z, 0-9, "." and "-" are allowed';
  if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name))
    return 'it must start and end with a letter or digit';
  if (name.includes('..')) return 'two adjacent periods are not allowed';
  if (IPV4_LIKE.test(name)) return 'it must not look like an IP address';
  const badPrefix = BUCKET_FORBIDDEN_PREFIXES.find((p) => name.startsWith(p));
  if (badPrefix) return `the prefix "${badPrefix}" is reserved`;
  const badSuffix = BUCKET_FORBIDDEN_SUFFIXES.find((s) => name.endsWith(s));
  if (badSuffix) return `the suffix "${badSuffix}" is reserved`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Regions, KMS keys
// ---------------------------------------------------------------------------------------------------------

/**
 * AWS region codes: `{area}[-{partition}]-{direction}-{n}`, e.g. `us-east-1`, `ap-southeast-2`,
 * `us-gov-west-1`, `eusc-de-east-1`.
 */
const REGION =
  /^[a-z]{2,4}(?:-[a-z]{2,5})?-(?:north|south|east|west|central|northeast|northwest|southeast|southwest)-\d{1,2}$/;

/**
 * Check the format of an AWS region code.
 *
 * @example
 * regionProblem('eu-west-1'); // undefined
 * regionProblem('EU-West-1'); // 'must be an AWS region code such as "us-east-1", got "EU-West-1"'
 */
export function regionProblem(region: string): string | undefined {
  return REGION.test(region)
    ? undefined
    : `must be an AWS region code such as "us-east-1", got ${showValue(region)}`;
}

/** The parts of a KMS key ARN. */
export interface KmsKeyArnParts {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  /** `key/{id}` or `alias/{name}`. */
  readonly resource: string;
}

const KMS_ARN =
  /^arn:(aws(?:-[a-z]+)*):kms:([a-z0-9-]+):(\d{12}):((?:key\/[A-Za-z0-9-]{1,128})|(?:alias\/[A-Za-z0-9/_-]{1,250}))$/;

/**
 * Split a KMS key or alias ARN into its parts; `undefined` if it is not one.
 *
 * @example
 * parseKmsKeyArn('arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab')?.region; // 'eu-west-1'
 */
export function parseKmsKeyArn(arn: string): KmsKeyArnParts | undefined {
  const m = KMS_ARN.exec(arn);
  if (!m) return undefined;
  const [, partition = '', region = '', account = '', resource = ''] = m;
  if (regionProblem(region) !== undefined) return undefined;
  return { partition, region, account, resource };
}

/**
 * Check the format of a KMS key ARN (`arn:aws:kms:{region}:{account}:key/{id}` or `…:alias/{name}`).
 * Whether the key's region matches the bucket's is checked with the bucket (validate.ts).
 *
 * @example
 * kmsKeyArnProblem('alias/my-key'); // 'must be a KMS key ARN such as "arn:aws:kms:us-east-1:111122223333:key/…", got "alias/my-key"'
 */
export function kmsKeyArnProblem(arn: string): string | undefined {
  return parseKmsKeyArn(arn)
    ? undefined
    : `must be a KMS key ARN such as "arn:aws:kms:us-east-1:111122223333:key/…" or an alias ARN, got ${showValue(arn)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Key filters
// ---------------------------------------------------------------------------------------------------------

// eslint-disable-next-line no-control-regex -- the point is to find control characters
const CONTROL_CHAR = /[\u0000-\u001f\u007f]/;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Check a `prefix_filter` or `suffix_filter`: a literal piece of an S3 key (empty = no filter). It must be
 * valid UTF-8 without control characters, fit an S3 key (1,024 bytes) and hold no `*`: S3 event filters
 * match literally, so `logs/*` would only match keys that really start with `logs/*`.
 *
 * @example
 * keyFilterProblem('images/2024/'); // undefined
 * keyFilterProblem('images/*');     // 'is a literal key prefix, not a pattern: "*" is not allowed, got "images/*"'
 */
export function keyFilterProblem(filter: string, kind: 'prefix' | 'suffix'): string | undefined {
  if (LONE_SURROGATE.test(filter))
    return `must be valid Unicode text (it has a lone surrogate), got ${showValue(filter)}`;
  if (CONTROL_CHAR.test(filter)) return `must not contain control characters, got ${showValue(filter)}`;
  if (filter.includes('*')) {
    return `is a literal key ${kind}, not a pattern: "*" is not allowed, got ${showValue(filter)}`;
  }
  const bytes = utf8Length(filter);
  if (bytes > S3_KEY_MAX_BYTES)
    return `must be at most ${S3_KEY_MAX_BYTES} bytes of UTF-8, got ${bytes} bytes`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------------------
// Fargate
// ---------------------------------------------------------------------------------------------------------

/**
 * Check a Fargate task size: `cpuUnits` must be one of 256, 512, 1024, 2048, 4096, 8192, 16384 and
 * `memoryMiB` one of the values Fargate allows for it.
 *
 * @example
 * fargateSizeProblem(2048, 4096); // undefined
 * fargateSizeProblem(256, 4096);  // 'memory 4096 MiB is not a Fargate size for cpu 256; allowed: 512, 1024, 2048'
 */
export function fargateSizeProblem(cpuUnits: number, memoryMiB: number): string | undefined {
  const allowed = FARGATE_MEMORY_MIB_BY_CPU[cpuUnits];
  if (!allowed) {
    return `must be a Fargate CPU value (${Object.keys(FARGATE_MEMORY_MIB_BY_CPU).join(', ')}), got ${showValue(cpuUnits)}`;
  }
  if (allowed.includes(memoryMiB)) return undefined;
  return `memory ${memoryMiB} MiB is not a Fargate size for cpu ${cpuUnits}; allowed: ${compactList(allowed)}`;
}

/** `512, 1024, 2048` for short lists, `8192 to 30720 in steps of 1024` for long ones. */
function compactList(values: readonly number[]): string {
  const [first, second] = values;
  const last = values[values.length - 1];
  if (values.length <= 4 || first === undefined || second === undefined || last === undefined)
    return values.join(', ');
  return `${first} to ${last} in steps of ${second - first}`;
}

// ---------------------------------------------------------------------------------------------------------
// settings.json values
// ---------------------------------------------------------------------------------------------------------

/**
 * Check `stack_name`. It is part of bucket, queue, stack and parameter names, so it must be lowercase:
 * a letter, then letters, digits and single hyphens, at most 64 characters, not ending with `-`.
 *
 * @example
 * stackNameProblem('s3-compressor'); // undefined
 * stackNameProblem('My_Stack');      // 'must start with a lowercase letter and contain only a-z, 0-9 and "-" …, got "My_Stack"'
 */
export function stackNameProblem(name: string): string | undefined {
  if (/^[a-z](?:[a-z0-9]|-(?!-))*$/.test(name) && !name.endsWith('-') && name.length <= 64) return undefined;
  return `must start with a lowercase letter and contain only a-z, 0-9 and single "-" (not at the end), at most 64 characters, got ${showValue(name)}`;
}

/**
 * Check a VPC IPv4 CIDR block: dotted quad, netmask /16 to /28, no host bits set.
 *
 * @example
 * vpcCidrProblem('10.0.0.0/16'); // undefined
 * vpcCidrProblem('10.0.0.1/16'); // 'must not have host bits set (did you mean "10.0.0.0/16"?), got "10.0.0.1/16"'
 */
export function vpcCidrProblem(cidr: string): string | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  const octets = m ? m.slice(1, 5).map(Number) : [];
  const bits = m ? Number(m[5]) : NaN;
  if (!m || octets.some((o) => o > 255)) {
    return `must be an IPv4 CIDR block such as "10.0.0.0/16", got ${showValue(cidr)}`;
  }
  if (bits < VPC_CIDR_MIN_PREFIX_LENGTH || bits > VPC_CIDR_MAX_PREFIX_LENGTH) {
    return `must have a netmask between /${VPC_CIDR_MIN_PREFIX_LENGTH} and /${VPC_CIDR_MAX_PREFIX_LENGTH} (a VPC limit), got ${showValue(cidr)}`;
  }
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - bits);
  const network = Math.floor(address / size) * size;
  if (network !== address) {
    const quad = [24, 16, 8, 0].map((s) => Math.floor(network / 2 ** s) % 256).join('.');
    return `must not have host bits set (did you mean "${quad}/${bits}"?), got ${showValue(cidr)}`;
  }
  return undefined;
}

/** Number of Unicode code points (AWS counts tag lengths in characters, not UTF-16 units). */
function codePoints(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

const TAG_CHARS = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

/**
 * Check a resource tag key: 1-128 characters of letters, digits, spaces and `_ . : / = + - @`, not starting
 * with the reserved `aws:`.
 *
 * @example
 * tagKeyProblem('Cost Center'); // undefined
 */
export function tagKeyProblem(key: string): string | undefined {
  const length = codePoints(key);
  if (length < 1 || length > AWS_TAG_KEY_MAX_LENGTH) {
    return `tag keys must be 1 to ${AWS_TAG_KEY_MAX_LENGTH} characters, got ${showValue(key)}`;
  }
  if (!TAG_CHARS.test(key)) {
    return `tag keys may contain only letters, digits, spaces and _ . : / = + - @, got ${showValue(key)}`;
  }
  if (key.toLowerCase().startsWith('aws:'))
    return `tag keys must not start with the reserved "aws:", got ${showValue(key)}`;
  return undefined;
}

/**
 * Check a resource tag value: 0-256 characters of letters, digits, spaces and `_ . : / = + - @`.
 *
 * @example
 * tagValueProblem('dev'); // undefined
 */
export function tagValueProblem(value: string): string | undefined {
  if (codePoints(value) > AWS_TAG_VALUE_MAX_LENGTH) {
    return `tag values must be at most ${AWS_TAG_VALUE_MAX_LENGTH} characters, got ${showValue(value)}`;
  }
  if (!TAG_CHARS.test(value)) {
    return `tag values may contain only letters, digits, spaces and _ . : / = + - @, got ${showValue(value)}`;
  }
  return undefined;
}

/**
 * Check an e-mail address (the shape SNS e-mail subscriptions accept: `local@domain.tld`, no spaces).
 *
 * @example
 * emailProblem('ops@example.com'); // undefined
 */
export function emailProblem(email: string): string | undefined {
  return /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)
    ? undefined
    : `must be an e-mail address such as "ops@example.com", got ${showValue(email)}`;
}
