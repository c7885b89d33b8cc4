/**
 * Rules that span fields, sources or files. They run on the typed output of the schemas (schema.ts) and
 * return every problem found as a {@link ConfigIssue}; nothing here throws.
 *
 * Key filters: a source monitors the keys that start with its `prefix_filter` and end with its
 * `suffix_filter` (`""` = no constraint). Two filters **overlap** when some key matches both: one prefix is
 * a prefix of the other (or either is empty) *and* one suffix is a suffix of the other (or either is
 * empty). Baler writes every object under its original key in each destination, so a destination bucket
 * "feeds" every source on that bucket whose filter overlaps the keys it receives.
 */
import { S3_KEY_MAX_BYTES } from './constants.js';
import { jsonPath, showValue } from './issues.js';
import {
  ARCHIVE_EXTENSION,
  ARCHIVE_ID_MAX_LENGTH,
  outboundArchivePrefix,
  sourceQueueName,
} from './naming.js';
import { fargateSizeProblem, parseKmsKeyArn, utf8Length } from './rules.js';
import type { ConfigIssue, ReplicationConfig, Settings, SourceConfig } from './types.js';

/** Default file names used in messages. */
export const REPLICATION_CONFIG_FILE = 'replication_config.json';
export const SETTINGS_FILE = 'settings.json';

// ---------------------------------------------------------------------------------------------------------
// Key filters
// ---------------------------------------------------------------------------------------------------------

/** The keys a source monitors: those starting with `prefix` and ending with `suffix`. */
export interface KeyFilter {
  readonly prefix: string;
  readonly suffix: string;
}

/**
 * Whether two key prefixes overlap: one is a prefix of the other; `""` (the whole bucket) overlaps all.
 *
 * @example
 * prefixesOverlap('logs/', 'logs/2024/'); // true
 * prefixesOverlap('logs/', 'images/');    // false
 */
export function prefixesOverlap(a: string, b: string): boolean {
  return a.startsWith(b) || b.startsWith(a);
}

/**
 * Whether some key matches both filters: the prefixes overlap and the suffixes overlap.
 *
 * @example
 * keyFiltersOverlap({ prefix: '', suffix: '.jpg' }, { prefix: 'a/', suffix: '' });    // true
 * keyFiltersOverlap({ prefix: '', suffix: '.jpg' }, { prefix: '', suffix: '.pdf' }); // false
 */
export function keyFiltersOverlap(a: KeyFilter, b: KeyFilter): boolean {
  return prefixesOverlap(a.prefix, b.prefix) && (a.suffix.endsWith(b.suffix) || b.suffix.endsWith(a.suffix));
}

/** The keys matching both of two overlapping filters: the longer prefix and the longer suffix. */
function intersect(a: KeyFilter, b: KeyFilter): KeyFilter {
  return {
    prefix: a.prefix.length >= b.prefix.length ? a.prefix : b.prefix,
    suffix: a.suffix.length >= b.suffix.length ? a.suffix : b.suffix,
  };
}

function filterOf(source: SourceConfig): KeyFilter {
  return { prefix: source.prefixFilter, suffix: source.suffixFilter };
}

function describeFilter(filter: KeyFilter): string {
  if (filter.prefix === '' && filter.suffix === '') return 'every object';
  if (filter.suffix === '') return `objects under ${showValue(filter.prefix)}`;
  if (filter.prefix === '') return `objects ending in ${showValue(filter.suffix)}`;
  return `objects under ${showValue(filter.prefix)} ending in ${showValue(filter.suffix)}`;
}

// ---------------------------------------------------------------------------------------------------------
// Paths and labels
// ---------------------------------------------------------------------------------------------------------

function rulePath(index: number): string {
  return jsonPath(['replication_configuration', index]);
}

function sourcePath(index: number, field?: string): string {
  return jsonPath(['replication_configuration', index, 'source', ...(field === undefined ? [] : [field])]);
}

function destinationPath(index: number, dest: number, field?: string): string {
  return jsonPath([
    'replication_configuration',
    index,
    'destinations',
    dest,
    ...(field === undefined ? [] : [field]),
  ]);
}

/**
 * Name a source for a message: `replication_configuration[0] (s3://photos/raw/, us-east-1)`.
 *
 * @example
 * describeSource(config.sources[0]);
 */
export function describeSource(source: SourceConfig): string {
  const suffix = source.suffixFilter === '' ? '' : ` …${source.suffixFilter}`;
  return `${rulePath(source.index)} (s3://${source.bucket}/${source.prefixFilter}${suffix}, ${source.region})`;
}

// ---------------------------------------------------------------------------------------------------------
// Replication loops
// ---------------------------------------------------------------------------------------------------------

