/**
 * The baler CDK app: which stacks a configuration gives, in which regions, in which order.
 *
 * Stacks (ids are the CloudFormation stack names; they are a contract, do not rename):
 * - `{stack}-tables` in the first enabled region: the two DynamoDB global tables (a replica in every other
 *   enabled region) and the replication-parameters items;
 * - `{stack}-{region}` for every enabled region: the baseline and, in target regions, the target side;
 * - `{stack}-{region}-source` for every region with sources: outbound bucket, replication, source services;
 *   deployed after the region stacks of its destination regions;
 * - `{stack}-monitoring` in the first enabled region: the dashboard of all regions;
 * - `{stack}-convert` (optional): the CSV converter.
 */
import { App, type AppProps, type Environment } from 'aws-cdk-lib';

import type { LoadedConfig, Topology } from '../../src/core/config/index.js';
import { topology } from '../../src/core/config/index.js';
import { ConfigError } from '../../src/core/errors.js';
import type { WorkerImage } from './context.js';
import { MonitoringStack } from './stacks/MonitoringStack.js';
import { RegionStack } from './stacks/RegionStack.js';
import { SourceStack } from './stacks/SourceStack.js';
import { TablesStack } from './stacks/TablesStack.js';

/**
 * aws-cdk-lib feature flags the app relies on; set on the App itself so tests and `cdk synth` agree.
 * - Server access logs are delivered by a bucket policy for `logging.s3.amazonaws.com`, not the legacy
 *   LogDeliveryWrite ACL (buckets keep ObjectOwnership BucketOwnerEnforced: ACLs off).
 */
export const FEATURE_FLAGS: Readonly<Record<string, unknown>> = {
  '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true,
};

/**
 * A new App with baler's {@link FEATURE_FLAGS}.
 *
 * @example
 * const app = balerApp();
 */
export function balerApp(props: AppProps = {}): App {
  return new App({ ...props, context: { ...FEATURE_FLAGS, ...props.context } });
}

/** What {@link buildBalerApp} needs. */
export interface BalerAppOptions {
  /** Both configuration files, loaded and validated by `loadConfigFiles()`. */
  readonly loaded: LoadedConfig;
  /** The AWS account (12 digits): part of the staging bucket names. */
  readonly accountId: string;
  /** Makes the worker image reference of each stack (entrypoint `baler`). */
  readonly image: WorkerImage;
}

/** The stacks of one deployment. */
export interface BalerStacks {
  readonly topology: Topology;
  readonly tables: TablesStack;
  /** By region. */
  readonly regions: ReadonlyMap<string, RegionStack>;
  /** By region (regions with sources only). */
  readonly sources: ReadonlyMap<string, SourceStack>;
  readonly monitoring: MonitoringStack;
}

/**
 * Add every stack of a configuration to `app`. Throws a {@link ConfigError} naming the settings.json path
 * when a region lacks what the CDK app needs (`vpc_cidr`, `availability_zones`).
 *
 * @example
 * const loaded = await loadConfigFiles('replication_config.json', 'settings.json');
 * buildBalerApp(new App(), { loaded, accountId: '111122223333', image: () => ContainerImage.fromRegistry('baler') });
 */
export function buildBalerApp(app: App, o: BalerAppOptions): BalerStacks {
  const { settings } = o.loaded;
  const missing: string[] = [];
  settings.enabledRegions.forEach((r, i) => {
    if (r.vpcCidr === undefined) missing.push(`enabled_regions[${i}].vpc_cidr (${r.region})`);
    if (r.availabilityZones === undefined)
      missing.push(`enabled_regions[${i}].availability_zones (${r.region})`);
  });
  if (missing.length > 0) {
    throw new ConfigError(
      `settings.json: the CDK app builds a VPC in every enabled region and needs ${missing.join(', ')}`,
    );
  }
  const t = topology(o.loaded, o.accountId);
  const stack = settings.stackName;
  const env = (region: string): Environment => ({ account: o.accountId, region });
  const tags = settings.tags;
  const primary = settings.enabledRegions[0]?.region;
  if (primary === undefined) throw new ConfigError('settings.json: enabled_regions is empty');

  const tables = new TablesStack(app, `${stack}-tables`, {
    env: env(primary),
    tags,
    description: `baler ${stack}: DynamoDB tables and replication parameters`,
    topology: t,
    replicaRegions: settings.enabledRegions.map((r) => r.region).filter((r) => r !== primary),
  });
  const regions = new Map<string, RegionStack>();
  for (const r of settings.enabledRegions) {
    const s = new RegionStack(app, `${stack}-${r.region}`, {
      env: env(r.region),
      tags,
      description: `baler ${stack}: baseline${t.targets.some((x) => x.region === r.region) ? ' and target workers' : ''} in ${r.region}`,
      topology: t,
      settings,
      vpcCidr: r.vpcCidr ?? '',
      availabilityZones: r.availabilityZones ?? 0,
      image: o.image,
    });
    s.addStackDependency(tables, 'workers read the replication-parameters items');
    regions.set(r.region, s);
  }
  const sources = new Map<string, SourceStack>();
  for (const region of new Set(t.sources.map((s) => s.source.region))) {
    const baseline = regions.get(region);
    if (!baseline) throw new ConfigError(`settings.json: source region ${region} is not enabled`);
    const s = new SourceStack(app, `${stack}-${region}-source`, {
      env: env(region),
      tags,
      description: `baler ${stack}: outbound bucket, replication and source workers in ${region}`,
      topology: t,
      settings,
      baseline: baseline.baseline,
      image: o.image,
    });
    s.addStackDependency(tables, 'workers read the replication-parameters items');
    for (const rule of t.replicationRules.filter((x) => x.sourceRegion === region)) {
      const dst = regions.get(rule.destinationRegion);
      if (dst)
        s.addStackDependency(
          dst,
          `S3 checks that ${rule.inboundBucket} exists when replication is configured`,
        );
    }
    sources.set(region, s);
  }
  const monitoring = new MonitoringStack(app, `${stack}-monitoring`, {
    env: env(primary),
    tags,
    description: `baler ${stack}: dashboard`,
    topology: t,
    regions: settings.enabledRegions.map((r) => r.region),
  });
  for (const s of [...regions.values(), ...sources.values()]) monitoring.addStackDependency(s);
  return { topology: t, tables, regions, sources, monitoring };
}
