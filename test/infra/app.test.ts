/**
 * The CDK app over the two-source, three-region example (examples/): what it deploys, named by the same
 * rules `baler local up` provisions by, least privilege, encryption, scaling, replication, alarms.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { Match, type Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';

import { loadConfigFiles, topology, type Topology } from '../../src/core/config/index.js';
import { parametersItem } from '../../src/replicate/parameters.js';
import { SOURCE_METRICS, TARGET_METRICS } from '../../infra/lib/stacks/MonitoringStack.js';
import { marshall } from '../../infra/lib/stacks/TablesStack.js';
import type { SynthResult } from '../../infra/lib/synth.js';
import {
  EXAMPLE_ACCOUNT,
  flat,
  iamStatements,
  REPO_ROOT,
  resourcesOf,
  synth,
  templates,
  type Statement,
} from './helpers.js';

const STACK = 'baler-example';
let result: SynthResult;
let all: Map<string, Template>;
let t: Topology;

function template(name: string): Template {
  const found = all.get(name);
  if (!found) throw new Error(`no stack ${name}; have ${[...all.keys()].join(', ')}`);
  return found;
}

beforeAll(async () => {
  result = await synth('examples');
  all = templates(result);
  const loaded = await loadConfigFiles(
    path.join(REPO_ROOT, 'examples/replication_config.json'),
    path.join(REPO_ROOT, 'examples/settings.json'),
  );
  t = topology(loaded, EXAMPLE_ACCOUNT);
});

describe('Stacks', () => {
  it('has the tables, one stack per enabled region, the source region and the dashboard', () => {
    expect([...all.keys()].sort()).toEqual(
      [
        `${STACK}-tables`,
        `${STACK}-us-east-1`,
        `${STACK}-eu-west-1`,
        `${STACK}-ap-southeast-2`,
        `${STACK}-us-east-1-source`,
        `${STACK}-monitoring`,
      ].sort(),
    );
    const env = Object.fromEntries(result.assembly.stacks.map((s) => [s.stackName, s.environment.region]));
    expect(env[`${STACK}-tables`]).toBe('us-east-1');
    expect(env[`${STACK}-ap-southeast-2`]).toBe('ap-southeast-2');
    expect(result.assembly.stacks.every((s) => s.environment.account === EXAMPLE_ACCOUNT)).toBe(true);
  });

  it('deploys the source stack after the region stacks it replicates into', () => {
    const source = result.stacks.sources.get('us-east-1');
    const deps = source?.dependencies.map((s) => s.stackName).sort();
    expect(deps).toEqual([
      `${STACK}-ap-southeast-2`,
      `${STACK}-eu-west-1`,
      `${STACK}-tables`,
      `${STACK}-us-east-1`,
    ]);
  });

  it('synthesizes without any context lookup (no AWS account needed)', () => {
    expect(result.assembly.manifest.missing ?? []).toEqual([]);
    template(`${STACK}-eu-west-1`).hasResourceProperties('AWS::EC2::Subnet', {
      AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': 'eu-west-1' }] },
    });
  });

  it('passes cdk-nag AwsSolutions with no unacknowledged finding', () => {
    const report = new AwsSolutionsChecks(result.app).validateScope(result.app);
    expect(report.violations.map((v) => `${v.ruleName}: ${v.violatingResources.length}`)).toEqual([]);
    expect(report.success).toBe(true);
  });
});

describe('Names from the shared rules', () => {
  // topology() is what `baler local up` provisions by; localParity.test.ts runs the provisioning itself.
  it('names the staging buckets by the shared rule', () => {
    const staging = resourcesOf(all, 'AWS::S3::Bucket')
      .map((b) => b.props['BucketName'])
      .filter((n): n is string => typeof n === 'string')
      .sort();
    const expected = [
      ...new Set([...t.sources.map((s) => s.outboundBucket), ...t.targets.map((x) => x.inboundBucket)]),
    ];
    expect(staging).toEqual(expected.sort());
    expect(staging).toContain(`${STACK}-111122223333-us-east-1-outbound`);
    expect(staging).toContain(`${STACK}-111122223333-ap-southeast-2-inbound`);
  });

  it('names the queues and dead-letter queues by the shared rule', () => {
    const queues = resourcesOf(all, 'AWS::SQS::Queue')
      .map((q) => q.props['QueueName'])
      .sort();
    const expected = [
      ...t.sources.flatMap((s) => [s.queueName, s.dlqName]),
      ...t.targets.flatMap((x) => [x.queueName, x.dlqName]),
    ].sort();
    expect(queues).toEqual(expected);
    expect(queues).toContain('source-example-analytics-raw-events-');
    expect(queues).toContain(`${STACK}-target-eu-west-1-dlq`);
  });

  it('names the tables and their keys by the shared rule', () => {
    const tables = resourcesOf(all, 'AWS::DynamoDB::GlobalTable').map((x) => ({
      name: x.props['TableName'],
      key: (x.props['KeySchema'] as { AttributeName: string }[])[0]?.AttributeName,
    }));
    expect(tables).toEqual(t.tables.map((x) => ({ name: x.name, key: x.key })));
  });

  it('replicates both tables into every enabled region, with point-in-time recovery and deletion protection', () => {
    for (const table of resourcesOf(all, 'AWS::DynamoDB::GlobalTable')) {
      const replicas = table.props['Replicas'] as { Region: string; DeletionProtectionEnabled: boolean }[];
      expect(replicas.map((r) => r.Region).sort()).toEqual(['ap-southeast-2', 'eu-west-1', 'us-east-1']);
      expect(replicas.every((r) => r.DeletionProtectionEnabled)).toBe(true);
      expect(JSON.stringify(replicas)).toContain('"PointInTimeRecoveryEnabled":true');
      expect(table.props['BillingMode']).toBe('PAY_PER_REQUEST');
    }
  });

  it('writes the replication rules the local emulator applies: ids, priorities, prefixes, destinations', () => {
    const outbound = template(`${STACK}-us-east-1-source`).findResources('AWS::S3::Bucket');
    const rules = Object.values(outbound).flatMap(
      (b) =>
        (b as { Properties: { ReplicationConfiguration: { Rules: Record<string, unknown>[] } } }).Properties
          .ReplicationConfiguration.Rules,
    );
    expect(
      rules.map((r) => ({
        id: r['Id'],
        priority: r['Priority'],
        prefix: (r['Filter'] as { Prefix: string }).Prefix,
        destination: (r['Destination'] as { Bucket: string }).Bucket,
      })),
    ).toEqual(
      t.replicationRules.map((r) => ({
        id: r.id,
        priority: r.priority,
        prefix: r.prefix,
        destination: `arn:aws:s3:::${r.inboundBucket}`,
      })),
    );
    expect(rules.map((r) => r['Priority'])).toEqual([0, 1, 2]);
  });

  it('writes the replication-parameters item of each source exactly as local up does', () => {
    const items = resourcesOf(all, 'Custom::BalerReplicationParameters').map(
      (c) => JSON.parse(flat(c.props['Create'])) as { parameters: { Item: unknown; TableName: string } },
    );
    expect(items.map((i) => i.parameters.Item)).toEqual(t.sources.map((s) => marshall(parametersItem(s))));
  });
});

describe('Queues', () => {
  it('has a dead-letter queue after 5 receives, 14-day retention and KMS on every queue', () => {
    const queues = resourcesOf(all, 'AWS::SQS::Queue');
    for (const q of queues) {
      expect(q.props['KmsMasterKeyId'], String(q.props['QueueName'])).toBeDefined();
      expect(q.props['MessageRetentionPeriod']).toBe(14 * 24 * 3600);
    }
    const main = queues.filter((q) => !String(q.props['QueueName']).endsWith('-dlq'));
    expect(main).toHaveLength(4);
    for (const q of main) {
      expect(q.props['RedrivePolicy']).toMatchObject({ maxReceiveCount: 5 });
    }
  });

  it('takes the visibility timeout from the source config and 300 s for targets', () => {
    const byName = new Map(resourcesOf(all, 'AWS::SQS::Queue').map((q) => [q.props['QueueName'], q.props]));
    expect(byName.get('source-example-analytics-raw-events-')?.['VisibilityTimeout']).toBe(300);
    expect(byName.get('source-example-media-uploads-')?.['VisibilityTimeout']).toBe(900);
    expect(byName.get(`${STACK}-target-ap-southeast-2`)?.['VisibilityTimeout']).toBe(300);
  });

  it('accepts S3 events only from the notifying bucket of this account, and S3 uses the queue key only for it', () => {
    const sends = resourcesOf(all, 'AWS::SQS::QueuePolicy').flatMap((p) =>
      (p.props['PolicyDocument'] as { Statement: Record<string, unknown>[] }).Statement.filter((s) =>
        JSON.stringify(s['Action']).includes('sqs:SendMessage'),
      ),
    );
    expect(sends).toHaveLength(4);
    for (const s of sends) {
      expect(s['Principal']).toEqual({ Service: 's3.amazonaws.com' });
      expect(s['Condition']).toMatchObject({
        ArnLike: { 'aws:SourceArn': expect.anything() as unknown },
        StringEquals: { 'aws:SourceAccount': '111122223333' },
      });
    }
    expect(
      flat(
        sends.map((s) => (s['Condition'] as { ArnLike: Record<string, unknown> }).ArnLike['aws:SourceArn']),
      ),
    ).toContain(':s3:::example-analytics-raw');
    for (const key of resourcesOf(all, 'AWS::KMS::Key')) {
      const statements = (key.props['KeyPolicy'] as { Statement: Record<string, unknown>[] }).Statement;
      for (const s of statements.filter((x) => JSON.stringify(x['Principal']).includes('amazonaws.com'))) {
        expect(s['Condition'], JSON.stringify(s)).toBeDefined();
      }
    }
  });

  it('denies non-TLS access to every queue', () => {
    const policies = resourcesOf(all, 'AWS::SQS::QueuePolicy');
    expect(policies.length).toBeGreaterThanOrEqual(8);
    for (const p of policies) {
      expect(JSON.stringify(p.props['PolicyDocument'])).toContain('"aws:SecureTransport":"false"');
    }
  });
});

describe('Notifications', () => {
  /** Queue notifications of a stack: bucket (as text) -> sorted filter rules of each configuration. */
  const notifications = (stack: string) =>
    new Map(
      resourcesOf(all, 'Custom::S3BucketNotifications')
        .filter((n) => n.stack === stack)
        .map((n) => {
          const cfg = n.props['NotificationConfiguration'] as {
            QueueConfigurations: {
              Events: string[];
              Filter?: { Key: { FilterRules: { Name: string; Value: string }[] } };
            }[];
          };
          return [
            flat(n.props['BucketName']),
            cfg.QueueConfigurations.map((q) => ({
              events: q.Events,
              rules: (q.Filter?.Key.FilterRules ?? []).map((r) => `${r.Name}=${r.Value}`).sort(),
            })),
          ] as const;
        }),
    );

  it('filters each source bucket by its prefix and suffix, and a whole-bucket source not at all', () => {
    const n = notifications(`${STACK}-us-east-1-source`);
    expect(n.get('example-analytics-raw')).toEqual([
      { events: ['s3:ObjectCreated:*'], rules: ['prefix=events/', 'suffix=.json.gz'] },
    ]);
    expect(n.get('example-media-uploads')).toEqual([{ events: ['s3:ObjectCreated:*'], rules: [] }]);
    // Source buckets are not baler's: their other notifications are kept.
    for (const r of resourcesOf(all, 'Custom::S3BucketNotifications').filter((x) =>
      x.stack.endsWith('-source'),
    )) {
      expect(r.props['Managed']).toBe(false);
    }
  });

  it('sends only archives (outbound/ ... .tar.zst) of the inbound bucket to the target queue', () => {
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      const [only] = [...notifications(`${STACK}-${region}`).values()];
      expect(only).toEqual([
        { events: ['s3:ObjectCreated:*'], rules: ['prefix=outbound/', 'suffix=.tar.zst'] },
      ]);
    }
  });
});