/** A replication loop: the indices of the sources on the cycle, in replication order. */
export interface ReplicationLoop {
  /** `[0, 1]` means 0 replicates into 1's bucket and 1 back into 0's; `[2]` means 2 replicates into itself. */
  readonly sources: readonly number[];
  /** The keys that would go round forever. */
  readonly filter: KeyFilter;
}

/**
 * Find replication loops: a cycle of sources where each one's destinations include the next one's bucket,
 * and some key passes every filter on the way. This covers self-replication (a source listing its own
 * bucket), A -> B -> A and longer cycles A -> B -> C -> A. Filters narrow along the path, so
 * A("") -> B("a/") -> C("b/") -> A is not a loop: nothing written under `a/` triggers C.
 *
 * Each loop is reported once, starting at its lowest source index.
 *
 * @example
 * findReplicationLoops(config).map((l) => l.sources); // e.g. [[0, 1]]
 */
export function findReplicationLoops(config: ReplicationConfig): ReplicationLoop[] {
  const { sources } = config;
  const byBucket = new Map<string, number[]>();
  for (const s of sources) byBucket.set(s.bucket, [...(byBucket.get(s.bucket) ?? []), s.index]);
  const successors = (i: number): number[] => {
    const out = new Set<number>();
    for (const d of sources[i]?.destinations ?? []) for (const j of byBucket.get(d.bucket) ?? []) out.add(j);
    return [...out];
  };

  const loops = new Map<string, ReplicationLoop>();
  for (const start of sources) {
    // Breadth-first, so the shortest cycle through `start` is the one reported. A state is a source plus the
    // filter of the keys still travelling; paths are simple, so the search ends.
    const queue: { node: number; filter: KeyFilter; path: number[] }[] = [
      { node: start.index, filter: filterOf(start), path: [start.index] },
    ];
    const seen = new Set<string>();
    let found: ReplicationLoop | undefined;
    while (queue.length > 0 && found === undefined) {
      const state = queue.shift();
      if (state === undefined) break;
      for (const j of successors(state.node)) {
        const next = sources[j];
        if (next === undefined || !keyFiltersOverlap(state.filter, filterOf(next))) continue;
        const filter = intersect(state.filter, filterOf(next));
        if (j === start.index) {
          found = { sources: state.path, filter };
          break;
        }
        const key = `${j}\u0000${filter.prefix}\u0000${filter.suffix}`;
        if (state.path.includes(j) || seen.has(key)) continue;
        seen.add(key);
        queue.push({ node: j, filter, path: [...state.path, j] });
      }
    }
    if (found !== undefined) {
      const min = Math.min(...found.sources);
      const at = found.sources.indexOf(min);
      const canonical = [...found.sources.slice(at), ...found.sources.slice(0, at)];
      const id = canonical.join(',');
      if (!loops.has(id)) loops.set(id, { sources: canonical, filter: found.filter });
    }
  }
  return [...loops.values()];
}

function loopIssue(config: ReplicationConfig, loop: ReplicationLoop, file: string): ConfigIssue {
  const [first] = loop.sources;
  const head = first === undefined ? undefined : config.sources[first];
  if (head === undefined) return { file, path: '', message: 'replication loop' };
  if (loop.sources.length === 1) {
    const dest = head.destinations.findIndex((d) => d.bucket === head.bucket);
    return {
      file,
      path: destinationPath(head.index, dest, 'bucket'),
      message:
        `replication loop: ${describeSource(head)} replicates into its own bucket, so ${describeFilter(loop.filter)} ` +
        'it writes would be picked up and replicated again forever; remove this destination',
    };
  }
  const chain = [...loop.sources, first]
    .map((i, n) => {
      const s = config.sources[i ?? -1];
      return s === undefined ? '?' : n === loop.sources.length ? rulePath(s.index) : describeSource(s);
    })
    .join(' -> ');
  return {
    file,
    path: rulePath(head.index),
    message:
      `replication loop: ${chain}: ${describeFilter(loop.filter)} would be replicated round this cycle forever; ` +
      'make the prefix_filter (or suffix_filter) values disjoint or remove one direction',
  };
}

// ---------------------------------------------------------------------------------------------------------
// replication_config.json on its own
// ---------------------------------------------------------------------------------------------------------

function kmsRegionIssue(file: string, path: string, arn: string | undefined, region: string): ConfigIssue[] {
  if (arn === undefined) return [];
  const keyRegion = parseKmsKeyArn(arn)?.region;
  if (keyRegion === undefined || keyRegion === region) return [];
  return [
    {
      file,
      path,
      message: `must be a key in the bucket's region ${region} (SSE-KMS keys are regional), got a key in ${keyRegion}: ${showValue(arn)}`,
    },
  ];
}

