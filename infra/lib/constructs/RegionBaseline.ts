import { Aws, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  FlowLogDestination,
  FlowLogTrafficType,
  GatewayVpcEndpointAwsService,
  InterfaceVpcEndpointAwsService,
  IpAddresses,
  Peer,
  Port,
  SecurityGroup,
  SubnetType,
  Vpc,
  type SubnetSelection,
} from 'aws-cdk-lib/aws-ec2';
import { Cluster, ContainerInsights } from 'aws-cdk-lib/aws-ecs';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';

import { WORKER_LOG_RETENTION } from '../constants.js';
import { AccessLogsBucket } from './StagingBucket.js';

/** Properties of a {@link RegionBaseline}. */
export interface RegionBaselineProps {
  /** `stack_name` of settings.json: names the cluster, the key alias and the topic. */
  readonly stackName: string;
  /** IPv4 CIDR of the VPC (`vpc_cidr`). */
  readonly vpcCidr: string;
  /** Availability zones of the VPC (`availability_zones`, 1-6). */
  readonly availabilityZones: number;
  /** Addresses subscribed to the alarm topic (`notification_emails`). */
  readonly notificationEmails: readonly string[];
}

/** Alias of the region's key: S3 replication names the destination region's key by it. */
export function stagingKeyAlias(stackName: string): string {
  return `alias/${stackName}`;
}

/**
 * What every enabled region needs before workers run there: a customer managed KMS key (rotated) for the
 * staging buckets, queues, topic and logs; a VPC with isolated subnets only (no internet route, no NAT) whose
 * tasks reach AWS through gateway endpoints (S3, DynamoDB) and interface endpoints (SQS, ECR, CloudWatch
 * Logs); an ECS cluster with Fargate and Fargate Spot and Container Insights; the alarm topic; and the
 * bucket for the staging buckets' access logs.
 *
 * @example
 * const base = new RegionBaseline(this, 'Baseline', {
 *   stackName: 'baler', vpcCidr: '10.1.0.0/16', availabilityZones: 3, notificationEmails: ['ops@example.com'],
 * });
 */
