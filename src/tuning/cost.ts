/** Default inter-region data transfer price, $ per GB (AWS, most region pairs). */
export const DEFAULT_DATA_TRANSFER_COST_PER_GB = 0.02;
/** Default Fargate price of the source task, $ per minute (2 vCPU / 4 GiB, us-east-1, on-demand). */
export const DEFAULT_FARGATE_COST_PER_MINUTE = 0.000395;
/** Overhead factor on compute time (memory, scheduling), as in the original cost model. */
export const COMPUTE_OVERHEAD_FACTOR = 1.025;
/** Bytes per GiB (AWS bills "GB" as GiB). */
export const BYTES_PER_GIB = 1024 ** 3;

export interface CostRates {
  /** $ per GB transferred between regions. */
  readonly dataTransferCostPerGB: number;
  /** $ per minute of worker compute. */
  readonly fargateCostPerMinute: number;
}

export interface BatchOutcome {
  /** Uncompressed bytes of the objects. */
  readonly rawBytes: number;
  /** Bytes of the archive sent between regions (per target region). */
  readonly archiveBytes: number;
  /** CPU seconds spent compressing (measured in the codec's worker thread; not network time). */
  readonly compressSeconds: number;
  /** Regions the archive is replicated to. */
  readonly targetRegions: number;
}

export interface BatchEconomics {
  readonly bytesSaved: number;
  /** $ saved on transfer: bytes saved × rate × regions. */
  readonly transferSavings: number;
  /** $ of compute spent compressing. */
  readonly computeCost: number;
  /** transferSavings − computeCost. */
  readonly netBenefit: number;
  /** Net benefit per GiB of raw data ($/GiB): comparable across batch sizes. */
  readonly benefitScore: number;
}

/**
 * The money a batch saved: `net = bytes_saved × $/GB × target_regions − compress_seconds × 1.025 × $/min / 60`.
 *
 * @example
 * batchEconomics({ rawBytes: 2 ** 30, archiveBytes: 2 ** 28, compressSeconds: 20, targetRegions: 2 },
 *   { dataTransferCostPerGB: 0.02, fargateCostPerMinute: 0.000395 }).netBenefit // ≈ 0.02986
 */
export function batchEconomics(o: BatchOutcome, rates: CostRates): BatchEconomics {
  const bytesSaved = o.rawBytes - o.archiveBytes;
  const transferSavings = (bytesSaved / BYTES_PER_GIB) * rates.dataTransferCostPerGB * o.targetRegions;
  const computeCost = ((o.compressSeconds * COMPUTE_OVERHEAD_FACTOR) / 60) * rates.fargateCostPerMinute;
  const netBenefit = transferSavings - computeCost;
  const benefitScore = o.rawBytes > 0 ? netBenefit / (o.rawBytes / BYTES_PER_GIB) : 0;
  return { bytesSaved, transferSavings, computeCost, netBenefit, benefitScore };
}