describe('Scaling', () => {
  const policies = (stack: string) =>
    resourcesOf(all, 'AWS::ApplicationAutoScaling::ScalingPolicy').filter((p) => p.stack === stack);

  it('steps from one task per 60 queued messages up to scaling_limit 20, by exact capacity', () => {
    const out = policies(`${STACK}-us-east-1-source`).find((p) => p.id.startsWith('Source0ServiceScaleOut'));
    const cfg = out?.props['StepScalingPolicyConfiguration'] as {
      AdjustmentType: string;
      StepAdjustments: {
        MetricIntervalLowerBound?: number;
        MetricIntervalUpperBound?: number;
        ScalingAdjustment: number;
      }[];
    };
    expect(cfg.AdjustmentType).toBe('ExactCapacity');
    expect(cfg.StepAdjustments).toHaveLength(20);
    expect(cfg.StepAdjustments[0]).toEqual({
      MetricIntervalLowerBound: 0,
      MetricIntervalUpperBound: 60,
      ScalingAdjustment: 1,
    });
    expect(cfg.StepAdjustments[19]).toEqual({ MetricIntervalLowerBound: 1140, ScalingAdjustment: 20 });
  });

  it('scales in to min_capacity (0) once the queue stayed empty for 5 minutes', () => {
    const scaleIn = policies(`${STACK}-us-east-1-source`).find((p) =>
      p.id.startsWith('Source0ServiceScaleIn'),
    );
    expect(scaleIn?.props['StepScalingPolicyConfiguration']).toMatchObject({
      AdjustmentType: 'ExactCapacity',
      StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: 0 }],
    });
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold',
      Threshold: 0,
      EvaluationPeriods: 5,
      DatapointsToAlarm: 5,
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'visible + inflight' })]),
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('Source0ServiceScaleIn') })],
    });
  });

  it('sets the scalable target between min_capacity and scaling_limit of each source', () => {
    const targets = resourcesOf(all, 'AWS::ApplicationAutoScaling::ScalableTarget')
      .filter((x) => x.stack === `${STACK}-us-east-1-source`)
      .map((x) => [x.props['MinCapacity'], x.props['MaxCapacity']]);
    expect(targets).toEqual([
      [0, 20],
      [0, 10],
    ]);
  });

  it('runs on Fargate Spot with an on-demand share', () => {
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::ECS::Service', {
      CapacityProviderStrategy: [
        { CapacityProvider: 'FARGATE_SPOT', Weight: 3 },
        { CapacityProvider: 'FARGATE', Weight: 1 },
      ],
      NetworkConfiguration: { AwsvpcConfiguration: { AssignPublicIp: 'DISABLED' } },
    });
  });
});

