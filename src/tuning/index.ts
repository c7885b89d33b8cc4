export {
  batchEconomics,
  BYTES_PER_GIB,
  COMPUTE_OVERHEAD_FACTOR,
  DEFAULT_DATA_TRANSFER_COST_PER_GB,
  DEFAULT_FARGATE_COST_PER_MINUTE,
  type BatchEconomics,
  type BatchOutcome,
  type CostRates,
} from './cost.js';
export { fixedLevel, type LevelChooser } from './level.js';
export {
  benchmarkData,
  measureCpuFactor,
  adaptiveLevel,
  REFERENCE_MBPS,
  type AdaptiveOptions,
  type TuningRecords,
} from './adaptive.js';
export {
  bestLevel,
  benefitPerGiB,
  chooseLevel,
  cpuShift,
  DEFAULT_LEVEL,
  explorationRate,
  explorationStep,
  MAX_LEVEL,
  MIN_TRIALS,
  rankedLevels,
  STORE_LEVEL,
  type Choice,
  type ChoiceContext,
  type ChoiceReason,
} from './policy.js';
export { applyTrial, emptyRecord, type LevelStat, type TrialOutcome, type TuningRecord } from './record.js';
export { itemToRecord, recordToItem, TuningStore, type TuningStoreOptions } from './store.js';
