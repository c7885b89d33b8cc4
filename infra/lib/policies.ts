/**
 * IAM statement builders for the workers and the replication role, named by literal ARNs (the resources are
 * named by the shared naming rules, so templates show exactly what a role may touch).
 */
import { Validations } from 'aws-cdk-lib';
import { PolicyStatement, type IRole } from 'aws-cdk-lib/aws-iam';

/**
 * The AWS partition of a region code: `aws-cn` for China, `aws-us-gov` for GovCloud, `aws` elsewhere.
 *
 * @example
 * partitionOf('cn-north-1'); // 'aws-cn'
 */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  return 'aws';
}

/**
 * ARN pattern of the objects under `prefix` in `bucket` (`arn:aws:s3:::bucket/prefix*`). The prefix is
 * literal: configuration rejects `*` in prefixes, and `?` would only widen the match by one character.
 *
 * @example
 * objectArns('us-east-1', 'photos', 'raw/'); // 'arn:aws:s3:::photos/raw/*'
 */
export function objectArns(region: string, bucket: string, prefix: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucket}/${prefix}*`;
}

/**
 * ARN of a bucket.
 *
 * @example
 * bucketArn('us-east-1', 'photos'); // 'arn:aws:s3:::photos'
 */
export function bucketArn(region: string, bucket: string): string {
  return `arn:${partitionOf(region)}:s3:::${bucket}`;
}

/** A KMS key ARN or alias ARN, split. */
interface KmsArn {
  readonly partition: string;
  readonly region: string;
  readonly account: string;
  readonly kind: 'key' | 'alias';
  readonly name: string;
}

function parseKmsArn(arn: string): KmsArn {
  const m = /^arn:([a-z-]+):kms:([a-z0-9-]+):(\d{12}):(key|alias)\/(.+)$/.exec(arn);
  if (!m) throw new Error(`not a KMS key or alias ARN: ${JSON.stringify(arn)}`);
  return {
    partition: m[1] ?? '',
    region: m[2] ?? '',
    account: m[3] ?? '',
    kind: m[4] === 'alias' ? 'alias' : 'key',
    name: m[5] ?? '',
  };
}

/**
 * Allow `actions` on a KMS key named in the configuration, used only through S3 in the key's region
 * (`kms:ViaService`). A key ARN is named directly. IAM cannot name a key by its alias, so an alias ARN
 * becomes "any key of that account and region" narrowed by `kms:ResourceAliases` to keys carrying that
 * alias: the only `key/*` resource baler writes, and the reason cdk-nag's `AwsSolutions-IAM5` finding on it is
 * acknowledged.
 *
 * @example
 * kmsViaS3('arn:aws:kms:eu-west-1:111122223333:key/1234', ['kms:GenerateDataKey', 'kms:Decrypt']);
 */
export function kmsViaS3(keyOrAliasArn: string, actions: readonly string[]): PolicyStatement {
  const k = parseKmsArn(keyOrAliasArn);
  const viaService = { 'kms:ViaService': `s3.${k.region}.amazonaws.com` };
  if (k.kind === 'key') {
    return new PolicyStatement({
      actions: [...actions],
      resources: [keyOrAliasArn],
      conditions: { StringEquals: viaService },
    });
  }
  return new PolicyStatement({
    actions: [...actions],
    resources: [`arn:${k.partition}:kms:${k.region}:${k.account}:key/*`],
    conditions: {
      StringEquals: viaService,
      'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/${k.name}` },
    },
  });
}

/**
 * Add `statement` to `role` and acknowledge cdk-nag's `AwsSolutions-IAM5` finding for each of its
 * resources that contains a wildcard, with `reason`; a statement with a wildcard and no reason is refused.
 *
 * @example
 * allow(role, new PolicyStatement({ actions: ['s3:GetObject'], resources: [objectArns(r, 'b', 'p/')] }),
 *   'objects are named by key; the keys are data');
 */
export function allow(role: IRole, statement: PolicyStatement, wildcardReason?: string): void {
  const json = statement.toStatementJson() as { Resource?: unknown; Action?: unknown };
  const resources = ([] as unknown[]).concat(json.Resource ?? []);
  const actions = ([] as unknown[]).concat(json.Action ?? []);
  for (const a of actions) {
    if (typeof a === 'string' && a.includes('*')) throw new Error(`no wildcard actions, got ${a}`);
  }
  for (const r of resources) {
    if (typeof r !== 'string' || !r.includes('*')) continue;
    if (wildcardReason === undefined) {
      throw new Error(`resource ${r} has a wildcard: give the reason it is needed`);
    }
    Validations.of(role).acknowledge({ id: `AwsSolutions-IAM5[Resource::${r}]`, reason: wildcardReason });
  }
  role.addToPrincipalPolicy(statement);
}

/** Why a `key/*` resource appears where the configuration names a KMS alias (see {@link kmsViaS3}). */
export const KMS_ALIAS_REASON =
  'The configuration names this KMS key by alias ARN; IAM cannot name a key by alias, so the statement allows keys of that account and region that carry the alias (kms:ResourceAliases), used through S3 only (kms:ViaService).';