export class RegionBaseline extends Construct {
  /** The region's key for staging buckets, topic and logs (alias `alias/{stack}`). */
  readonly key: Key;
  /**
   * The region's key for the queues (alias `alias/{stack}-queues`). A separate key: S3 sending events to a
   * queue gets a key-policy statement naming the bucket, and a bucket encrypted with that same key would make
   * key and bucket depend on each other.
   */
  readonly queueKey: Key;
  /** The VPC. */
  readonly vpc: Vpc;
  /** The subnets tasks run in. */
  readonly taskSubnets: SubnetSelection;
  /** Security group of the tasks: no ingress, HTTPS out (to the endpoints and S3/DynamoDB). */
  readonly taskSecurityGroup: SecurityGroup;
  /** The ECS cluster. */
  readonly cluster: Cluster;
  /** The alarm topic. */
  readonly alarmTopic: Topic;
  /** Bucket of the staging buckets' server access logs. */
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: RegionBaselineProps) {
    super(scope, id);
    const azs = props.availabilityZones;
    if (!Number.isInteger(azs) || azs < 1 || azs > 6) {
      throw new Error(`RegionBaseline ${id}: availabilityZones must be 1-6, got ${azs}`);
    }
    const stack = Stack.of(this);

    this.key = new Key(this, 'Key', {
      alias: stagingKeyAlias(props.stackName),
      description: `baler ${props.stackName}: staging buckets, queues, alarm topic and logs in ${stack.region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.queueKey = new Key(this, 'QueueKey', {
      alias: `${stagingKeyAlias(props.stackName)}-queues`,
      description: `baler ${props.stackName}: queues in ${stack.region}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Services that write into resources encrypted with these keys on the account's behalf. In a key policy
    // "Resource": "*" means this key. (aws-cdk-lib adds a statement per bucket for S3 event notifications.)
    const sameAccount = { StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } };
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'ServicesPublishToEncryptedTopic',
        principals: [
          new ServicePrincipal('cloudwatch.amazonaws.com'), // alarms into the topic
          new ServicePrincipal('events.amazonaws.com'), // failed-task events into the topic
        ],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: sameAccount,
      }),
    );
    this.key.addToResourcePolicy(
      new PolicyStatement({
        sid: 'CloudWatchLogsEncryptLogGroups',
        principals: [new ServicePrincipal(`logs.${stack.region}.amazonaws.com`)],
        actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
        resources: ['*'],
        conditions: {
          ArnLike: {
            'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${stack.region}:${Aws.ACCOUNT_ID}:log-group:*`,
          },
        },
      }),
    );

    this.queueKey.addToResourcePolicy(
      new PolicyStatement({
        sid: 'S3SendsEventsToEncryptedQueues',
        principals: [new ServicePrincipal('s3.amazonaws.com')],
        actions: ['kms:GenerateDataKey*', 'kms:Decrypt'],
        resources: ['*'],
        conditions: sameAccount,
      }),
    );

    // Explicit AZ tokens (Fn::GetAZs) instead of a context lookup, so that synthesis needs no AWS account.
    const zones = Array.from({ length: azs }, (_, i) => Fn.select(i, Fn.getAzs(stack.region)));
    this.vpc = new Vpc(this, 'Vpc', {
      ipAddresses: IpAddresses.cidr(props.vpcCidr),
      availabilityZones: zones,
      natGateways: 0,
      subnetConfiguration: [{ name: 'workers', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 20 }],
      gatewayEndpoints: {
        S3: { service: GatewayVpcEndpointAwsService.S3 },
        DynamoDB: { service: GatewayVpcEndpointAwsService.DYNAMODB },
      },
    });
    const flowLogs = new LogGroup(this, 'FlowLogs', {
      encryptionKey: this.key,
      retention: WORKER_LOG_RETENTION,
    });
    this.vpc.addFlowLog('RejectedTraffic', {
      destination: FlowLogDestination.toCloudWatchLogs(flowLogs),
      trafficType: FlowLogTrafficType.REJECT,
    });
    this.taskSubnets = { subnetType: SubnetType.PRIVATE_ISOLATED };
    this.taskSecurityGroup = new SecurityGroup(this, 'Tasks', {
      vpc: this.vpc,
      description: 'baler workers: no ingress; HTTPS to the VPC endpoints, S3 and DynamoDB',
      allowAllOutbound: true,
    });
    const endpoints = {
      Sqs: InterfaceVpcEndpointAwsService.SQS,
      EcrApi: InterfaceVpcEndpointAwsService.ECR,
      EcrDocker: InterfaceVpcEndpointAwsService.ECR_DOCKER,
      Logs: InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    };
    const endpointsGroup = new SecurityGroup(this, 'Endpoints', {
      vpc: this.vpc,
      description: 'baler interface endpoints: HTTPS from inside the VPC only',
      allowAllOutbound: false,
    });
    // The literal CIDR (not the VPC's CidrBlock attribute), so the rule is checkable at synthesis.
    endpointsGroup.addIngressRule(Peer.ipv4(props.vpcCidr), Port.tcp(443), 'HTTPS from the VPC');
    for (const [name, service] of Object.entries(endpoints)) {
      this.vpc.addInterfaceEndpoint(name, {
        service,
        subnets: this.taskSubnets,
        privateDnsEnabled: true,
        securityGroups: [endpointsGroup],
        open: false,
      });
    }

    this.cluster = new Cluster(this, 'Cluster', {
      clusterName: props.stackName,
      vpc: this.vpc,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ContainerInsights.ENABLED,
    });

    this.alarmTopic = new Topic(this, 'Alarms', {
      topicName: `${props.stackName}-alarms`,
      displayName: `baler ${props.stackName} alarms (${stack.region})`,
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const email of props.notificationEmails)
      this.alarmTopic.addSubscription(new EmailSubscription(email));

    this.accessLogsBucket = new AccessLogsBucket(this, 'AccessLogs').bucket;
  }
}