describe('Task definitions', () => {
  const env = (stack: string, command: string) => {
    const defs = resourcesOf(all, 'AWS::ECS::TaskDefinition').filter((d) => d.stack === stack);
    const containers = defs.flatMap(
      (d) =>
        d.props['ContainerDefinitions'] as {
          Command: string[];
          Environment: { Name: string; Value: unknown }[];
        }[],
    );
    return containers
      .filter((c) => c.Command[0] === command)
      .map((c) => Object.fromEntries(c.Environment.map((e) => [e.Name, flat(e.Value)])));
  };

  it('gives source workers exactly the container-form variables', () => {
    const [first] = env(`${STACK}-us-east-1-source`, 'source');
    expect(Object.keys(first ?? {}).sort()).toEqual(
      [
        'AWS_DEFAULT_REGION',
        'AWS_EMF_ENVIRONMENT',
        'BALER_METRICS',
        'BUCKET',
        'COMPRESSION_SETTINGS_TABLE',
        'DATA_TRANSFER_COST',
        'FARGATE_COST_PER_MINUTE',
        'LOG_LEVEL',
        'MONITORED_PREFIX',
        'REPLICATION_PARAMETERS_TABLE',
        'SQS_QUEUE_URL',
        'STACK_NAME',
      ].sort(),
    );
    expect(first).toMatchObject({
      AWS_DEFAULT_REGION: 'us-east-1',
      BUCKET: `${STACK}-111122223333-us-east-1-outbound`,
      MONITORED_PREFIX: 'events/',
      STACK_NAME: STACK,
      COMPRESSION_SETTINGS_TABLE: 'compression-settings',
      REPLICATION_PARAMETERS_TABLE: 'replication-parameters',
      AWS_EMF_ENVIRONMENT: 'Local',
    });
    expect(first?.['SQS_QUEUE_URL']).toMatch(/Source0Queue/);
  });

  it('gives target workers their region and queue', () => {
    const [target] = env(`${STACK}-ap-southeast-2`, 'target');
    expect(target).toMatchObject({ AWS_DEFAULT_REGION: 'ap-southeast-2', STACK_NAME: STACK });
    expect(target).not.toHaveProperty('BUCKET');
    expect(target?.['SQS_QUEUE_URL']).toMatch(/TargetQueue/);
  });

  it('sizes source tasks from the config and stops them gracefully', () => {
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::ECS::TaskDefinition', {
      Cpu: '4096',
      Memory: '8192',
      RequiresCompatibilities: ['FARGATE'],
      ContainerDefinitions: [Match.objectLike({ StopTimeout: 40, Essential: true })],
    });
  });
});

