/**
 * The CDK app's inputs and edges: configuration errors stop synthesis, context, the scaling ladder,
 * other topologies (a region both source and target in both directions), the built image, the converter.
 */
import { mkdtempSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Code } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';

import { loadConfigFiles } from '../../src/core/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import { resolveInfraContext } from '../../infra/lib/context.js';
import { scalingLadder } from '../../infra/lib/constructs/WorkerService.js';
import { kmsViaS3 } from '../../infra/lib/policies.js';
import { ConverterStack, converterFromContext } from '../../infra/lib/stacks/ConverterStack.js';
import { marshall } from '../../infra/lib/stacks/TablesStack.js';
import { synthesize } from '../../infra/lib/synth.js';
import { flat, iamStatements, REPO_ROOT, resourcesOf, synth, templates } from './helpers.js';

describe('Configuration errors stop synthesis', () => {
  it("rejects a replication loop with the loader's message", async () => {
    await expect(synth('test/fixtures/infra/loop')).rejects.toThrow(
      /replication_configuration\[0\]: replication loop: .*s3:\/\/example-loop-us\/data\/.*-> replication_configuration\[1\] .*-> replication_configuration\[0\]: objects under "data\/" would be replicated round this cycle forever/,
    );
    await expect(synth('test/fixtures/infra/loop')).rejects.toBeInstanceOf(ConfigError);
  });

  it('asks for vpc_cidr and availability_zones of every enabled region', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baler-infra-'));
    const settings = JSON.parse(readFileSync(path.join(REPO_ROOT, 'examples/settings.json'), 'utf8')) as {
      enabled_regions: Record<string, unknown>[];
    };
    delete settings.enabled_regions[1]?.['vpc_cidr'];
    writeFileSync(path.join(dir, 'settings.json'), JSON.stringify(settings));
    writeFileSync(
      path.join(dir, 'replication_config.json'),
      readFileSync(path.join(REPO_ROOT, 'examples/replication_config.json')),
    );
    await expect(synth(dir)).rejects.toThrow(
      'settings.json: the CDK app builds a VPC in every enabled region and needs enabled_regions[1].vpc_cidr (eu-west-1)',
    );
  });
});

describe('Context', () => {
  const get = (c: Record<string, unknown>) => (k: string) => c[k];
  const base = { 'baler:config': 'c.json', 'baler:settings': 's.json' };

  it('takes the account from the context, else from the CLI credentials', () => {
    expect(resolveInfraContext(get({ ...base, 'baler:account': '111122223333' }), {}, '/x').accountId).toBe(
      '111122223333',
    );
    expect(resolveInfraContext(get(base), { CDK_DEFAULT_ACCOUNT: '444455556666' }, '/x')).toMatchObject({
      accountId: '444455556666',
      configPath: '/x/c.json',
      imageRepository: undefined,
    });
  });

  it('refuses a missing or malformed account and missing paths', () => {
    expect(() => resolveInfraContext(get(base), {}, '/x')).toThrow(/AWS account must be 12 digits/);
    expect(() => resolveInfraContext(get({ ...base, 'baler:account': '1234' }), {}, '/x')).toThrow(
      /got "1234"/,
    );
    expect(() => resolveInfraContext(get({ 'baler:account': '111122223333' }), {}, '/x')).toThrow(
      /context baler:config is not set/,
    );
  });
});

