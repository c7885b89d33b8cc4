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
