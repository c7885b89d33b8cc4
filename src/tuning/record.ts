/**
 * What the fleet has learned about one source (`BucketPrefix`): per zstd level, how much money its batches
 * saved. Pure data and pure updates; the DynamoDB item layout is in `store.ts`.
 */

/** Outcomes of the batches compressed at one level. */
export interface LevelStat {
  /** Sum of the batches' net benefit, $ (may be negative). */
  readonly sumBenefit: number;
  /** Batches. */
  readonly trials: number;
  /** Objects in those batches. */
  readonly objects: number;
  /** Raw (uncompressed) bytes of those batches: the mean benefit is normalised by bytes, not objects. */
  readonly bytes: number;
}

/** One item of the compression-settings table. */
export interface TuningRecord {
  /** `BucketPrefix`, from `compressionSettingsKey()`. */
  readonly key: string;
  /** Per level 0..19 (0 = store). Levels never tried are absent. */
  readonly levelStats: Readonly<Partial<Record<number, LevelStat>>>;
  /** Sum of the CPU factors of the workers that recorded a batch (mean = sumCpuFactor / version). */
  readonly sumCpuFactor: number;
  /** Objects over all batches. */
  readonly totalProcessedFiles: number;
  /** Batches recorded; every update increments it (the optimistic-locking condition). */
  readonly version: number;
  /** ISO 8601 time of the last update. */
  readonly lastUpdated: string;
}

/** One batch's outcome, as the source worker reports it. */
export interface TrialOutcome {
  readonly level: number;
  /** $ (see `batchEconomics`). */
  readonly netBenefit: number;
  readonly rawBytes: number;
  readonly objects: number;
  /** The recording worker's CPU factor (1 = the reference machine; higher = faster). */
  readonly cpuFactor: number;
}

/** A record for a key nothing was learned about yet. */
export function emptyRecord(key: string): TuningRecord {
  return {
    key,
    levelStats: {},
    sumCpuFactor: 0,
    totalProcessedFiles: 0,
    version: 0,
    lastUpdated: new Date(0).toISOString(),
  };
}

/** The record after one more batch (a new object; `record` is not modified). */
export function applyTrial(
  record: TuningRecord,
  outcome: TrialOutcome,
  now: Date = new Date(),
): TuningRecord {
  const prev = record.levelStats[outcome.level] ?? { sumBenefit: 0, trials: 0, objects: 0, bytes: 0 };
  return {
    key: record.key,
    levelStats: {
      ...record.levelStats,
      [outcome.level]: {
        sumBenefit: prev.sumBenefit + outcome.netBenefit,
        trials: prev.trials + 1,
        objects: prev.objects + outcome.objects,
        bytes: prev.bytes + outcome.rawBytes,
      },
    },
    sumCpuFactor: record.sumCpuFactor + outcome.cpuFactor,
    totalProcessedFiles: record.totalProcessedFiles + outcome.objects,
    version: record.version + 1,
    lastUpdated: now.toISOString(),
  };
}
