import { describe, expect, it } from 'vitest';

import {
  findReplicationLoops,
  keyFiltersOverlap,
  parseConfigPair,
  parseReplicationConfig,
  prefixesOverlap,
} from '../../../src/core/config/index.js';
import { replicationConfigSchema } from '../../../src/core/config/schema.js';
import { configJson, destination, errorOf, rule, settingsJson, source } from './helpers.js';

const US = 'us-east-1';
const EU = 'eu-west-1';
const AP = 'ap-southeast-2';

/** A source entry replicating `bucket` (in `region`, filtered) to the given destination buckets. */
function edge(
  region: string,
  bucket: string,
  filter: { prefix?: string; suffix?: string },
  ...to: [string, string][]
) {
  return rule(
    source({ region, bucket, prefix_filter: filter.prefix, suffix_filter: filter.suffix }),
    ...to.map(([r, b]) => destination({ region: r, bucket: b })),
  );
}

/** Loops of a config, schema-checked only (parseReplicationConfig would throw on the loop itself). */
function loopsOf(json: Record<string, unknown>): number[][] {
  const config = replicationConfigSchema.parse(json);
  return findReplicationLoops(config).map((l) => [...l.sources]);
}

describe('Function: prefixesOverlap', () => {
  it.each([
    ['', '', true],
    ['', 'logs/', true],
    ['logs/', 'logs/2024/', true],
    ['logs/2024/', 'logs/', true],
    ['logs/', 'logs/', true],
    ['logs/', 'images/', false],
    ['logs', 'logs-old/', true],
    ['logs/', 'logs-old/', false],
  ])('%j and %j overlap: %s', (a, b, expected) => {
    // Act / Assess
    expect(prefixesOverlap(a, b)).toBe(expected);
  });
});

describe('Function: keyFiltersOverlap', () => {
  it.each([
    [{ prefix: '', suffix: '.jpg' }, { prefix: 'a/', suffix: '' }, true],
    [{ prefix: '', suffix: '.jpg' }, { prefix: '', suffix: '.pdf' }, false],
    [{ prefix: '', suffix: '.tar.gz' }, { prefix: '', suffix: '.gz' }, true],
    [{ prefix: 'a/', suffix: '.jpg' }, { prefix: 'b/', suffix: '.jpg' }, false],
  ])('%j and %j overlap: %s', (a, b, expected) => {
    // Act / Assess
    expect(keyFiltersOverlap(a, b)).toBe(expected);
  });
});