describe('Function: scalingLadder', () => {
  it('runs one task per backlogPerTask messages up to the limit', () => {
    expect(scalingLadder(3, 60)).toEqual([
      { capacity: 1, lowerBound: 0, upperBound: 60 },
      { capacity: 2, lowerBound: 60, upperBound: 120 },
      { capacity: 3, lowerBound: 120, upperBound: undefined },
    ]);
  });

  it('climbs in at most 20 contiguous steps to a large limit', () => {
    const ladder = scalingLadder(1000, 60);
    expect(ladder).toHaveLength(20);
    expect(ladder.at(-1)).toEqual({ capacity: 1000, lowerBound: 950 * 60, upperBound: undefined });
    for (let i = 1; i < ladder.length; i++) {
      expect(ladder[i]?.lowerBound).toBe(ladder[i - 1]?.upperBound);
      expect(ladder[i]?.capacity).toBeGreaterThan(ladder[i - 1]?.capacity ?? 0);
      // Never fewer tasks than backlog / backlogPerTask (rounded up) within a step.
      const upper = ladder[i]?.upperBound;
      if (upper !== undefined) expect(upper / 60).toBeLessThanOrEqual(ladder[i]?.capacity ?? 0);
    }
  });

  it('refuses a limit or a backlog below 1', () => {
    expect(() => scalingLadder(0, 60)).toThrow('maxCapacity must be an integer ≥ 1, got 0');
    expect(() => scalingLadder(5, 0)).toThrow('backlogPerTask must be an integer ≥ 1, got 0');
  });
});

describe('Helpers', () => {
  it('marshalls a parameters item to DynamoDB attribute values', () => {
    expect(marshall({ a: 'x', n: 5, l: [{ b: 'y' }], skip: undefined })).toEqual({
      a: { S: 'x' },
      n: { N: '5' },
      l: { L: [{ M: { b: { S: 'y' } } }] },
    });
    expect(() => marshall({ b: true })).toThrow('cannot store true');
  });

  it('names a key ARN directly and an alias ARN through kms:ResourceAliases', () => {
    const key: unknown = kmsViaS3('arn:aws:kms:eu-west-1:111122223333:key/k1', [
      'kms:Decrypt',
    ]).toStatementJson();
    expect(key).toMatchObject({
      Resource: 'arn:aws:kms:eu-west-1:111122223333:key/k1',
      Condition: { StringEquals: { 'kms:ViaService': 's3.eu-west-1.amazonaws.com' } },
    });
    const alias: unknown = kmsViaS3('arn:aws:kms:eu-west-1:111122223333:alias/data', [
      'kms:Decrypt',
    ]).toStatementJson();
    expect(alias).toMatchObject({
      Resource: 'arn:aws:kms:eu-west-1:111122223333:key/*',
      Condition: { 'ForAnyValue:StringEquals': { 'kms:ResourceAliases': 'alias/data' } },
    });
  });
});

describe('Other topologies', () => {
  it('replicates both ways between two regions without a stack cycle', async () => {
    const r = await synth('test/fixtures/infra/mutual');
    const names = r.assembly.stacks.map((s) => s.stackName).sort();
    expect(names).toEqual(
      [
        'baler-mutual-tables',
        'baler-mutual-us-east-1',
        'baler-mutual-eu-west-1',
        'baler-mutual-us-east-1-source',
        'baler-mutual-eu-west-1-source',
        'baler-mutual-monitoring',
      ].sort(),
    );
    const eu = r.stacks.sources.get('eu-west-1');
    expect(eu?.dependencies.map((s) => s.stackName)).toContain('baler-mutual-us-east-1');
    const all = templates(r);
    // Both regions have an inbound bucket, a target queue and a target service.
    for (const region of ['us-east-1', 'eu-west-1']) {
      all.get(`baler-mutual-${region}`)?.resourceCountIs('AWS::ECS::Service', 1);
    }
  });
});

describe('Built image (the default)', () => {
  it('references the image built from the Dockerfile without running Docker, pulled with the one "*" ECR needs', async () => {
    const r = await synthesize({
      context: {
        'baler:config': 'examples/replication_config.json',
        'baler:settings': 'examples/settings.json',
        'baler:account': '111122223333',
      },
      env: {},
      baseDir: REPO_ROOT,
      repoRoot: REPO_ROOT,
    });
    const all = templates(r);
    const image = resourcesOf(all, 'AWS::ECS::TaskDefinition').map((d) =>
      flat((d.props['ContainerDefinitions'] as { Image: unknown }[])[0]?.Image),
    );
    expect(image.length).toBe(4);
    for (const i of image)
      expect(i).toMatch(
        /\.dkr\.ecr\.[a-z0-9-]+\.\$\{AWS::URLSuffix\}\/cdk-hnb659fds-container-assets-111122223333-/,
      );
    const star = iamStatements(all).filter((s) => s.resources.includes('*'));
    expect(star.length).toBe(4);
    for (const s of star) expect(s.actions).toEqual(['ecr:GetAuthorizationToken']);
  });
});

