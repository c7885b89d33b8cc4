import { existsSync } from 'node:fs';
import path from 'node:path';

import { Aws, Duration, Size, Stack, Validations, type StackProps, type App } from 'aws-cdk-lib';
import type { Alarm } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Architecture, Code, Function as LambdaFunction, Runtime } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination as LambdaSqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import { Bucket, EventType } from 'aws-cdk-lib/aws-s3';
import { LambdaDestination } from 'aws-cdk-lib/aws-s3-notifications';
import { Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';

import type { LoadedConfig } from '../../../src/core/config/index.js';
import { ConfigError } from '../../../src/core/errors.js';
import { SQS_MAX_RETENTION, WORKER_LOG_RETENTION } from '../constants.js';
import { deadLetterAlarm } from '../constructs/WorkQueue.js';
import { acknowledgeNotificationsHandler } from '../nag.js';
import { allow, bucketArn, objectArns } from '../policies.js';

/** Output formats of the converter. */
export const ConvertFormat = { parquet: 'parquet', avro: 'avro' } as const;
/** `parquet` or `avro`. */
export type ConvertFormat = (typeof ConvertFormat)[keyof typeof ConvertFormat];

/** Properties of a {@link ConverterStack}. */
export interface ConverterStackProps extends StackProps {
  /** Bucket whose new CSV objects are converted (not baler's; in this stack's region). */
  readonly inputBucketName: string;
  /**
   * Key prefix to convert.
   * @default - the whole bucket
   */
  readonly inputPrefix?: string;
  /**
   * Key suffix of the S3 notification (S3 filters take one suffix).
   * @default - none: every new object invokes the function, which converts `.csv`, `.csv.gz` and `.csv.zst`
   * keys and ignores the rest
   */
  readonly inputSuffix?: string;
  /** Bucket the converted files are written to (must differ from the input bucket, or use another prefix). */
  readonly outputBucketName: string;
  /**
   * Key prefix of the converted files (keys keep their path relative to `inputPrefix`).
   * @default - '' (the output bucket's root)
   */
  readonly outputPrefix?: string;
  /**
   * Output formats.
   * @default - Parquet and Avro (the handler's default)
   */
  readonly formats?: readonly ConvertFormat[];
  /**
   * Files converted at once by one invocation (`MAX_WORKERS`).
   * @default - 2
   */
  readonly maxWorkers?: number;
  /** The function's code: a directory holding `package.json`, `dist/` and production `node_modules/`. */
  readonly code: Code;
  /**
   * Handler, relative to the code's root.
   * @default - 'dist/lambda/convert.handler'
   */
  readonly handler?: string;
  /**
   * Memory of the function, MiB (CPU grows with it; DuckDB uses both).
   * @default - 3008
   */
  readonly memorySizeMiB?: number;
  /**
   * Longest a conversion may take (Lambda allows up to 15 minutes; larger files need the container form).
   * @default - 15 minutes
   */
  readonly timeout?: Duration;
  /**
   * Ephemeral storage of the function (/tmp).
   * @default - 10 GiB
   */
  readonly ephemeralStorageSize?: Size;
  /**
   * Topic the dead-letter alarm notifies: the region's `{stack}-alarms` topic when baler runs in this region.
   * @default - a topic of this stack, `{stackName}-alarms`, encrypted with a key of its own (CloudWatch cannot
   * publish to a topic under the AWS managed SNS key), with `notificationEmails` subscribed
   */
  readonly alarmTopic?: ITopic;
  /**
   * Addresses subscribed to the stack's own alarm topic (only without `alarmTopic`, whose owner subscribes).
   * @default - none
   */
  readonly notificationEmails?: readonly string[];
}

/**
 * Optional: the CSV converter as a Lambda function subscribed to an input bucket and prefix. Each new object
 * matching the filters invokes the function with the S3 event (asynchronous invocation, two retries);
 * events that still fail go to an encrypted dead-letter queue, whose alarm (any message) notifies
 * `alarmTopic` or the stack's own topic. The function may read only the input prefix and write only the
 * output prefix.
 *
 * @example
 * new ConverterStack(app, 'baler-convert', { env, inputBucketName: 'landing', inputPrefix: 'csv/',
 *   outputBucketName: 'lake', code: Code.fromAsset('.baler/lambda-package') });
 */
export class ConverterStack extends Stack {
  /** The converter function. */
  readonly fn: LambdaFunction;
  /** Where events go that failed every attempt. */
  readonly deadLetterQueue: Queue;
  /** Fires when any event reaches the dead-letter queue. */
  readonly deadLetterAlarm: Alarm;
  /** The topic the alarm notifies: `alarmTopic`, or the stack's own. */
  readonly alarmTopic: ITopic;

  constructor(scope: Construct, id: string, props: ConverterStackProps) {
    super(scope, id, props);
    const region = this.region;
    const inputPrefix = props.inputPrefix ?? '';
    const outputPrefix = props.outputPrefix ?? '';
    if (props.inputBucketName === props.outputBucketName && outputPrefix.startsWith(inputPrefix)) {
      throw new ConfigError(
        `converter: output s3://${props.outputBucketName}/${outputPrefix} is inside the input s3://${props.inputBucketName}/${inputPrefix}: every file written would invoke the converter again`,
      );
    }
    if (props.alarmTopic && props.notificationEmails?.length) {
      throw new ConfigError(
        `converter: notificationEmails (${props.notificationEmails.join(', ')}) subscribe the stack's own alarm topic; with alarmTopic, subscribe them to that topic`,
      );
    }
    // SQS-managed encryption: a customer managed key would give the function kms:GenerateDataKey*/ReEncrypt*.
    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: SQS_MAX_RETENTION,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the converter function.',
    });
    this.alarmTopic = props.alarmTopic ?? this.#ownAlarmTopic(props.notificationEmails ?? []);
    this.deadLetterAlarm = deadLetterAlarm(this, 'DeadLetterAlarm', {
      deadLetterQueue: this.deadLetterQueue,
      alarmDescription: `Events in the converter's dead-letter queue: their conversion failed 3 times (see the function's log group), convert those objects again once the cause is fixed.`,
      alarmTopic: this.alarmTopic,
    });
    const logGroup = new LogGroup(this, 'Logs', {
      retention: WORKER_LOG_RETENTION,
    });
    this.fn = new LambdaFunction(this, 'Function', {
      runtime: Runtime.NODEJS_24_X,
      architecture: Architecture.X86_64,
      code: props.code,
      handler: props.handler ?? 'dist/lambda/convert.handler',
      memorySize: props.memorySizeMiB ?? 3008,
      timeout: props.timeout ?? Duration.minutes(15),
      ephemeralStorageSize: props.ephemeralStorageSize ?? Size.gibibytes(10),
      logGroup,
      // The handler's variables (src/lambda/convert.ts).
      environment: {
        INPUT_BUCKET: props.inputBucketName,
        PREFIX: inputPrefix,
        OUTPUT_BUCKET: props.outputBucketName,
        OUTPUT_PREFIX: outputPrefix,
        OUTPUT_FORMATS: (props.formats ?? [ConvertFormat.parquet, ConvertFormat.avro]).join(','),
        MAX_WORKERS: String(props.maxWorkers ?? 2),
        LOG_LEVEL: 'info',
      },
      retryAttempts: 2,
      onFailure: new LambdaSqsDestination(this.deadLetterQueue),
    });
    const role = this.fn.role;
    if (!role) throw new Error('the converter function has no role');
    allow(
      role,
      new PolicyStatement({
        sid: 'ReadInput',
        actions: ['s3:GetObject'],
        resources: [objectArns(region, props.inputBucketName, inputPrefix)],
      }),
      'The converter reads every new object under the input prefix; keys are data, not known in advance.',
    );
    // A scheduled or direct invocation converts every CSV under the prefix: it lists them.
    allow(
      role,
      new PolicyStatement({
        sid: 'ListInput',
        actions: ['s3:ListBucket'],
        resources: [bucketArn(region, props.inputBucketName)],
        ...(inputPrefix !== '' ? { conditions: { StringLike: { 's3:prefix': `${inputPrefix}*` } } } : {}),
      }),
    );
    allow(
      role,
      new PolicyStatement({
        sid: 'WriteOutput',
        actions: ['s3:PutObject', 's3:AbortMultipartUpload'],
        resources: [objectArns(region, props.outputBucketName, outputPrefix)],
      }),
      'Converted files are written under the output prefix with names derived from the input keys.',
    );
    Validations.of(role).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      reason: 'AWSLambdaBasicExecutionRole only lets the function write its own logs.',
    });
    const input = Bucket.fromBucketAttributes(this, 'Input', { bucketName: props.inputBucketName, region });
    const filter = {
      ...(inputPrefix !== '' ? { prefix: inputPrefix } : {}),
      ...(props.inputSuffix ? { suffix: props.inputSuffix } : {}),
    };
    const filters = Object.keys(filter).length > 0 ? [filter] : [];
    input.addEventNotification(EventType.OBJECT_CREATED, new LambdaDestination(this.fn), ...filters);
    acknowledgeNotificationsHandler(this);
  }

  /** An alarm topic as RegionBaseline makes one: encrypted with a rotated key CloudWatch may use, TLS only. */
  #ownAlarmTopic(emails: readonly string[]): Topic {
    const key = new Key(this, 'AlarmTopicKey', {
      description: `baler ${this.stackName}: converter alarm topic`,
      enableKeyRotation: true,
    });
    key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchPublishesToEncryptedTopic',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );
    const topic = new Topic(this, 'Alarms', {
      topicName: `${this.stackName}-alarms`,
      displayName: `baler ${this.stackName} alarms (${this.region})`,
      masterKey: key,
      enforceSSL: true,
    });
    for (const email of emails) topic.addSubscription(new EmailSubscription(email));
    return topic;
  }
}

