import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { AttributeType, Billing, TableEncryptionV2, TableV2 } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import type { Construct } from 'constructs';

import { acknowledgeAwsCustomResourceProvider } from '../nag.js';

import type { Topology } from '../../../src/core/config/index.js';
import {
  COMPRESSION_SETTINGS_TABLE,
  REPLICATION_PARAMETERS_KEY,
  REPLICATION_PARAMETERS_TABLE,
} from '../../../src/core/config/index.js';
import { parametersItem } from '../../../src/replicate/parameters.js';

/** Properties of a {@link TablesStack}. */
export interface TablesStackProps extends StackProps {
  /** Names of everything, from the shared `topology()`. */
  readonly topology: Topology;
  /** Regions that get a replica of both tables (every enabled region but the stack's own). */
  readonly replicaRegions: readonly string[];
}

/** A DynamoDB attribute value of the parameters item (the item holds strings, numbers, lists and maps). */
type AttributeValue =
  | { readonly S: string }
  | { readonly N: string }
  | { readonly L: readonly AttributeValue[] }
  | { readonly M: Readonly<Record<string, AttributeValue>> };

/**
 * The DynamoDB wire form of a plain value: what `putItem` takes (AwsCustomResource calls the low-level API).
 *
 * @example
 * marshall({ a: 'x', n: 1, l: [{ b: 'y' }] }); // { a: { S: 'x' }, n: { N: '1' }, l: { L: [{ M: { b: { S: 'y' } } }] } }
 */
export function marshall(item: Readonly<Record<string, unknown>>): Record<string, AttributeValue> {
  const value = (v: unknown): AttributeValue => {
    if (typeof v === 'string') return { S: v };
    if (typeof v === 'number' && Number.isFinite(v)) return { N: String(v) };
    if (Array.isArray(v)) return { L: v.map(value) };
    if (v !== null && typeof v === 'object') return { M: marshall(v as Record<string, unknown>) };
    throw new Error(`cannot store ${JSON.stringify(v)} in a replication-parameters item`);
  };
  const out: Record<string, AttributeValue> = {};
  for (const [k, v] of Object.entries(item)) if (v !== undefined) out[k] = value(v);
  return out;
}

/**
 * The two DynamoDB tables, as global tables with a replica in every enabled region (workers read and write
 * their own region's replica), and one `replication-parameters` item per source, written from the same
 * `replication_config.json` that `baler local up` provisions from (`parametersItem()`).
 *
 * Tables are pay-per-request, encrypted (AWS managed key: a customer managed key would need one key ARN per
 * replica region at synthesis), with point-in-time recovery, and retained when the stack is deleted:
 * `compression-settings` holds what the fleet learnt.
 *
 * @example
 * new TablesStack(app, 'baler-tables', { env, topology: t, replicaRegions: ['eu-west-1'] });
 */
export class TablesStack extends Stack {
  /** `compression-settings`, key `BucketPrefix`. */
  readonly compressionSettings: TableV2;
  /** `replication-parameters`, key `ParameterName`. */
  readonly replicationParameters: TableV2;

  constructor(scope: Construct, id: string, props: TablesStackProps) {
    super(scope, id, props);
    const table = (id: string, name: string): TableV2 => {
      const t = props.topology.tables.find((x) => x.name === name);
      if (!t) throw new Error(`topology() names no table ${name}`);
      return new TableV2(this, id, {
        tableName: t.name,
        partitionKey: { name: t.key, type: AttributeType.STRING },
        billing: Billing.onDemand(),
        encryption: TableEncryptionV2.awsManagedKey(),
        pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
        deletionProtection: true,
        removalPolicy: RemovalPolicy.RETAIN,
        replicas: props.replicaRegions.map((region) => ({ region })),
      });
    };
    this.compressionSettings = table('CompressionSettings', COMPRESSION_SETTINGS_TABLE);
    this.replicationParameters = table('ReplicationParameters', REPLICATION_PARAMETERS_TABLE);
    const parameters = this.replicationParameters;

    for (const [i, s] of props.topology.sources.entries()) {
      const item = parametersItem(s);
      const key = { [REPLICATION_PARAMETERS_KEY]: { S: s.parameterName } };
      const put = {
        service: 'DynamoDB',
        action: 'putItem',
        parameters: { TableName: parameters.tableName, Item: marshall(item) },
        physicalResourceId: PhysicalResourceId.of(s.parameterName),
      };
      new AwsCustomResource(this, `Parameters${i}`, {
        resourceType: 'Custom::BalerReplicationParameters',
        onCreate: put,
        onUpdate: put,
        onDelete: {
          service: 'DynamoDB',
          action: 'deleteItem',
          parameters: { TableName: parameters.tableName, Key: key },
        },
        policy: AwsCustomResourcePolicy.fromStatements([
          new PolicyStatement({
            actions: ['dynamodb:PutItem', 'dynamodb:DeleteItem'],
            resources: [parameters.tableArn],
          }),
        ]),
        installLatestAwsSdk: false,
      });
    }
    acknowledgeAwsCustomResourceProvider(this);
  }
}
