import { BYTES_PER_GIB } from './cost.js';
import type { LevelStat, TuningRecord } from './record.js';

/** Level of a key nothing was learned about (the original's default). */
export const DEFAULT_LEVEL = 12;
/** Level 0: "store" — zstd at its fastest (`--fast=100`): incompressible blocks are kept raw, in a normal frame. */
export const STORE_LEVEL = 0;
/** Highest level the policy picks (20..22 need far more memory than a worker has). */
export const MAX_LEVEL = 19;
/** Batches a level needs before it can be the best. */
export const MIN_TRIALS = 10;
/** Exploration rate of a new key, and its floor. */
export const EXPLORATION_START = 0.25;
export const EXPLORATION_FLOOR = 0.125;
/** Exploration decays by this much per 1,000 recorded batches (the record's `version`). */
export const EXPLORATION_DECAY_PER_1000 = 0.02;
/** A worker this much faster (or slower) than the fleet mean shifts the level by one. */
export const CPU_FACTOR_BAND = 0.1;

/** Why a level was chosen (logged with each batch). */
export type ChoiceReason = 'default' | 'best' | 'store' | 'explore';

export interface Choice {
  readonly level: number;
  readonly reason: ChoiceReason;
  /** The exploitation level before exploration (what the key's statistics recommend for this worker). */
  readonly best: number;
}

export interface ChoiceContext {
  /** Uniform [0, 1) numbers; seeded in tests. */
  readonly random: () => number;
  /** This worker's CPU factor (1 = reference machine; higher = faster). */
  readonly cpuFactor: number;
}

const clamp = (level: number): number => Math.min(MAX_LEVEL, Math.max(STORE_LEVEL, level));

/** Mean net benefit of a level, $ per GiB of raw data (normalised by bytes, not by objects or batches). */
export function benefitPerGiB(stat: LevelStat): number {
  return stat.bytes > 0 ? stat.sumBenefit / (stat.bytes / BYTES_PER_GIB) : 0;
}

/** Levels with at least {@link MIN_TRIALS} batches, best first (ties: the lower, cheaper level first). */
export function rankedLevels(record: TuningRecord): { level: number; perGiB: number; trials: number }[] {
  const ranked: { level: number; perGiB: number; trials: number }[] = [];
  for (const [k, stat] of Object.entries(record.levelStats)) {
    if (!stat || stat.trials < MIN_TRIALS) continue;
    ranked.push({ level: Number(k), perGiB: benefitPerGiB(stat), trials: stat.trials });
  }
  return ranked.sort((a, b) => b.perGiB - a.perGiB || a.level - b.level);
}

/**
 * The level the statistics recommend: the highest mean net benefit per GiB among levels with enough
 * trials — the least bad one when all lose money. When the best qualified level loses money and "store"
 * was not tried enough yet, store: compressing does not pay for this data, and store costs the least CPU.
 * {@link DEFAULT_LEVEL} while no level qualifies.
 */
export function bestLevel(record: TuningRecord): { level: number; reason: 'default' | 'best' | 'store' } {
  const [top] = rankedLevels(record);
  if (!top) return { level: DEFAULT_LEVEL, reason: 'default' };
  const storeTrials = record.levelStats[STORE_LEVEL]?.trials ?? 0;
  if (top.perGiB <= 0 && top.level !== STORE_LEVEL && storeTrials < MIN_TRIALS) {
    return { level: STORE_LEVEL, reason: 'store' };
  }
  return { level: top.level, reason: 'best' };
}

/** Exploration rate after `version` recorded batches: 25%, minus 2 points per 1,000, at least 12.5%. */
export function explorationRate(version: number): number {
  const rate = EXPLORATION_START - (EXPLORATION_DECAY_PER_1000 * Math.max(0, version)) / 1000;
  return Math.max(EXPLORATION_FLOOR, rate);
}

/**
 * −1, 0 or +1: a worker more than 10% slower than the fleet mean (`sumCpuFactor / version`) compresses one
 * level lower, one more than 10% faster one level higher. 0 for a new key.
 */
export function cpuShift(record: TuningRecord, cpuFactor: number): -1 | 0 | 1 {
  if (record.version <= 0 || record.sumCpuFactor <= 0) return 0;
  const mean = record.sumCpuFactor / record.version;
  if (cpuFactor > mean * (1 + CPU_FACTOR_BAND)) return 1;
  if (cpuFactor < mean * (1 - CPU_FACTOR_BAND)) return -1;
  return 0;
}

/** An exploration step: ±1 (60%), ±2 (25%) or ±3 (15%), in a random direction. */
export function explorationStep(random: () => number): number {
  const u = random();
  const size = u < 0.6 ? 1 : u < 0.85 ? 2 : 3;
  return random() < 0.5 ? -size : size;
}

/**
 * The level for the next batch of a key: the {@link bestLevel} shifted by this worker's {@link cpuShift}
 * (store is never shifted), or — with the {@link explorationRate} — a neighbour of it, clamped to 0..19. A step
 * that the clamp would cancel goes the other way, so exploring always tries another level.
 */
export function chooseLevel(record: TuningRecord, ctx: ChoiceContext): Choice {
  const recommended = bestLevel(record);
  const best =
    recommended.level === STORE_LEVEL
      ? STORE_LEVEL
      : clamp(recommended.level + cpuShift(record, ctx.cpuFactor));
  if (ctx.random() >= explorationRate(record.version)) {
    return { level: best, reason: recommended.reason, best };
  }
  const step = explorationStep(ctx.random);
  let level = clamp(best + step);
  if (level === best) level = clamp(best - step);
  return { level, reason: 'explore', best };
}