/** The `baler:convert` context value. */
interface ConvertContext {
  readonly region: string;
  readonly inputBucket: string;
  readonly inputPrefix?: string;
  readonly inputSuffix?: string;
  readonly outputBucket: string;
  readonly outputPrefix?: string;
  readonly formats?: readonly ConvertFormat[];
  /** Directory with package.json, dist/ and production node_modules/ (relative to the repository root). */
  readonly asset?: string;
}

/**
 * Add the converter stack `{stack}-convert` when the context holds `baler:convert` (a JSON object:
 * `region`, `inputBucket`, `inputPrefix?`, `inputSuffix?`, `outputBucket`, `outputPrefix?`, `formats?`,
 * `asset?`; the asset defaults to `.baler/lambda-package`, made by `npm run package:lambda`). Its dead-letter
 * alarm goes to the `{stack}-alarms` topic of its region when that region is enabled (`alarmTopics`), else to
 * a topic of its own with settings.json's `notification_emails` subscribed.
 *
 * @example
 * converterFromContext(app, (k) => app.node.tryGetContext(k), { loaded, accountId, repoRoot });
 */
export function converterFromContext(
  app: App,
  get: (key: string) => unknown,
  o: {
    readonly loaded: LoadedConfig;
    readonly accountId: string;
    readonly repoRoot: string;
    readonly after?: Stack;
    /** The `{stack}-alarms` topic of each enabled region (the converter's alarm uses its region's). */
    readonly alarmTopics?: ReadonlyMap<string, ITopic>;
  },
): ConverterStack | undefined {
  const raw = get('baler:convert');
  if (raw === undefined || raw === null || raw === '') return undefined;
  const c = (typeof raw === 'string' ? JSON.parse(raw) : raw) as ConvertContext;
  for (const field of ['region', 'inputBucket', 'outputBucket'] as const) {
    if (typeof c[field] !== 'string' || c[field] === '') {
      throw new ConfigError(
        `context baler:convert.${field} must be a non-empty string, got ${JSON.stringify(c[field])}`,
      );
    }
  }
  const regionTopic = o.alarmTopics?.get(c.region);
  const alarms = regionTopic
    ? { alarmTopic: regionTopic }
    : { notificationEmails: o.loaded.settings.notificationEmails };
  const asset = path.resolve(o.repoRoot, c.asset ?? '.baler/lambda-package');
  if (!existsSync(path.join(asset, 'dist'))) {
    throw new ConfigError(`converter code not found at ${asset}/dist: run \`npm run package:lambda\` first`);
  }
  return new ConverterStack(app, `${o.loaded.settings.stackName}-convert`, {
    env: { account: o.accountId, region: c.region },
    tags: o.loaded.settings.tags,
    description: `baler ${o.loaded.settings.stackName}: CSV converter`,
    inputBucketName: c.inputBucket,
    ...(c.inputPrefix !== undefined ? { inputPrefix: c.inputPrefix } : {}),
    ...(c.inputSuffix !== undefined ? { inputSuffix: c.inputSuffix } : {}),
    outputBucketName: c.outputBucket,
    ...(c.outputPrefix !== undefined ? { outputPrefix: c.outputPrefix } : {}),
    ...(c.formats !== undefined ? { formats: c.formats } : {}),
    code: Code.fromAsset(asset),
    ...alarms,
  });
}
