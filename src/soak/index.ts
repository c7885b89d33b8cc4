export { compileFilters, fnmatchToRegExp, type FilterRule } from './filters.js';
export { localTarget, normalizePrefix, PARTIAL_SUFFIX, RESUME_SUFFIX, type LocalTarget } from './keyPath.js';
export { parseShard, shardOf, inShard, type Shard } from './shard.js';
export { ConcurrencyTuner, type TunerSample, type TunerDecision } from './tuner.js';
export { TokenBucket } from './tokenBucket.js';
export { classifyFailure, backoffMs, FailureKind } from './retry.js';
export { readResumeRecord, type ResumeRecord } from './resume.js';
export {
  resolveTunables,
  SOAK_DEFAULTS,
  SOAK_ENV,
  type SoakTunables,
  type ResolvedTunables,
} from './settings.js';
export {
  Soaker,
  md5FromEtag,
  md5OfFile,
  MAX_REPORTED_FAILURES,
  type SoakOptions,
  type SoakStats,
  type SoakSummary,
  type SoakFailure,
  type SoakPlanEntry,
  type SoakDeps,
} from './soaker.js';