describe('IAM', () => {
  let statements: Statement[];
  beforeAll(() => {
    statements = iamStatements(all);
  });

  it('uses "*" only for ecr:GetAuthorizationToken, which has no resource-level permissions', () => {
    // (With a registry image there is no ECR pull at all; inputs.test.ts, 'Built image (the default)', checks the built-image case.)
    const star = statements.filter((s) => s.resources.includes('*'));
    for (const s of star) expect(s.actions).toEqual(['ecr:GetAuthorizationToken']);
    for (const s of statements) for (const a of s.actions) expect(a).not.toContain('*');
  });

  it('uses wildcards only at the end of object ARNs under a named prefix, or for alias-matched keys', () => {
    for (const s of statements) {
      for (const r of s.resources.filter((x) => x.includes('*') && x !== '*')) {
        if (r.includes(':kms:')) {
          expect(r).toMatch(/^arn:aws:kms:[a-z0-9-]+:\d{12}:key\/\*$/);
          expect(JSON.stringify(s.condition)).toContain('kms:ResourceAliases');
        } else {
          expect(r).toMatch(/^arn:aws:s3:::[a-z0-9.-]+\/[^*]*\*$/);
        }
      }
    }
  });

  it('lets a source worker read only its monitored objects and write only its archive prefix', () => {
    const src = statements.filter(
      (s) => s.stack === `${STACK}-us-east-1-source` && s.policy.startsWith('Source0ServiceTaskTaskRole'),
    );
    const bySid = new Map(src.map((s) => [s.sid, s]));
    expect(bySid.get('ReadMonitoredObjects')?.resources).toEqual([
      'arn:aws:s3:::example-analytics-raw/events/*',
    ]);
    expect(bySid.get('ReadMonitoredObjects')?.actions).toEqual(['s3:GetObject', 's3:GetObjectTagging']);
    expect(bySid.get('WriteArchives')?.resources).toEqual([
      `arn:aws:s3:::${STACK}-111122223333-us-east-1-outbound/outbound/example-analytics-raw/events/*`,
    ]);
    expect(bySid.get('LearnCompressionSettings')).toMatchObject({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem'],
      resources: ['arn:aws:dynamodb:us-east-1:111122223333:table/compression-settings'],
      condition: {
        'ForAllValues:StringEquals': {
          'dynamodb:LeadingKeys': ['/baler-example/example-analytics-raw/events/'],
        },
      },
    });
    expect(bySid.get('ConsumeQueue')?.resources).toEqual([
      expect.stringMatching(/^\[GetAtt Source0Queue\w+\.Arn\]$/),
    ]);
    expect(bySid.get('ConsumeQueue')?.actions).not.toContain('sqs:SendMessage');
  });

  it('lets the second source decrypt with its configured key only through S3', () => {
    const kms = statements.find(
      (s) =>
        s.policy.startsWith('Source1ServiceTaskTaskRole') &&
        s.resources.includes('arn:aws:kms:us-east-1:111122223333:key/abcd1234-ab12-cd34-ef56-abcdef123456'),
    );
    expect(kms).toMatchObject({
      actions: ['kms:Decrypt'],
      condition: { StringEquals: { 'kms:ViaService': 's3.us-east-1.amazonaws.com' } },
    });
  });

  it('lets each target write only the destinations of its region, under each source prefix, with their keys', () => {
    const target = (region: string) =>
      statements.filter(
        (s) => s.stack === `${STACK}-${region}` && s.policy.startsWith('TargetServiceTaskTaskRole'),
      );
    const eu = new Map(target('eu-west-1').map((s) => [s.sid, s]));
    expect(eu.get('ConsumeQueue')?.resources).toEqual([
      expect.stringMatching(/^\[GetAtt TargetQueue\w+\.Arn\]$/),
    ]);
    expect(eu.get('DecryptMessages')?.resources).toEqual([
      expect.stringMatching(/^\[GetAtt BaselineQueueKey\w+\.Arn\]$/),
    ]);
    expect(eu.get('WriteDestinations')?.resources.sort()).toEqual(
      ['arn:aws:s3:::example-analytics-raw-eu/events/*', 'arn:aws:s3:::example-media-uploads-eu/*'].sort(),
    );
    expect(eu.get('ReadAndDeleteArchives')?.resources).toEqual([
      `arn:aws:s3:::${STACK}-111122223333-eu-west-1-inbound/outbound/*`,
    ]);
    const ap = target('ap-southeast-2');
    expect(ap.find((s) => s.sid === 'WriteDestinations')?.resources).toEqual([
      'arn:aws:s3:::example-analytics-archive-ap/events/*',
    ]);
    expect(
      ap.find((s) => s.resources.some((r) => r.includes(':kms:ap-southeast-2:111122223333:key/1234abcd'))),
    ).toMatchObject({
      actions: ['kms:GenerateDataKey', 'kms:Decrypt'],
    });
    expect(ap.find((s) => s.sid === 'ReadReplicationParameters')?.condition).toEqual({
      'ForAllValues:StringEquals': {
        'dynamodb:LeadingKeys': ['/baler-example/example-analytics-raw/events/'],
      },
    });
  });

  it('lets the replication role read the archive prefixes and replicate them only into the inbound buckets', () => {
    const repl = new Map(
      statements.filter((s) => s.policy.startsWith('ReplicationRole')).map((s) => [s.sid, s]),
    );
    expect(repl.get('WriteReplicas')?.actions).toEqual(['s3:ReplicateObject', 's3:ReplicateTags']);
    expect(repl.get('WriteReplicas')?.resources.sort()).toEqual(
      t.replicationRules.map((r) => `arn:aws:s3:::${r.inboundBucket}/${r.prefix}*`).sort(),
    );
    expect(repl.get('WriteReplicas')?.actions).not.toContain('s3:ReplicateDelete');
  });
});

