import { Duration, Stack, Validations } from 'aws-cdk-lib';
import {
  AdjustmentType,
  MetricAggregationType,
  ScalableTarget,
  ServiceNamespace,
  StepScalingAction,
} from 'aws-cdk-lib/aws-applicationautoscaling';
import { Alarm, ComparisonOperator, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { ApplicationScalingAction, SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ISecurityGroup, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import {
  CpuArchitecture,
  FargateService,
  FargateTaskDefinition,
  LogDrivers,
  OperatingSystemFamily,
  PropagatedTagSource,
  type ContainerImage,
  type ICluster,
} from 'aws-cdk-lib/aws-ecs';
import { EventField, Rule, RuleTargetInput, type IRuleTarget } from 'aws-cdk-lib/aws-events';
import { PolicyStatement, Role, ServicePrincipal, type IRole } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';

import {
  FARGATE_ON_DEMAND_WEIGHT,
  FARGATE_SPOT_WEIGHT,
  MAX_SCALING_STEPS,
  SCALE_IN_COOLDOWN,
  SCALE_IN_IDLE_PERIOD,
  SCALE_OUT_COOLDOWN,
  SUSTAINED_MAX_CAPACITY_PERIOD,
  WORKER_LOG_RETENTION,
  WORKER_STOP_TIMEOUT,
} from '../constants.js';
import type { WorkQueue } from './WorkQueue.js';

/** Fargate gives every task 20 GiB of ephemeral storage unless a size of 21-200 GiB is asked for. */
const FARGATE_DEFAULT_EPHEMERAL_STORAGE_GIB = 20;

/** One step of the backlog ladder: a backlog in `[lowerBound, upperBound)` messages runs `capacity` tasks. */
export interface ScalingStep {
  readonly capacity: number;
  readonly lowerBound: number;
  /** `undefined` for the last step (no upper bound). */
  readonly upperBound: number | undefined;
}

/**
 * The backlog-per-task ladder of a service: `capacity` tasks for a backlog in `[lowerBound, upperBound)`, so
 * each task has at most `backlogPerTask` messages, up to `maxCapacity` tasks. With more than `maxSteps`
 * capacities the ladder climbs in even strides (each step rounds the task count up).
 *
 * @example
 * scalingLadder(3, 60); // [{capacity 1, 0..60}, {capacity 2, 60..120}, {capacity 3, 120..}]
 */
export function scalingLadder(
  maxCapacity: number,
  backlogPerTask: number,
  maxSteps: number = MAX_SCALING_STEPS,
): ScalingStep[] {
  if (!Number.isInteger(maxCapacity) || maxCapacity < 1) {
    throw new Error(`maxCapacity must be an integer ≥ 1, got ${maxCapacity}`);
  }
  if (!Number.isInteger(backlogPerTask) || backlogPerTask < 1) {
    throw new Error(`backlogPerTask must be an integer ≥ 1, got ${backlogPerTask}`);
  }
  const capacities =
    maxCapacity <= maxSteps
      ? Array.from({ length: maxCapacity }, (_, i) => i + 1)
      : [
          ...new Set(
            Array.from({ length: maxSteps }, (_, i) => Math.ceil((maxCapacity * (i + 1)) / maxSteps)),
          ),
        ];
  let previous = 0;
  return capacities.map((capacity, i) => {
    const step: ScalingStep = {
      capacity,
      lowerBound: previous * backlogPerTask,
      upperBound: i === capacities.length - 1 ? undefined : capacity * backlogPerTask,
    };
    previous = capacity;
    return step;
  });
}

/**
 * An EventBridge target publishing to `topic`. Unlike aws-cdk-lib's `SnsTopic` target (an unconditioned
 * statement in the topic policy and, for an encrypted topic, in its key policy), the topic policy statement is
 * limited to this account's rules (`aws:SourceAccount`: the rule may be in another stack than the topic, so
 * its ARN would be a reference back); the key policy grants EventBridge the key the same way (RegionBaseline).
 */
function topicTarget(topic: ITopic, message: RuleTargetInput): IRuleTarget {
  return {
    bind: () => {
      topic.addToResourcePolicy(
        new PolicyStatement({
          sid: 'EventBridgePublishes',
          principals: [new ServicePrincipal('events.amazonaws.com')],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(topic).account } },
        }),
      );
      return { arn: topic.topicArn, input: message };
    },
  };
}

