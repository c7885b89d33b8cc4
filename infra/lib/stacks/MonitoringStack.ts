import { Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Dashboard, GraphWidget, Metric, TextWidget, type IWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

import type { Topology } from '../../../src/core/config/index.js';
import { METRICS_NAMESPACE } from '../constants.js';

/** Metrics of the source worker (docs/OPERATIONS.md) and the statistic the dashboard shows. */
export const SOURCE_METRICS: Readonly<Record<string, string>> = {
  ObjectSize: 'SampleCount',
  CompressionRatio: 'Average',
  BytesSaved: 'Sum',
  CompressionTimeSeconds: 'Sum',
  ObjectProcessingTime: 'p90',
  TransferSavings: 'Sum',
  ComputeCost: 'Sum',
  NetBenefit: 'Sum',
  BenefitScore: 'Average',
  SkippedObjects: 'Sum',
  FailedMetadataRetrieval: 'Sum',
  FailedDownloads: 'Sum',
  FailedUploads: 'Sum',
  InvalidMessages: 'Sum',
};

/** Metrics of the target worker (docs/OPERATIONS.md) and the statistic the dashboard shows. */
export const TARGET_METRICS: Readonly<Record<string, string>> = {
  DecompressionRatio: 'Average',
  DecompressionTimeSeconds: 'Sum',
  ProcessingTimeByStage: 'p90',
  ObjectRestoreTime: 'p90',
  ObjectsProcessed: 'Sum',
  SkippedObjects: 'Sum',
  FailedDecompressions: 'Sum',
  FailedTargetUploads: 'Sum',
  InvalidMessages: 'Sum',
};

const FAILURES = new Set([
  'SkippedObjects',
  'FailedMetadataRetrieval',
  'FailedDownloads',
  'FailedUploads',
  'InvalidMessages',
  'FailedDecompressions',
  'FailedTargetUploads',
]);

/** Properties of a {@link MonitoringStack}. */
export interface MonitoringStackProps extends StackProps {
  /** Names of everything, from the shared `topology()`. */
  readonly topology: Topology;
  /** Every enabled region, in settings order. */
  readonly regions: readonly string[];
}

/**
 * One CloudWatch dashboard, `{stack}`, over every region: per region the queues (backlog, dead letters,
 * oldest message), running tasks, S3 replication of the outbound bucket, and the workers' EMF metrics
 * (namespace `Baler`, dimension `service`). Everything is named by the shared naming rules, so the stack
 * has no cross-stack references.
 *
 * @example
 * new MonitoringStack(app, 'baler-monitoring', { env, topology: t, regions: ['us-east-1', 'eu-west-1'] });
 */
export class MonitoringStack extends Stack {
  /** The dashboard. */
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: MonitoringStackProps) {
    super(scope, id, props);
    const t = props.topology;
    const period = Duration.minutes(5);
    const sqs = (region: string, queue: string, metricName: string, label: string): Metric =>
      new Metric({
        namespace: 'AWS/SQS',
        metricName,
        dimensionsMap: { QueueName: queue },
        statistic: 'Maximum',
        period,
        region,
        label,
      });
    const baler = (region: string, service: string, metricName: string, statistic: string): Metric =>
      new Metric({
        namespace: METRICS_NAMESPACE,
        metricName,
        dimensionsMap: { service },
        statistic,
        period,
        region,
      });
    const tasks = (region: string, service: string): Metric =>
      new Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: t.stackName, ServiceName: service },
        statistic: 'Average',
        period: Duration.minutes(1),
        region,
        label: service,
      });
    const workerRows = (
      region: string,
      service: string,
      metrics: Readonly<Record<string, string>>,
    ): IWidget[] => {
      const entries = Object.entries(metrics);
      const good = entries.filter(([m]) => !FAILURES.has(m));
      const bad = entries.filter(([m]) => FAILURES.has(m));
      return [
        ...good.map(
          ([m, stat]) =>
            new GraphWidget({
              title: `${service}: ${m} (${stat})`,
              left: [baler(region, service, m, stat)],
              width: 6,
              height: 5,
            }),
        ),
        new GraphWidget({
          title: `${service}: failures and skips`,
          left: bad.map(([m, stat]) => baler(region, service, m, stat)),
          width: 12,
          height: 5,
        }),
      ];
    };

    const widgets: IWidget[][] = [];
    for (const region of props.regions) {
      const sources = t.sources.filter((s) => s.source.region === region);
      const target = t.targets.find((x) => x.region === region);
      if (sources.length === 0 && !target) continue;
      widgets.push([new TextWidget({ markdown: `# ${region}`, width: 24, height: 1 })]);
      const queues = [
        ...sources.map((s) => ({ name: s.queueName, dlq: s.dlqName })),
        ...(target ? [{ name: target.queueName, dlq: target.dlqName }] : []),
      ];
      const services = [...sources.map((s) => s.queueName), ...(target ? [`${t.stackName}-target`] : [])];
      widgets.push([
        new GraphWidget({
          title: 'Backlog (visible + in flight)',
          left: queues.flatMap((q) => [
            sqs(region, q.name, 'ApproximateNumberOfMessagesVisible', `${q.name} visible`),
            sqs(region, q.name, 'ApproximateNumberOfMessagesNotVisible', `${q.name} in flight`),
          ]),
          width: 8,
        }),
        new GraphWidget({
          title: 'Dead-letter queues',
          left: queues.map((q) => sqs(region, q.dlq, 'ApproximateNumberOfMessagesVisible', q.dlq)),
          width: 8,
        }),
        new GraphWidget({
          title: 'Oldest message (s)',
          left: queues.map((q) => sqs(region, q.name, 'ApproximateAgeOfOldestMessage', q.name)),
          width: 8,
        }),
      ]);
      const rules = t.replicationRules.filter((r) => r.sourceRegion === region);
      widgets.push([
        new GraphWidget({
          title: 'Running tasks',
          left: services.map((s) => tasks(region, s)),
          width: 12,
        }),
        new GraphWidget({
          title: 'S3 replication: latency (s) and failures',
          left: rules.map(
            (r) =>
              new Metric({
                namespace: 'AWS/S3',
                metricName: 'ReplicationLatency',
                dimensionsMap: {
                  SourceBucket: r.outboundBucket,
                  DestinationBucket: r.inboundBucket,
                  RuleId: r.id,
                },
                statistic: 'Maximum',
                period,
                region,
                label: `${r.id} latency`,
              }),
          ),
          right: rules.map(
            (r) =>
              new Metric({
                namespace: 'AWS/S3',
                metricName: 'OperationsFailedReplication',
                dimensionsMap: {
                  SourceBucket: r.outboundBucket,
                  DestinationBucket: r.inboundBucket,
                  RuleId: r.id,
                },
                statistic: 'Sum',
                period,
                region,
                label: `${r.id} failed`,
              }),
          ),
          width: 12,
        }),
      ]);
      if (sources.length > 0) widgets.push(workerRows(region, 'source', SOURCE_METRICS));
      if (target) widgets.push(workerRows(region, 'target', TARGET_METRICS));
    }
    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: t.stackName,
      widgets,
    });
  }
}