describe('Replication', () => {
  it('keeps delete markers, re-encrypts with the destination key alias and reports metrics', () => {
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      ReplicationConfiguration: {
        Rules: Match.arrayWith([
          {
            Id: 'source-example-analytics-raw-events--to-ap-southeast-2',
            Priority: 1,
            Status: 'Enabled',
            Filter: { Prefix: 'outbound/example-analytics-raw/events/' },
            DeleteMarkerReplication: { Status: 'Disabled' },
            SourceSelectionCriteria: { SseKmsEncryptedObjects: { Status: 'Enabled' } },
            Destination: {
              Bucket: `arn:aws:s3:::${STACK}-111122223333-ap-southeast-2-inbound`,
              StorageClass: 'STANDARD',
              EncryptionConfiguration: {
                ReplicaKmsKeyID: `arn:aws:kms:ap-southeast-2:111122223333:alias/${STACK}`,
              },
              Metrics: { Status: 'Enabled' },
            },
          },
        ]),
      },
    });
  });

  it('names the destination keys by the alias the region stacks create', () => {
    for (const region of ['eu-west-1', 'ap-southeast-2']) {
      template(`${STACK}-${region}`).hasResourceProperties('AWS::KMS::Alias', {
        AliasName: `alias/${STACK}`,
      });
    }
  });

  it('alarms when an archive fails to replicate', () => {
    template(`${STACK}-us-east-1-source`).resourceCountIs('AWS::CloudWatch::Alarm', 13);
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'OperationsFailedReplication',
      Namespace: 'AWS/S3',
      Dimensions: Match.arrayWith([{ Name: 'RuleId', Value: 'source-example-media-uploads--to-eu-west-1' }]),
    });
  });
});