/** Properties of a {@link WorkerService}. */
export interface WorkerServiceProps {
  /** ECS service name (unique in the cluster); also names the log group. */
  readonly serviceName: string;
  /** Stack name of the deployment, part of the log group name `/baler/{stack}/{service}`. */
  readonly stackName: string;
  /** The region's cluster (Fargate and Fargate Spot capacity providers enabled). */
  readonly cluster: ICluster;
  /** Subnets of the tasks: the VPC's isolated subnets. */
  readonly subnets: SubnetSelection;
  /** Security group of the tasks (no ingress). */
  readonly securityGroup: ISecurityGroup;
  /** The baler image; its entrypoint is `baler`. */
  readonly image: ContainerImage;
  /** Arguments after `baler`: `['source']`, `['target']`. */
  readonly command: readonly string[];
  /** Container environment: the container form's variables (docs/OPERATIONS.md). */
  readonly environment: Readonly<Record<string, string>>;
  /** The queue the workers consume; its backlog drives scaling. */
  readonly workQueue: WorkQueue;
  /** Fargate CPU units per task (1024 = 1 vCPU). */
  readonly cpuUnits: number;
  /** Fargate memory per task, MiB. */
  readonly memoryMiB: number;
  /**
   * Ephemeral storage per task, GiB; 20 or less means the Fargate default (20 GiB).
   * @default - 20 GiB, the Fargate default
   */
  readonly ephemeralStorageGiB?: number;
  /** Fewest tasks; 0 lets the service scale to zero when its queue is empty. */
  readonly minCapacity: number;
  /** Most tasks (the source's `scaling_limit`). */
  readonly maxCapacity: number;
  /** Queued messages per task the autoscaler aims for. */
  readonly backlogPerTask: number;
  /** Key of the log group. Its key policy must allow `logs.{region}.amazonaws.com`. */
  readonly logKey: IKey;
  /** Topic notified of failed tasks and sustained maximum capacity. */
  readonly alarmTopic: ITopic;
  /**
   * CPU architecture of the tasks.
   * @default - X86_64 (Fargate Spot runs X86_64 tasks only)
   */
  readonly cpuArchitecture?: CpuArchitecture;
}

/**
 * A queue worker on ECS Fargate: task definition, log group, service on Fargate Spot with an on-demand
 * share, backlog-per-task step scaling from `minCapacity` (0 = scale to zero) to `maxCapacity`, an alarm on
 * sustained maximum capacity and a notification for each task that stops by itself.
 *
 * Scaling uses the queue's backlog (visible + in-flight messages): one step policy sets the task count to
 * the ladder's capacity whenever the backlog is above zero ({@link scalingLadder}), another sets it to the
 * minimum once the backlog has been zero for 5 minutes. Tasks are stopped with SIGTERM, on which a worker
 * releases its messages at once (docs/OPERATIONS.md).
 *
 * The task role starts empty: grant it exactly what the worker calls (`taskRole.addToPrincipalPolicy`).
 *
 * @example
 * const svc = new WorkerService(this, 'Service', { serviceName: 'source-photos-', command: ['source'], ... });
 * svc.taskRole.addToPrincipalPolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [...] }));
 */