function sourceIssues(s: SourceConfig, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const fargate = fargateSizeProblem(s.cpuUnits, s.memoryMiB);
  if (fargate !== undefined) {
    issues.push({
      file,
      path: sourcePath(s.index, fargate.startsWith('memory') ? 'memory' : 'cpu'),
      message: fargate,
    });
  }
  if (s.minCapacity > s.scalingLimit) {
    issues.push({
      file,
      path: sourcePath(s.index, 'min_capacity'),
      message: `must be ≤ scaling_limit (${s.scalingLimit}), got ${s.minCapacity}`,
    });
  }
  issues.push(...kmsRegionIssue(file, sourcePath(s.index, 'kms_key_arn'), s.kmsKeyArn, s.region));

  // The archive key must fit S3's key limit with the longest archive id.
  const keyBytes =
    utf8Length(outboundArchivePrefix(s.bucket, s.prefixFilter)) +
    ARCHIVE_ID_MAX_LENGTH +
    ARCHIVE_EXTENSION.length;
  if (keyBytes > S3_KEY_MAX_BYTES) {
    // Bytes left for the prefix without its trailing "/" (outboundArchivePrefix adds exactly one).
    const room =
      S3_KEY_MAX_BYTES -
      (utf8Length(outboundArchivePrefix(s.bucket, '')) +
        1 +
        ARCHIVE_ID_MAX_LENGTH +
        ARCHIVE_EXTENSION.length);
    issues.push({
      file,
      path: sourcePath(s.index, 'prefix_filter'),
      message:
        `is too long: archive keys "outbound/${s.bucket}/{prefix}/{id}.tar.zst" must fit S3's ${S3_KEY_MAX_BYTES}-byte key ` +
        `limit, which leaves at most ${Math.max(room, 0)} bytes (plus a trailing "/") for this bucket's prefix, got ` +
        `${utf8Length(s.prefixFilter)} bytes`,
    });
  }

  s.destinations.forEach((d, j) => {
    if (d.region === s.region && d.bucket !== s.bucket) {
      issues.push({
        file,
        path: destinationPath(s.index, j, 'region'),
        message:
          `must differ from the source region ${s.region}: baler replicates across regions (compression saves ` +
          `inter-region transfer; within a region use S3 Same-Region Replication), got ${showValue(d.region)}`,
      });
    }
    const twin = s.destinations.findIndex((other) => other.bucket === d.bucket);
    if (twin < j) {
      issues.push({
        file,
        path: destinationPath(s.index, j, 'bucket'),
        message: `duplicates ${destinationPath(s.index, twin)} (bucket ${showValue(d.bucket)}); list each destination bucket once`,
      });
    }
    issues.push(...kmsRegionIssue(file, destinationPath(s.index, j, 'kms_key_arn'), d.kmsKeyArn, d.region));
  });
  return issues;
}

/** Every place a bucket is named, with the region given there. */
function bucketRegionIssues(config: ReplicationConfig, file: string): ConfigIssue[] {
  const first = new Map<string, { region: string; path: string }>();
  const issues: ConfigIssue[] = [];
  const visit = (bucket: string, region: string, path: string): void => {
    const seen = first.get(bucket);
    if (seen === undefined) first.set(bucket, { region, path });
    else if (seen.region !== region) {
      issues.push({
        file,
        path: `${path}.region`,
        message:
          `bucket ${showValue(bucket)} is given region ${region} here but ${seen.region} at ${seen.path}; ` +
          'a bucket name names one bucket in one region',
      });
    }
  };
  for (const s of config.sources) {
    visit(s.bucket, s.region, sourcePath(s.index));
    s.destinations.forEach((d, j) => {
      visit(d.bucket, d.region, destinationPath(s.index, j));
    });
  }
  return issues;
}

/** Two sources on one bucket that S3 or baler cannot tell apart. */
function sourcePairIssues(config: ReplicationConfig, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const { sources } = config;
  for (const b of sources) {
    for (const a of sources) {
      if (a.index >= b.index || a.bucket !== b.bucket) continue;
      if (a.prefixFilter === b.prefixFilter) {
        const same = a.suffixFilter === b.suffixFilter;
        issues.push({
          file,
          path: sourcePath(b.index),
          message: same
            ? `duplicates ${describeSource(a)}: same bucket, prefix_filter and suffix_filter; merge their destinations into one entry`
            : `has the same bucket and prefix_filter as ${describeSource(a)}: a source is identified by bucket + ` +
              'prefix_filter (its queue, parameter item and archive prefix), so merge the two entries or give them different prefixes',
        });
        break;
      }
      if (keyFiltersOverlap(filterOf(a), filterOf(b))) {
        issues.push({
          file,
          path: sourcePath(b.index),
          message:
            `overlaps ${describeSource(a)}: the prefixes ${showValue(a.prefixFilter)} and ${showValue(b.prefixFilter)} overlap ` +
            'and so do the suffixes, so one object would notify both sources (S3 rejects overlapping event ' +
            'notifications); make the prefixes or suffixes disjoint',
        });
        break;
      }
    }
  }
  return issues;
}