describe('Staging lifecycle', () => {
  it('keeps inbound archives a week longer than any message can live, and aborts stale uploads', () => {
    template(`${STACK}-eu-west-1`).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: `${STACK}-111122223333-eu-west-1-inbound`,
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({
            ExpirationInDays: 21,
            NoncurrentVersionExpiration: { NoncurrentDays: 1 },
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
          }),
          Match.objectLike({ ExpiredObjectDeleteMarker: true }),
        ]),
      },
    });
    expect(21 * 24 * 3600).toBeGreaterThan(14 * 24 * 3600); // SQS retention (the queue test checks it)
  });

  it('alarms on the age of the oldest unrestored archive', () => {
    template(`${STACK}-eu-west-1`).hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: Match.anyValue() }],
      Threshold: 86_400,
      AlarmActions: [Match.objectLike({ Ref: Match.stringLikeRegexp('BaselineAlarms') })],
    });
  });
});

describe('Alarms', () => {
  it('alarms on every dead-letter queue', () => {
    const dlqAlarms = resourcesOf(all, 'AWS::CloudWatch::Alarm').filter(
      (a) => a.props['MetricName'] === 'ApproximateNumberOfMessagesVisible' && a.props['Threshold'] === 1,
    );
    expect(dlqAlarms).toHaveLength(4);
  });

  it('alarms on sustained maximum capacity of every service', () => {
    const max = resourcesOf(all, 'AWS::CloudWatch::Alarm').filter(
      (a) => a.props['MetricName'] === 'RunningTaskCount',
    );
    expect(max.map((a) => a.props['Threshold']).sort()).toEqual([10, 20, 20, 20]);
    for (const a of max)
      expect(a.props).toMatchObject({ EvaluationPeriods: 6, Period: 300, Statistic: 'Minimum' });
  });

  it('notifies the alarm topic of tasks that exit by themselves or fail to start', () => {
    template(`${STACK}-eu-west-1`).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        source: ['aws.ecs'],
        'detail-type': ['ECS Task State Change'],
        detail: Match.objectLike({
          lastStatus: ['STOPPED'],
          stopCode: ['EssentialContainerExited', 'TaskFailedToStart'],
          group: [`service:${STACK}-target`],
        }),
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('BaselineAlarms') } })],
    });
  });

  it('subscribes the notification emails', () => {
    template(`${STACK}-us-east-1`).hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
    });
  });
});

