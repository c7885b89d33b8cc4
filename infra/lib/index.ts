/**
 * The baler CDK app as a library: {@link buildBalerApp} adds every stack of a configuration to an App;
 * the constructs are exported for tests and for users composing their own stacks.
 */
export { balerApp, buildBalerApp, FEATURE_FLAGS, type BalerAppOptions, type BalerStacks } from './app.js';
export { resolveImage, resolveInfraContext, type InfraContext } from './context.js';
export { RegionBaseline, stagingKeyAlias, type RegionBaselineProps } from './constructs/RegionBaseline.js';
export {
  AccessLogsBucket,
  StagingBucket,
  type AccessLogsBucketProps,
  type StagingBucketProps,
} from './constructs/StagingBucket.js';
export {
  deadLetterAlarm,
  WorkQueue,
  type DeadLetterAlarmProps,
  type WorkQueueProps,
} from './constructs/WorkQueue.js';
export {
  scalingLadder,
  WorkerService,
  type ScalingStep,
  type WorkerServiceProps,
} from './constructs/WorkerService.js';
export { OutboundReplication, type OutboundReplicationProps } from './constructs/OutboundReplication.js';
export { ConverterStack, type ConverterStackProps } from './stacks/ConverterStack.js';
export { MonitoringStack, SOURCE_METRICS, TARGET_METRICS } from './stacks/MonitoringStack.js';
export { RegionStack, tableArn } from './stacks/RegionStack.js';
export { SourceStack } from './stacks/SourceStack.js';
export { marshall, TablesStack } from './stacks/TablesStack.js';
export { sourceEnvironment, targetEnvironment } from './workerEnv.js';
export { synthesize, type SynthOptions, type SynthResult } from './synth.js';
export { allow, kmsViaS3, objectArns } from './policies.js';