export class WorkerService extends Construct {
  /** The ECS service. */
  readonly service: FargateService;
  /** The role the worker's AWS calls use. */
  readonly taskRole: IRole;
  /** The worker's log group. */
  readonly logGroup: LogGroup;
  /** In ALARM while the backlog is above zero; drives the scale-out ladder. */
  readonly backlogAlarm: Alarm;
  /** In ALARM once the backlog stayed zero for 5 minutes; scales in to the minimum. */
  readonly idleAlarm: Alarm;
  /** Fires when the service ran at `maxCapacity` for 30 minutes. */
  readonly maxCapacityAlarm: Alarm;
  /** Notifies the alarm topic of every task that exited by itself or failed to start. */
  readonly failedTaskRule: Rule;
  /** The ladder the scale-out policy applies. */
  readonly ladder: readonly ScalingStep[];

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    if (props.minCapacity < 0 || props.minCapacity > props.maxCapacity) {
      throw new Error(
        `WorkerService ${id}: minCapacity must be 0..maxCapacity (${props.maxCapacity}), got ${props.minCapacity}`,
      );
    }
    this.ladder = scalingLadder(props.maxCapacity, props.backlogPerTask);
    const stack = Stack.of(this);

    const logGroupName = `/baler/${props.stackName}/${props.serviceName}`;
    this.logGroup = new LogGroup(this, 'Logs', {
      logGroupName,
      encryptionKey: props.logKey,
      retention: WORKER_LOG_RETENTION,
    });
    const storage = props.ephemeralStorageGiB ?? FARGATE_DEFAULT_EPHEMERAL_STORAGE_GIB;
    const taskDefinition = new FargateTaskDefinition(this, 'Task', {
      cpu: props.cpuUnits,
      memoryLimitMiB: props.memoryMiB,
      ...(storage > FARGATE_DEFAULT_EPHEMERAL_STORAGE_GIB ? { ephemeralStorageGiB: storage } : {}),
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture ?? CpuArchitecture.X86_64,
        operatingSystemFamily: OperatingSystemFamily.LINUX,
      },
    });
    this.taskRole = taskDefinition.taskRole;
    taskDefinition.addContainer('Worker', {
      image: props.image,
      command: [...props.command],
      environment: { ...props.environment },
      essential: true,
      stopTimeout: WORKER_STOP_TIMEOUT,
      logging: LogDrivers.awsLogs({ streamPrefix: 'worker', logGroup: this.logGroup }),
    });
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason:
        'The workers are configured by environment variables with the original system\'s names (docs/OPERATIONS.md, "Container form"); they hold names, URLs and prices, never secrets.',
    });
    if (taskDefinition.executionRole) {
      Validations.of(taskDefinition.executionRole).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason:
          'ecr:GetAuthorizationToken, granted by CDK to pull the image, has no resource-level permissions: AWS requires Resource "*".',
      });
    }

    this.service = new FargateService(this, 'Service', {
      serviceName: props.serviceName,
      cluster: props.cluster,
      taskDefinition,
      vpcSubnets: props.subnets,
      securityGroups: [props.securityGroup],
      assignPublicIp: false,
      capacityProviderStrategies: [
        { capacityProvider: 'FARGATE_SPOT', weight: FARGATE_SPOT_WEIGHT },
        { capacityProvider: 'FARGATE', weight: FARGATE_ON_DEMAND_WEIGHT },
      ],
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { rollback: true },
      enableECSManagedTags: true,
      propagateTags: PropagatedTagSource.SERVICE,
    });

    // Scaling, as ECS's own autoScaleTaskCount() does it (the ECS service-linked role), with two step policies.
    const scalingTarget = new ScalableTarget(this, 'TaskCount', {
      serviceNamespace: ServiceNamespace.ECS,
      scalableDimension: 'ecs:service:DesiredCount',
      resourceId: `service/${props.cluster.clusterName}/${this.service.serviceName}`,
      minCapacity: props.minCapacity,
      maxCapacity: props.maxCapacity,
      role: Role.fromRoleArn(
        this,
        'ScalingRole',
        stack.formatArn({
          region: '',
          service: 'iam',
          resource: 'role/aws-service-role/ecs.application-autoscaling.amazonaws.com',
          resourceName: 'AWSServiceRoleForApplicationAutoScaling_ECSService',
        }),
      ),
    });
    const backlog = props.workQueue.metricBacklog();
    const scaleOut = new StepScalingAction(this, 'ScaleOut', {
      scalingTarget,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: SCALE_OUT_COOLDOWN,
    });
    for (const step of this.ladder) {
      scaleOut.addAdjustment({
        adjustment: step.capacity,
        lowerBound: step.lowerBound,
        ...(step.upperBound !== undefined ? { upperBound: step.upperBound } : {}),
      });
    }
    this.backlogAlarm = new Alarm(this, 'BacklogAlarm', {
      alarmDescription: `Scaling of ${props.serviceName}: messages waiting or in flight (not a problem by itself).`,
      metric: backlog,
      threshold: 0,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.IGNORE,
    });
    this.backlogAlarm.addAlarmAction(new ApplicationScalingAction(scaleOut));
    const scaleIn = new StepScalingAction(this, 'ScaleIn', {
      scalingTarget,
      adjustmentType: AdjustmentType.EXACT_CAPACITY,
      metricAggregationType: MetricAggregationType.MAXIMUM,
      cooldown: SCALE_IN_COOLDOWN,
    });
    scaleIn.addAdjustment({ adjustment: props.minCapacity, upperBound: 0 });
    const idleMinutes = SCALE_IN_IDLE_PERIOD.toMinutes();
    this.idleAlarm = new Alarm(this, 'IdleAlarm', {
      alarmDescription: `Scaling of ${props.serviceName}: queue empty for ${idleMinutes} minutes, scale in to ${props.minCapacity}.`,
      metric: backlog,
      threshold: 0,
      comparisonOperator: ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: idleMinutes,
      datapointsToAlarm: idleMinutes,
      treatMissingData: TreatMissingData.IGNORE,
    });
    this.idleAlarm.addAlarmAction(new ApplicationScalingAction(scaleIn));

    // Running at the limit for half an hour: the backlog outgrows scaling_limit (or tasks are too small).
    const period = Duration.minutes(5);
    this.maxCapacityAlarm = new Alarm(this, 'MaxCapacityAlarm', {
      alarmDescription: `${props.serviceName} ran at its scaling limit (${props.maxCapacity} tasks) for ${SUSTAINED_MAX_CAPACITY_PERIOD.toMinutes()} minutes: raise scaling_limit or the task size if the backlog keeps growing.`,
      metric: new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: props.cluster.clusterName, ServiceName: props.serviceName },
        statistic: 'Minimum',
        period,
      }),
      threshold: props.maxCapacity,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: SUSTAINED_MAX_CAPACITY_PERIOD.toMinutes() / period.toMinutes(),
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    this.maxCapacityAlarm.addAlarmAction(new SnsAction(props.alarmTopic));

    // A worker runs until ECS stops it (scale-in, deployment, Spot interruption: stop code
    // ServiceSchedulerInitiated / SpotInterruption). A task that exits by itself crashed or could not reach its
    // queue; one that never started could not pull its image or get its configuration.
    const message = RuleTargetInput.fromText(
      `baler: a task of ${props.serviceName} in ${stack.region} stopped (${EventField.fromPath('$.detail.stopCode')}): ${EventField.fromPath('$.detail.stoppedReason')}. Logs: ${logGroupName}`,
    );
    this.failedTaskRule = new Rule(this, 'FailedTasks', {
      description: `Tasks of ${props.serviceName} that exited by themselves or failed to start`,
      eventPattern: {
        source: ['aws.ecs'],
        detailType: ['ECS Task State Change'],
        detail: {
          clusterArn: [props.cluster.clusterArn],
          group: [`service:${props.serviceName}`],
          lastStatus: ['STOPPED'],
          stopCode: ['EssentialContainerExited', 'TaskFailedToStart'],
        },
      },
      targets: [topicTarget(props.alarmTopic, message)],
    });
  }
}
