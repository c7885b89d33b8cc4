import { Duration, Stack } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  MathExpression,
  TreatMissingData,
  type IMetric,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { BucketNotificationDestinationType, type IBucketNotificationDestination } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

import { OLDEST_MESSAGE_ALARM_AGE, SQS_MAX_RETENTION } from '../constants.js';

/** Properties of a {@link deadLetterAlarm}. */
export interface DeadLetterAlarmProps {
  /** The dead-letter queue watched. */
  readonly deadLetterQueue: IQueue;
  /** What the notification says: which queue, how its messages got there, what to do. */
  readonly alarmDescription: string;
  /** Topic the alarm notifies. */
  readonly alarmTopic: ITopic;
}

/**
 * An alarm on any message in a dead-letter queue (the maximum of visible messages over 5 minutes is ≥ 1; no
 * data is not breaching) that notifies `alarmTopic`. Every dead-letter queue of the app has one: the work
 * queues' (WorkQueue) and the converter function's (ConverterStack).
 *
 * @example
 * deadLetterAlarm(this, 'DeadLetterAlarm', { deadLetterQueue: dlq, alarmTopic: topic,
 *   alarmDescription: 'Messages in jobs-dlq: redrive them once the cause is fixed.' });
 */
export function deadLetterAlarm(scope: Construct, id: string, props: DeadLetterAlarmProps): Alarm {
  const alarm = new Alarm(scope, id, {
    alarmDescription: props.alarmDescription,
    metric: props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
      statistic: 'Maximum',
    }),
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
    treatMissingData: TreatMissingData.NOT_BREACHING,
  });
  alarm.addAlarmAction(new SnsAction(props.alarmTopic));
  return alarm;
}

/** Properties of a {@link WorkQueue}. */
export interface WorkQueueProps {
  /** Queue name, from the shared naming rules. */
  readonly queueName: string;
  /** Dead-letter queue name (`{queueName}-dlq`). */
  readonly deadLetterQueueName: string;
  /** Deliveries before a message moves to the dead-letter queue (1-1000). */
  readonly maxReceiveCount: number;
  /** How long a received message stays invisible before another worker may take it. */
  readonly visibilityTimeout: Duration;
  /** Key of both queues (SSE-KMS); S3 needs `kms:GenerateDataKey*`/`kms:Decrypt` on it to send events. */
  readonly encryptionKey: IKey;
  /** Topic the queue's alarms notify. */
  readonly alarmTopic: ITopic;
  /**
   * Alarm when the oldest message is older than this.
   * @default - 24 hours
   */
  readonly oldestMessageAlarmAge?: Duration;
}

/**
 * A work queue and its dead-letter queue, both SSE-KMS encrypted and TLS-only, with two alarms: any message
 * in the dead-letter queue, and the oldest message older than `oldestMessageAlarmAge` (a backlog the
 * workers do not get through). Messages are kept 14 days, the SQS maximum.
 *
 * @example
 * const q = new WorkQueue(this, 'Queue', {
 *   queueName: 'source-photos-raw-', deadLetterQueueName: 'source-photos-raw--dlq', maxReceiveCount: 5,
 *   visibilityTimeout: Duration.seconds(300), encryptionKey: key, alarmTopic: topic,
 * });
 */
export class WorkQueue extends Construct {
  /** The work queue. */
  readonly queue: Queue;
  /** Its dead-letter queue. */
  readonly deadLetterQueue: Queue;
  /** Fires when any message reaches the dead-letter queue. */
  readonly deadLetterAlarm: Alarm;
  /** Fires when the oldest message is older than the configured age. */
  readonly oldestMessageAlarm: Alarm;
  /** The work queue's name (a plain string, not a token). */
  readonly queueName: string;
  readonly #key: IKey;