describe('Function: findReplicationLoops', () => {
  it('finds A -> B -> A on whole buckets', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', {}, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', {}, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([[0, 1]]);
  });

  it('finds A -> B -> A when one prefix is a prefix of the other', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'logs/' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', { prefix: 'logs/2024/' }, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([[0, 1]]);
  });

  it('finds no loop when the prefixes are disjoint', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'logs/' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', { prefix: 'images/' }, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([]);
  });

  it('finds no loop when the suffixes are disjoint', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { suffix: '.jpg' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', { suffix: '.pdf' }, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([]);
  });

  it('finds the 3-cycle A -> B -> C -> A once, from its lowest index', () => {
    // Prepare
    const json = configJson(
      edge(EU, 'bucket-b', {}, [AP, 'bucket-c']),
      edge(US, 'bucket-a', {}, [EU, 'bucket-b']),
      edge(AP, 'bucket-c', {}, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([[0, 2, 1]]);
  });

  it('narrows the filter along the path: A("a/") -> B("") -> C("b/") -> D("") -> A is no loop', () => {
    // Prepare: every consecutive pair overlaps, but no key is under both "a/" and "b/".
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'a/' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', {}, [AP, 'bucket-c']),
      edge(AP, 'bucket-c', { prefix: 'b/' }, ['us-west-2', 'bucket-d']),
      edge('us-west-2', 'bucket-d', {}, [US, 'bucket-a']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([]);
  });

  it('finds self-replication into the same bucket', () => {
    // Prepare
    const json = configJson(edge(US, 'bucket-a', { prefix: 'x/' }, [EU, 'bucket-z'], [US, 'bucket-a']));

    // Act / Assess
    expect(loopsOf(json)).toEqual([[0]]);
  });

  it('finds a cycle that does not pass through the first source', () => {
    // Prepare: 0 feeds the 1 <-> 2 cycle without being on it.
    const json = configJson(
      edge(US, 'bucket-a', {}, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', {}, [AP, 'bucket-c']),
      edge(AP, 'bucket-c', {}, [EU, 'bucket-b']),
    );

    // Act / Assess
    expect(loopsOf(json)).toEqual([[1, 2]]);
  });
});

describe('Function: parseReplicationConfig (cross-field rules)', () => {
  it('rejects A -> B -> A with a message that names both sources and the keys that would circulate', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'logs/' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', {}, [US, 'bucket-a']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[0]: replication loop: ' +
        'replication_configuration[0] (s3://bucket-a/logs/, us-east-1) -> ' +
        'replication_configuration[1] (s3://bucket-b/, eu-west-1) -> replication_configuration[0]: ' +
        'objects under "logs/" would be replicated round this cycle forever; ' +
        'make the prefix_filter (or suffix_filter) values disjoint or remove one direction',
    );
  });

  it('rejects a 3-cycle and names all three sources', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', {}, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', {}, [AP, 'bucket-c']),
      edge(AP, 'bucket-c', {}, [US, 'bucket-a']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication loop: replication_configuration[0] (s3://bucket-a/, us-east-1) -> ',
    );
    expect(message).toContain('replication_configuration[1] (s3://bucket-b/, eu-west-1) -> ');
    expect(message).toContain(
      'replication_configuration[2] (s3://bucket-c/, ap-southeast-2) -> replication_configuration[0]',
    );
  });

  it('rejects a source that replicates into its own bucket, at that destination', () => {
    // Prepare
    const json = configJson(edge(US, 'bucket-a', { prefix: 'x/' }, [EU, 'bucket-z'], [US, 'bucket-a']));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[0].destinations[1].bucket: replication loop: ' +
        'replication_configuration[0] (s3://bucket-a/x/, us-east-1) replicates into its own bucket, so objects ' +
        'under "x/" it writes would be picked up and replicated again forever; remove this destination',
    );
  });

  it('accepts two-way replication on disjoint prefixes', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'from-us/' }, [EU, 'bucket-b']),
      edge(EU, 'bucket-b', { prefix: 'from-eu/' }, [US, 'bucket-a']),
    );

    // Act
    const config = parseReplicationConfig(json);

    // Assess
    expect(config.sources).toHaveLength(2);
  });

  it('rejects a duplicate source', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'p/' }, [EU, 'x-1']),
      edge(US, 'bucket-a', { prefix: 'p/' }, [AP, 'x-2']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[1].source: duplicates replication_configuration[0] ' +
        '(s3://bucket-a/p/, us-east-1): same bucket, prefix_filter and suffix_filter; merge their destinations into one entry',
    );
  });

  it('rejects two sources with the same bucket and prefix even when the suffixes differ', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { prefix: 'p/', suffix: '.jpg' }, [EU, 'x-1']),
      edge(US, 'bucket-a', { prefix: 'p/', suffix: '.pdf' }, [EU, 'x-2']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[1].source: has the same bucket and prefix_filter as replication_configuration[0]',
    );
  });

  it('rejects overlapping sources on one bucket that S3 could not tell apart', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', {}, [EU, 'x-1']),
      edge(US, 'bucket-a', { prefix: 'logs/' }, [EU, 'x-2']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[1].source: overlaps replication_configuration[0] (s3://bucket-a/, us-east-1): ' +
        'the prefixes "" and "logs/" overlap and so do the suffixes',
    );
  });

  it('accepts overlapping prefixes on one bucket when the suffixes are disjoint (S3 allows it)', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', { suffix: '.jpg' }, [EU, 'x-1']),
      edge(US, 'bucket-a', { prefix: 'docs/', suffix: '.pdf' }, [EU, 'x-2']),
    );

    // Act / Assess
    expect(parseReplicationConfig(json).sources).toHaveLength(2);
  });

  it('rejects sources whose SQS queue names coincide after sanitising', () => {
    // Prepare: "my.logs" and "my-logs" both become "source-my-logs-".
    const json = configJson(edge(US, 'my.logs', {}, [EU, 'x-1']), edge(US, 'my-logs', {}, [EU, 'x-2']));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[1].source: gets the same SQS queue name "source-my-logs-" as replication_configuration[0] (s3://my.logs/, us-east-1)',
    );
  });

  it('rejects a destination in the source region', () => {
    // Prepare
    const json = configJson(edge(US, 'bucket-a', {}, [US, 'bucket-b']));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[0].destinations[0].region: must differ from the source region us-east-1: ' +
        'baler replicates across regions',
    );
    expect(message).toContain('got "us-east-1"');
  });

  it('rejects a destination bucket listed twice', () => {
    // Prepare
    const json = configJson(edge(US, 'bucket-a', {}, [EU, 'bucket-b'], [EU, 'bucket-b']));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[0].destinations[1].bucket: duplicates replication_configuration[0].destinations[0] (bucket "bucket-b")',
    );
  });

  it('rejects one bucket name given two regions', () => {
    // Prepare
    const json = configJson(
      edge(US, 'bucket-a', {}, [EU, 'bucket-b']),
      edge(US, 'bucket-c', {}, [AP, 'bucket-b']),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[1].destinations[0].region: bucket "bucket-b" is given region ap-southeast-2 here but ' +
        'eu-west-1 at replication_configuration[0].destinations[0]',
    );
  });

  it('rejects a KMS key from another region than its bucket', () => {
    // Prepare
    const arn = 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    const json = configJson(rule(source(), destination({ kms_key_arn: arn })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toBe(
      `replication_config.json: replication_configuration[0].destinations[0].kms_key_arn: must be a key in the bucket's ` +
        `region eu-west-1 (SSE-KMS keys are regional), got a key in us-east-1: "${arn}"`,
    );
  });

  it.each([
    [
      { cpu: 300 },
      'source.cpu: must be a Fargate CPU value (256, 512, 1024, 2048, 4096, 8192, 16384), got 300',
    ],
    [
      { cpu: 256, memory: 4096 },
      'source.memory: memory 4096 MiB is not a Fargate size for cpu 256; allowed: 512, 1024, 2048',
    ],
    [
      { cpu: 4096, memory: 4096 },
      'source.memory: memory 4096 MiB is not a Fargate size for cpu 4096; allowed: 8192 to 30720 in steps of 1024',
    ],
    [{ memory: 1024 }, 'source.memory: memory 1024 MiB is not a Fargate size for cpu 2048'],
  ])('rejects the Fargate size %j', (fields, expected) => {
    // Act
    const message = errorOf(() => parseReplicationConfig(configJson(rule(source(fields)))));

    // Assess
    expect(message).toContain(`replication_configuration[0].${expected}`);
  });

  it.each([
    [256, 512],
    [512, 4096],
    [8192, 61_440],
    [16_384, 122_880],
  ])('accepts the Fargate size cpu %d / memory %d', (cpu, memory) => {
    // Act / Assess
    expect(parseReplicationConfig(configJson(rule(source({ cpu, memory })))).sources[0]?.memoryMiB).toBe(
      memory,
    );
  });

  it('rejects min_capacity above scaling_limit', () => {
    // Act
    const message = errorOf(() =>
      parseReplicationConfig(configJson(rule(source({ scaling_limit: 5, min_capacity: 6 })))),
    );

    // Assess
    expect(message).toContain(
      'replication_configuration[0].source.min_capacity: must be ≤ scaling_limit (5), got 6',
    );
  });

  it('rejects a prefix too long for the outbound archive key', () => {
    // Prepare: 1000 bytes fit an S3 key, but not inside "outbound/{bucket}/{prefix}/{id}.tar.zst".
    const json = configJson(rule(source({ prefix_filter: `${'é'.repeat(500)}/` })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      'replication_configuration[0].source.prefix_filter: is too long: archive keys "outbound/src-bucket/{prefix}/{id}.tar.zst" ' +
        `must fit S3's 1024-byte key limit, which leaves at most 931 bytes (plus a trailing "/") for this bucket's prefix, got 1001 bytes`,
    );
  });
});

describe('Function: parseConfigPair', () => {
  it('returns both files validated and frozen', () => {
    // Act
    const pair = parseConfigPair(configJson(), settingsJson());

    // Assess
    expect(pair.config.sources[0]?.bucket).toBe('src-bucket');
    expect(pair.settings.stackName).toBe('baler-test');
    expect(Object.isFrozen(pair)).toBe(true);
  });

  it('rejects a source region that is not enabled, naming both files', () => {
    // Prepare
    const json = configJson(edge('us-west-2', 'bucket-a', {}, [EU, 'bucket-b']));

    // Act
    const message = errorOf(() => parseConfigPair(json, settingsJson()));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[0].source.region: must be a region enabled in settings.json ' +
        'enabled_regions (us-east-1, eu-west-1, ap-southeast-2), got "us-west-2"',
    );
  });

  it('rejects a destination region enabled without "target"', () => {
    // Prepare
    const settings = settingsJson({
      enabled_regions: [
        { region: US, source_target: ['source'] },
        { region: EU, source_target: ['source'] },
      ],
    });

    // Act
    const message = errorOf(() => parseConfigPair(configJson(), settings));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[0].destinations[0].region: region "eu-west-1" must have ' +
        '"target" in its source_target in settings.json, got ["source"]',
    );
  });

  it('reports the problems of both files together', () => {
    // Prepare
    const config = configJson(rule(source({ bucket: 'Bad' })));
    const settings = settingsJson({ stack_name: 'Bad' });

    // Act
    const message = errorOf(() =>
      parseConfigPair(config, settings, { config: 'a.json', settings: 'b.json' }),
    );

    // Assess
    expect(message).toContain('2 configuration problems:');
    expect(message).toContain(
      'a.json: replication_configuration[0].source.bucket: must be a valid S3 bucket name',
    );
    expect(message).toContain('b.json: stack_name: must start with a lowercase letter');
  });
});