describe('Encryption everywhere', () => {
  it('encrypts buckets, queues, topics, logs and tables, and denies non-TLS bucket access', () => {
    for (const b of resourcesOf(all, 'AWS::S3::Bucket')) {
      const algo = JSON.stringify(b.props['BucketEncryption']);
      expect(algo).toMatch(b.props['BucketName'] ? /aws:kms/ : /AES256/);
    }
    for (const p of resourcesOf(all, 'AWS::S3::BucketPolicy')) {
      expect(JSON.stringify(p.props['PolicyDocument'])).toContain('"aws:SecureTransport":"false"');
    }
    for (const topic of resourcesOf(all, 'AWS::SNS::Topic'))
      expect(topic.props['KmsMasterKeyId']).toBeDefined();
    for (const lg of resourcesOf(all, 'AWS::Logs::LogGroup'))
      expect(lg.props['KmsKeyId'], lg.id).toBeDefined();
    for (const table of resourcesOf(all, 'AWS::DynamoDB::GlobalTable')) {
      expect(table.props['SSESpecification']).toMatchObject({ SSEEnabled: true });
    }
    for (const key of resourcesOf(all, 'AWS::KMS::Key')) expect(key.props['EnableKeyRotation']).toBe(true);
  });

  it('logs staging bucket accesses, accepting log deliveries only from those buckets of this account', () => {
    template(`${STACK}-us-east-1-source`).hasResourceProperties('AWS::S3::Bucket', {
      BucketName: `${STACK}-111122223333-us-east-1-outbound`,
      LoggingConfiguration: {
        DestinationBucketName: { 'Fn::ImportValue': Match.stringLikeRegexp('BaselineAccessLogsBucket') },
        LogFilePrefix: `${STACK}-111122223333-us-east-1-outbound/`,
      },
    });
    const policy = resourcesOf(all, 'AWS::S3::BucketPolicy').find(
      (p) => p.stack === `${STACK}-us-east-1` && p.id.startsWith('BaselineAccessLogs'),
    );
    const statements = (policy?.props['PolicyDocument'] as { Statement: Record<string, unknown>[] })
      .Statement;
    const logging = statements.filter((s) =>
      JSON.stringify(s['Principal']).includes('logging.s3.amazonaws.com'),
    );
    expect(logging).toHaveLength(1);
    expect(logging[0]?.['Condition']).toEqual({
      ArnLike: { 'aws:SourceArn': `arn:aws:s3:::${STACK}-111122223333-us-east-1-outbound` },
      StringEquals: { 'aws:SourceAccount': '111122223333' },
    });
  });

  it('runs workers in isolated subnets that reach AWS through endpoints only', () => {
    const region = template(`${STACK}-eu-west-1`);
    region.resourceCountIs('AWS::EC2::NatGateway', 0);
    region.resourceCountIs('AWS::EC2::InternetGateway', 0);
    region.resourceCountIs('AWS::EC2::Subnet', 3);
    region.resourceCountIs('AWS::EC2::VPCEndpoint', 6);
    region.hasResourceProperties('AWS::EC2::VPC', { CidrBlock: '10.1.0.0/16' });
  });
});

describe('Dashboard', () => {
  it('shows every worker metric of docs/OPERATIONS.md', () => {
    const ops = readFileSync(path.join(REPO_ROOT, 'docs/OPERATIONS.md'), 'utf8');
    const section = (title: string) => {
      const start = ops.indexOf(title);
      const end = ops.indexOf('\n### ', start + title.length);
      return [...ops.slice(start, end).matchAll(/^\| `(\w+)`/gm)].map((m) => m[1]);
    };
    expect(Object.keys(SOURCE_METRICS).sort()).toEqual(section('### Source').sort());
    expect(Object.keys(TARGET_METRICS).sort()).toEqual(section('### Target').sort());
    const [dashboard] = resourcesOf(all, 'AWS::CloudWatch::Dashboard');
    const body = flat(dashboard?.props['DashboardBody']);
    for (const m of [...Object.keys(SOURCE_METRICS), ...Object.keys(TARGET_METRICS)])
      expect(body).toContain(`"${m}"`);
    for (const q of t.sources) expect(body).toContain(q.dlqName);
    expect(body).toContain('"region":"ap-southeast-2"');
  });
});
