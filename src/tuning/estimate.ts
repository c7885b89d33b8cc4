import { availableParallelism } from 'node:os';
import { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import pLimit from 'p-limit';
import { createZstdCompressStream } from '../archive/index.js';
import { seededRandom } from '../core/random.js';
import { BYTES_PER_GIB, COMPUTE_OVERHEAD_FACTOR, type CostRates } from './cost.js';

/** Levels `baler estimate` measures by default. */
export const ESTIMATE_LEVELS: readonly number[] = [0, 1, 3, 6, 9, 12, 15, 19];
/** The original system's VPC interface-endpoint cost, $ per region-month (its cost sheet's figure). */
export const DEFAULT_VPC_ENDPOINT_COST_PER_REGION_MONTH = 87.6;
/** S3 Standard storage, $ per GB-month (us-east-1), for archives waiting in the staging buckets. */
export const DEFAULT_STAGING_COST_PER_GB_MONTH = 0.023;
/** Days an archive sits in a staging bucket on average (outbound until replicated, inbound until restored). */
export const DEFAULT_STAGING_DAYS = 1;

/** Everything that is not measured: prices and fixed costs. */
export interface EstimateAssumptions extends CostRates {
  /** Regions the data is replicated to. */
  readonly regions: number;
  readonly vpcEndpointCostPerRegionMonth: number;
  readonly stagingCostPerGBMonth: number;
  readonly stagingDays: number;
}

/** What compressing the sample at one level measured. */
export interface LevelMeasure {
  readonly level: number;
  /** Sample bytes compressed at this level (slow levels use a prefix of the sample). */
  readonly inputBytes: number;
  readonly outputBytes: number;
  /** CPU seconds of zstd (one thread), from the codec's worker thread. */
  readonly seconds: number;
}

/** The money of one level, per TiB of raw data (1,024 GiB; AWS bills GB as GiB). */
export interface LevelEconomics extends LevelMeasure {
  readonly ratio: number;
  /** zstd speed, MB/s (10^6 bytes) of input per CPU second. */
  readonly mbps: number;
  /** Plain S3 replication: raw bytes × transfer price × regions. */
  readonly plainPerTiB: number;
  /** baler: compressed transfer + compute + staging storage. */
  readonly balerPerTiB: number;
  /** plainPerTiB − balerPerTiB: what baler saves (negative: it costs more). */
  readonly netPerTiB: number;
}

export interface EstimateResult {
  readonly assumptions: EstimateAssumptions;
  readonly levels: readonly LevelEconomics[];
  /** The level with the highest net saving per TiB. */
  readonly recommended: number;
  /** $ per month that do not depend on volume: VPC endpoints in the source and every target region. */
  readonly fixedMonthly: number;
  /** GiB per month above which baler (at the recommended level) beats plain S3 replication; null: never. */
  readonly breakEvenGiBPerMonth: number | null;
}

const TiB_IN_GiB = 1024;

/** Per-TiB money of one measured level (pure). */
export function levelEconomics(m: LevelMeasure, a: EstimateAssumptions): LevelEconomics {
  const ratio = m.outputBytes > 0 ? m.inputBytes / m.outputBytes : 1;
  const gib = m.inputBytes / BYTES_PER_GIB;
  const secondsPerGiB = gib > 0 ? m.seconds / gib : 0;
  const plainPerGiB = a.dataTransferCostPerGB * a.regions;
  const transferPerGiB = (a.dataTransferCostPerGB * a.regions) / ratio;
  const computePerGiB = ((secondsPerGiB * COMPUTE_OVERHEAD_FACTOR) / 60) * a.fargateCostPerMinute;
  // An archive sits in the outbound bucket and in each region's inbound bucket.
  const stagingPerGiB = ((a.stagingCostPerGBMonth * a.stagingDays) / 30) * (1 + a.regions) * (1 / ratio);
  const balerPerGiB = transferPerGiB + computePerGiB + stagingPerGiB;
  return {
    ...m,
    ratio,
    mbps: m.seconds > 0 ? m.inputBytes / 1e6 / m.seconds : 0,
    plainPerTiB: plainPerGiB * TiB_IN_GiB,
    balerPerTiB: balerPerGiB * TiB_IN_GiB,
    netPerTiB: (plainPerGiB - balerPerGiB) * TiB_IN_GiB,
  };
}

/** The report from measured levels (pure). */
export function estimateFrom(measures: readonly LevelMeasure[], a: EstimateAssumptions): EstimateResult {
  if (measures.length === 0) throw new Error('no level measured');
  const levels = measures.map((m) => levelEconomics(m, a)).sort((x, y) => x.level - y.level);
  const best = levels.reduce((b, l) => (l.netPerTiB > b.netPerTiB ? l : b));
  const fixedMonthly = a.vpcEndpointCostPerRegionMonth * (1 + a.regions);
  const netPerGiB = best.netPerTiB / TiB_IN_GiB;
  return {
    assumptions: a,
    levels,
    recommended: best.level,
    fixedMonthly,
    breakEvenGiBPerMonth: netPerGiB > 0 ? fixedMonthly / netPerGiB : null,
  };
}

/** One object of the sample. */
export interface SampledObject {
  readonly key: string;
  /** Bytes read (a prefix of the object when it is large). */
  readonly bytes: number;
}

export interface Sample {
  readonly objectsListed: number;
  /** True when the listing stopped at `maxList`. */
  readonly listingTruncated: boolean;
  readonly objects: readonly SampledObject[];
  readonly chunks: readonly Buffer[];
  readonly bytes: number;
}

/**
 * Read a sample of about `sampleBytes` from `s3://bucket/prefix`: list up to `maxList` keys, shuffle them
 * (seeded, so a rerun reads the same objects), then read objects in that order, at most `sampleBytes / 16`
 * (≥ 1 MiB) of each (a ranged GET), so that one huge object cannot be the whole sample.
 */
export async function readSample(
  s3: S3Client,
  bucket: string,
  prefix: string,
  o: { sampleBytes: number; maxList?: number; seed?: number; signal?: AbortSignal },
): Promise<Sample> {
  const maxList = o.maxList ?? 100_000;
  const listed: { key: string; size: number }[] = [];
  let token: string | undefined;
  let truncated = false;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
      { abortSignal: o.signal },
    );
    for (const c of page.Contents ?? []) {
      if (c.Key !== undefined && (c.Size ?? 0) > 0) listed.push({ key: c.Key, size: c.Size ?? 0 });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
    if (listed.length >= maxList && token) {
      truncated = true;
      break;
    }
  } while (token);
  const rnd = seededRandom(o.seed ?? 1);
  for (let i = listed.length - 1; i > 0; i--) {
    const j = Math.floor(rnd() * (i + 1));
    [listed[i], listed[j]] = [
      listed[j] as { key: string; size: number },
      listed[i] as { key: string; size: number },
    ];
  }
  const perObject = Math.max(1024 * 1024, Math.floor(o.sampleBytes / 16));
  const chunks: Buffer[] = [];
  const objects: SampledObject[] = [];
  let bytes = 0;
  for (const { key, size } of listed) {
    if (bytes >= o.sampleBytes) break;
    const want = Math.min(size, perObject, o.sampleBytes - bytes);
    const got = await s3.send(
      new GetObjectCommand({
        Bucket: bucket,
        Key: key,
        ...(want < size ? { Range: `bytes=0-${want - 1}` } : {}),
      }),
      { abortSignal: o.signal },
    );
    const body = Buffer.from(
      await (got.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray(),
    );
    chunks.push(body);
    objects.push({ key, bytes: body.length });
    bytes += body.length;
  }
  return { objectsListed: listed.length, listingTruncated: truncated, objects, chunks, bytes };
}

/** Most bytes measured at slow levels (13+: 64 MiB, 16+: 16 MiB), so that level 19 takes seconds, not minutes. */
export function levelBudget(level: number): number {
  if (level >= 16) return 16 * 1024 * 1024;
  if (level >= 13) return 64 * 1024 * 1024;
  return Number.POSITIVE_INFINITY;
}

/** Compress (a prefix of) the sample at one level in a worker thread (zstd single-threaded) and measure it. */
export async function measureLevel(chunks: readonly Buffer[], level: number): Promise<LevelMeasure> {
  const budget = levelBudget(level);
  const codec = createZstdCompressStream({ level, threads: 0 });
  let outputBytes = 0;
  let inputBytes = 0;
  await pipeline(
    (function* () {
      for (const c of chunks) {
        if (inputBytes >= budget) return;
        const part = c.subarray(0, Math.min(c.length, budget - inputBytes));
        inputBytes += part.length;
        yield part;
      }
    })(),
    codec,
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        outputBytes += chunk.length;
        cb();
      },
    }),
  );
  return { level, inputBytes, outputBytes, seconds: codec.stats?.busySeconds ?? 0 };
}

/** Measure every level, as many at once as there are cores (each in its own worker thread). */
export async function measureLevels(
  chunks: readonly Buffer[],
  levels: readonly number[] = ESTIMATE_LEVELS,
): Promise<LevelMeasure[]> {
  const limit = pLimit(Math.max(1, availableParallelism()));
  return Promise.all(levels.map((level) => limit(() => measureLevel(chunks, level))));
}