  constructor(scope: Construct, id: string, props: WorkQueueProps) {
    super(scope, id);
    this.queueName = props.queueName;
    this.#key = props.encryptionKey;
    if (
      !Number.isInteger(props.maxReceiveCount) ||
      props.maxReceiveCount < 1 ||
      props.maxReceiveCount > 1000
    ) {
      throw new Error(
        `WorkQueue ${id}: maxReceiveCount must be an integer 1-1000, got ${props.maxReceiveCount}`,
      );
    }
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      queueName: props.deadLetterQueueName,
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: SQS_MAX_RETENTION,
    });
    this.queue = new Queue(this, 'Queue', {
      queueName: props.queueName,
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: props.encryptionKey,
      enforceSSL: true,
      retentionPeriod: SQS_MAX_RETENTION,
      visibilityTimeout: props.visibilityTimeout,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
    this.deadLetterAlarm = deadLetterAlarm(this, 'DeadLetterAlarm', {
      deadLetterQueue: this.deadLetterQueue,
      alarmDescription: `Messages in ${props.deadLetterQueueName}: they failed ${props.maxReceiveCount} times (see the workers' logs), redrive them once the cause is fixed.`,
      alarmTopic: props.alarmTopic,
    });
    const age = props.oldestMessageAlarmAge ?? OLDEST_MESSAGE_ALARM_AGE;
    this.oldestMessageAlarm = new Alarm(this, 'OldestMessageAlarm', {
      alarmDescription: `The oldest message of ${props.queueName} is older than ${age.toHumanString()}: a backlog the workers do not get through.`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: age.toSeconds(),
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.oldestMessageAlarm.addAlarmAction(new SnsAction(props.alarmTopic));
  }

  /**
   * The queue as the destination of an S3 event notification. Unlike aws-cdk-lib's `SqsDestination`, which
   * also adds an unconditioned `s3.amazonaws.com` statement to the queue's key policy, this only adds the queue
   * policy statement, conditioned on the bucket (`aws:SourceArn`) and this account (`aws:SourceAccount`); the key
   * policy grants S3 the key for this account's buckets (RegionBaseline).
   *
   * @example
   * bucket.addEventNotification(EventType.OBJECT_CREATED, queue.notificationDestination(), { prefix: 'raw/' });
   */
  notificationDestination(): IBucketNotificationDestination {
    const queue = this.queue;
    return {
      bind: (_scope, bucket) => {
        queue.addToResourcePolicy(
          new PolicyStatement({
            principals: [new ServicePrincipal('s3.amazonaws.com')],
            actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
            resources: [queue.queueArn],
            conditions: {
              ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
              StringEquals: { 'aws:SourceAccount': Stack.of(queue).account },
            },
          }),
        );
        return { arn: queue.queueArn, type: BucketNotificationDestinationType.QUEUE, dependencies: [queue] };
      },
    };
  }

  /**
   * Let `role` consume the queue as a worker does (src/core/sqsQueue.ts): receive, delete, change visibility
   * (keep-alive and release) and read attributes (the visibility timeout, at start), and decrypt the messages.
   *
   * @example
   * queue.grantConsume(service.taskRole);
   */
  grantConsume(role: IRole): void {
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'ConsumeQueue',
        actions: [
          'sqs:ReceiveMessage',
          'sqs:DeleteMessage',
          'sqs:ChangeMessageVisibility',
          'sqs:GetQueueAttributes',
        ],
        resources: [this.queue.queueArn],
      }),
    );
    role.addToPrincipalPolicy(
      new PolicyStatement({
        sid: 'DecryptMessages',
        actions: ['kms:Decrypt'],
        resources: [this.#key.keyArn],
      }),
    );
  }

  /**
   * Messages waiting or in flight (visible + not visible), the maximum of each minute: the backlog the
   * autoscaler sizes the service by.
   */
  metricBacklog(): IMetric {
    const period = Duration.minutes(1);
    return new MathExpression({
      expression: 'visible + inflight',
      label: `${this.queueName} backlog`,
      period,
      usingMetrics: {
        visible: this.queue.metricApproximateNumberOfMessagesVisible({ period, statistic: 'Maximum' }),
        inflight: this.queue.metricApproximateNumberOfMessagesNotVisible({ period, statistic: 'Maximum' }),
      },
    });
  }
}