describe('Class: ConverterStack', () => {
  /** A directory that passes for the converter's code (`dist/lambda/convert.js`). */
  function fakeAsset(): string {
    const dir = mkdtempSync(path.join(tmpdir(), 'baler-convert-'));
    mkdirSync(path.join(dir, 'dist', 'lambda'), { recursive: true });
    writeFileSync(path.join(dir, 'dist', 'lambda', 'convert.js'), 'export const handler = async () => {};\n');
    return dir;
  }
  const env = { account: '111122223333', region: 'eu-west-1' };
  /** The alarm on the dead-letter queue: any visible message within 5 minutes. */
  const deadLetterAlarm = (actions: unknown) => ({
    Namespace: 'AWS/SQS',
    MetricName: 'ApproximateNumberOfMessagesVisible',
    Dimensions: [
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DeadLetters'), 'QueueName'] } },
    ],
    Statistic: 'Maximum',
    Period: 300,
    Threshold: 1,
    ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    TreatMissingData: 'notBreaching',
    AlarmActions: actions,
  });

  it('invokes the function for new CSV objects under the input prefix and scopes its role', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'baler-convert-'));
    mkdirSync(path.join(dir, 'dist', 'lambda'), { recursive: true });
    writeFileSync(path.join(dir, 'dist', 'lambda', 'convert.js'), 'export const handler = async () => {};\n');
    const app = new App();
    const stack = new ConverterStack(app, 'baler-convert', {
      env: { account: '111122223333', region: 'eu-west-1' },
      inputBucketName: 'landing',
      inputPrefix: 'csv/',
      outputBucketName: 'lake',
      outputPrefix: 'converted/',
      formats: ['avro'],
      code: Code.fromAsset(dir),
    });
    const t = Template.fromStack(stack);
    t.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'dist/lambda/convert.handler',
      Environment: {
        Variables: {
          INPUT_BUCKET: 'landing',
          PREFIX: 'csv/',
          OUTPUT_BUCKET: 'lake',
          OUTPUT_PREFIX: 'converted/',
          OUTPUT_FORMATS: 'avro',
          MAX_WORKERS: '2',
          LOG_LEVEL: 'info',
        },
      },
      Timeout: 900,
    });
    t.hasResourceProperties('Custom::S3BucketNotifications', {
      BucketName: 'landing',
      Managed: false,
    });
    const cfg = JSON.stringify(t.findResources('Custom::S3BucketNotifications'));
    expect(cfg).toContain('{"Name":"prefix","Value":"csv/"}');
    expect(cfg).not.toContain('"suffix"'); // .csv, .csv.gz and .csv.zst: the handler picks them
    const statements = iamStatements(new Map([['c', t]]));
    expect(statements.find((s) => s.sid === 'ReadInput')?.resources).toEqual(['arn:aws:s3:::landing/csv/*']);
    expect(statements.find((s) => s.sid === 'WriteOutput')?.resources).toEqual([
      'arn:aws:s3:::lake/converted/*',
    ]);
    expect(statements.find((s) => s.sid === 'ListInput')).toMatchObject({
      resources: ['arn:aws:s3:::landing'],
      condition: { StringLike: { 's3:prefix': 'csv/*' } },
    });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(
      report.violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((x) => x.constructPath).join(' ')}`,
      ),
    ).toEqual([]);
  });

  it('alarms on any message in its dead-letter queue, to a topic of its own with the notification emails', () => {
    // Prepare
    const app = new App();
    // Act
    const stack = new ConverterStack(app, 'baler-convert', {
      env,
      inputBucketName: 'landing',
      outputBucketName: 'lake',
      code: Code.fromAsset(fakeAsset()),
      notificationEmails: ['ops@example.com'],
    });
    // Assess
    const t = Template.fromStack(stack);
    t.resourceCountIs('AWS::CloudWatch::Alarm', 1);
    t.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      deadLetterAlarm([{ Ref: Match.stringLikeRegexp('^Alarms') }]),
    );
    t.hasResourceProperties('AWS::SNS::Topic', {
      TopicName: 'baler-convert-alarms',
      KmsMasterKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^AlarmTopicKey'), 'Arn'] },
    });
    t.hasResourceProperties('AWS::SNS::Subscription', { Protocol: 'email', Endpoint: 'ops@example.com' });
    t.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudWatchPublishesToEncryptedTopic',
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:GenerateDataKey*', 'kms:Decrypt'],
          }),
        ]),
      },
    });
    const report = new AwsSolutionsChecks(app).validateScope(app);
    expect(report.violations.map((v) => v.ruleName)).toEqual([]);
  });

  it("sends the alarm to the region's alarm topic when given one, and makes no topic of its own", () => {
    // Prepare
    const app = new App();
    const region = new Stack(app, 'baler-eu-west-1', { env });
    const topic = new Topic(region, 'Alarms', { topicName: 'baler-alarms' });
    // Act
    const stack = new ConverterStack(app, 'baler-convert', {
      env,
      inputBucketName: 'landing',
      outputBucketName: 'lake',
      code: Code.fromAsset(fakeAsset()),
      alarmTopic: topic,
    });
    // Assess
    const t = Template.fromStack(stack);
    t.hasResourceProperties(
      'AWS::CloudWatch::Alarm',
      deadLetterAlarm([
        { 'Fn::ImportValue': Match.stringLikeRegexp('^baler-eu-west-1:ExportsOutputRefAlarms') },
      ]),
    );
    t.resourceCountIs('AWS::SNS::Topic', 0);
    t.resourceCountIs('AWS::KMS::Key', 0);
    expect(
      () =>
        new ConverterStack(new App(), 'c', {
          env,
          inputBucketName: 'landing',
          outputBucketName: 'lake',
          code: Code.fromInline('x'),
          alarmTopic: topic,
          notificationEmails: ['ops@example.com'],
        }),
    ).toThrow(/notificationEmails \(ops@example\.com\) subscribe the stack's own alarm topic/);
  });

  it('takes the alarm topic of its region from the app when that region is enabled, else makes one', async () => {
    // Prepare
    const loaded = await loadConfigFiles(
      path.join(REPO_ROOT, 'examples/replication_config.json'),
      path.join(REPO_ROOT, 'examples/settings.json'),
    );
    const app = new App();
    const topic = new Topic(new Stack(app, 'region', { env }), 'Alarms');
    const context = (region: string) => (key: string) =>
      key === 'baler:convert'
        ? { region, inputBucket: 'landing', outputBucket: 'lake', asset: fakeAsset() }
        : undefined;
    const o = {
      loaded,
      accountId: '111122223333',
      repoRoot: REPO_ROOT,
      alarmTopics: new Map([['eu-west-1', topic]]),
    };
    // Act
    const enabled = converterFromContext(app, context('eu-west-1'), o);
    const other = converterFromContext(new App(), context('us-west-2'), o);
    // Assess
    expect(enabled?.alarmTopic).toBe(topic);
    expect(other?.alarmTopic).not.toBe(topic);
    Template.fromStack(other as ConverterStack).hasResourceProperties('AWS::SNS::Subscription', {
      Endpoint: 'ops@example.com', // settings.json's notification_emails
    });
  });

  it('refuses an output inside its own input', () => {
    expect(
      () =>
        new ConverterStack(new App(), 'c', {
          env: { account: '111122223333', region: 'eu-west-1' },
          inputBucketName: 'b',
          outputBucketName: 'b',
          outputPrefix: 'out/',
          code: Code.fromInline('x'),
        }),
    ).toThrow(
      /output s3:\/\/b\/out\/ is inside the input s3:\/\/b\/: every file written would invoke the converter again/,
    );
  });
});