/** Two sources whose queue names coincide after sanitising (e.g. buckets `my.logs` and `my-logs`). */
function queueNameIssues(config: ReplicationConfig, file: string): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const byName = new Map<string, SourceConfig>();
  for (const s of config.sources) {
    const key = `${s.region}\u0000${sourceQueueName(s.bucket, s.prefixFilter)}`;
    const other = byName.get(key);
    if (other === undefined) byName.set(key, s);
    else if (other.bucket !== s.bucket || other.prefixFilter !== s.prefixFilter) {
      issues.push({
        file,
        path: sourcePath(s.index),
        message:
          `gets the same SQS queue name ${showValue(sourceQueueName(s.bucket, s.prefixFilter))} as ${describeSource(other)} ` +
          '(queue names replace every character but A-Z a-z 0-9 - _ with "-"); change one prefix_filter',
      });
    }
  }
  return issues;
}

/**
 * Check the rules of `replication_config.json` that span fields and sources: Fargate cpu/memory pairs,
 * `min_capacity` ≤ `scaling_limit`, KMS keys in their bucket's region, archive keys within S3's key limit,
 * destinations in another region than the source and listed once, one region per bucket name, no two
 * sources S3 or baler cannot tell apart, distinct queue names, and no replication loops.
 *
 * @example
 * const issues = validateReplicationConfig(config, 'replication_config.json');
 */
export function validateReplicationConfig(
  config: ReplicationConfig,
  file = REPLICATION_CONFIG_FILE,
): ConfigIssue[] {
  return [
    ...config.sources.flatMap((s) => sourceIssues(s, file)),
    ...bucketRegionIssues(config, file),
    ...sourcePairIssues(config, file),
    ...queueNameIssues(config, file),
    ...findReplicationLoops(config).map((loop) => loopIssue(config, loop, file)),
  ];
}

// ---------------------------------------------------------------------------------------------------------
// settings.json on its own, and both files together
// ---------------------------------------------------------------------------------------------------------

/**
 * Check the rules of `settings.json` that span entries: each region is enabled once.
 *
 * @example
 * const issues = validateSettings(settings, 'settings.json');
 */
export function validateSettings(settings: Settings, file = SETTINGS_FILE): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  settings.enabledRegions.forEach((r, i) => {
    const first = settings.enabledRegions.findIndex((o) => o.region === r.region);
    if (first < i) {
      issues.push({
        file,
        path: jsonPath(['enabled_regions', i, 'region']),
        message: `duplicates ${jsonPath(['enabled_regions', first])} (${showValue(r.region)}); list each region once with all its roles in source_target`,
      });
    }
  });
  return issues;
}

/**
 * Check `replication_config.json` against `settings.json`: every source region is enabled with `source` in
 * its `source_target`, every destination region with `target`.
 *
 * @example
 * const issues = validateAgainstSettings(config, settings, { config: 'replication_config.json', settings: 'settings.json' });
 */
export function validateAgainstSettings(
  config: ReplicationConfig,
  settings: Settings,
  files: { readonly config: string; readonly settings: string } = {
    config: REPLICATION_CONFIG_FILE,
    settings: SETTINGS_FILE,
  },
): ConfigIssue[] {
  const enabled = new Map(settings.enabledRegions.map((r) => [r.region, r]));
  const enabledList = settings.enabledRegions.map((r) => r.region).join(', ');
  const check = (region: string, role: 'source' | 'target', path: string): ConfigIssue[] => {
    const entry = enabled.get(region);
    if (entry === undefined) {
      return [
        {
          file: files.config,
          path,
          message: `must be a region enabled in ${files.settings} enabled_regions (${enabledList}), got ${showValue(region)}`,
        },
      ];
    }
    if (entry.sourceTarget.includes(role)) return [];
    return [
      {
        file: files.config,
        path,
        message:
          `region ${showValue(region)} must have "${role}" in its source_target in ${files.settings}, ` +
          `got ${showValue(entry.sourceTarget)}`,
      },
    ];
  };
  return config.sources.flatMap((s) => [
    ...check(s.region, 'source', sourcePath(s.index, 'region')),
    ...s.destinations.flatMap((d, j) => check(d.region, 'target', destinationPath(s.index, j, 'region'))),
  ]);
}
