import { describe, expect, it } from 'vitest';

import { parseReplicationConfig, parseSettings, SOURCE_DEFAULTS } from '../../../src/core/config/index.js';
import { configJson, destination, errorOf, rule, settingsJson, source } from './helpers.js';

describe('Function: parseReplicationConfig', () => {
  it('returns the typed config with the original defaults and the new batch defaults', () => {
    // Prepare
    const json = configJson(
      rule(source({ prefix_filter: 'logs/' }), destination({ storage_class: 'GLACIER_IR' })),
    );

    // Act
    const config = parseReplicationConfig(json);

    // Assess
    expect(config.sources).toHaveLength(1);
    const [s] = config.sources;
    expect(s).toMatchObject({
      index: 0,
      region: 'us-east-1',
      bucket: 'src-bucket',
      kmsKeyArn: undefined,
      prefixFilter: 'logs/',
      suffixFilter: '',
      scalingLimit: 20,
      minCapacity: 0,
      cpuUnits: 2048,
      memoryMiB: 4096,
      ephemeralStorageGiB: 20,
      scalingTargetBacklogPerTask: 60,
      visibilityTimeoutSec: 300,
      maxBatchObjects: 1000,
      maxBatchBytes: 256 * 1024 * 1024,
      maxBatchWaitSec: 20,
    });
    expect(s?.destinations).toEqual([
      {
        region: 'eu-west-1',
        bucket: 'dst-bucket',
        kmsKeyArn: undefined,
        storageClass: 'GLACIER_IR',
        backup: false,
      },
    ]);
    expect(SOURCE_DEFAULTS.maxBatchBytes).toBe(268_435_456);
  });

  it('returns a deeply frozen value', () => {
    // Prepare
    const json = configJson();

    // Act
    const config = parseReplicationConfig(json);

    // Assess
    expect(Object.isFrozen(config)).toBe(true);
    expect(Object.isFrozen(config.sources)).toBe(true);
    expect(Object.isFrozen(config.sources[0]?.destinations[0])).toBe(true);
  });

  it('accepts a file written for the original system unchanged ("" and null for unset, cpu as a string)', () => {
    // Prepare: the quirks the original tolerated: "kms_key_arn": "", null prefixes, str()-ed cpu/memory.
    const json = configJson(
      rule(
        source({
          region: 'us-west-2',
          bucket: 'legacy-source',
          kms_key_arn: '',
          prefix_filter: null,
          suffix_filter: '',
          scaling_limit: 50,
          cpu: '4096',
          memory: '8192',
          ephemeral_storage: 100,
          scaling_target_backlog_per_task: 20,
          visibility_timeout: 1800,
          min_capacity: 1,
        }),
        destination({
          region: 'us-east-1',
          bucket: 'legacy-east',
          kms_key_arn: '',
          storage_class: 'INTELLIGENT_TIERING',
        }),
        destination({ region: 'eu-central-1', bucket: 'legacy-eu', backup: true }),
      ),
    );

    // Act
    const [s] = parseReplicationConfig(json).sources;

    // Assess
    expect(s).toMatchObject({
      kmsKeyArn: undefined,
      prefixFilter: '',
      cpuUnits: 4096,
      memoryMiB: 8192,
      minCapacity: 1,
    });
    expect(s?.destinations.map((d) => [d.kmsKeyArn, d.backup])).toEqual([
      [undefined, false],
      [undefined, true],
    ]);
  });

  it('names the file, the JSON path, what is allowed and the value for an invalid storage class', () => {
    // Prepare
    const json = configJson(
      rule(),
      rule(source({ bucket: 'other-src' }), destination({ storage_class: 'FROZEN' })),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toBe(
      'replication_config.json: replication_configuration[1].destinations[0].storage_class: must be one of ' +
        'STANDARD, INTELLIGENT_TIERING, STANDARD_IA, ONEZONE_IA, GLACIER_IR, GLACIER, DEEP_ARCHIVE, ' +
        'REDUCED_REDUNDANCY, got "FROZEN"',
    );
  });

  it('uses the file name it is given', () => {
    // Act
    const message = errorOf(() => parseReplicationConfig({}, 'conf/prod.json'));

    // Assess
    expect(message).toBe('conf/prod.json: replication_configuration: is required (an array)');
  });

  it.each([
    ['an array at the top', [], 'replication_config.json: must be an object, got an array []'],
    [
      'a string list',
      { replication_configuration: 'x' },
      'replication_configuration: must be an array, got a string "x"',
    ],
    [
      'no destinations',
      configJson({ source: source(), destinations: [] }),
      'replication_configuration[0].destinations: must have at least 1 entry, got []',
    ],
    [
      'no source',
      configJson({ destinations: [destination()] }),
      'replication_configuration[0].source: is required (an object)',
    ],
    [
      'no bucket',
      configJson(rule(source({ bucket: undefined }))),
      'replication_configuration[0].source.bucket: is required (a string)',
    ],
  ])('reports the shape problem: %s', (_name, json, expected) => {
    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(expected);
  });

  it('rejects an unknown field, suggests the nearest one and lists the allowed ones', () => {
    // Prepare
    const json = configJson(rule(source(), destination({ storage_clas: 'STANDARD' })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain('replication_configuration[0].destinations[0]: unknown field "storage_clas"');
    expect(message).toContain('did you mean "storage_class"');
    expect(message).toContain('allowed: region, bucket, kms_key_arn, storage_class, backup');
  });

  it.each([
    ['My_Bucket', 'only a-z, 0-9, "." and "-" are allowed, got "My_Bucket"'],
    ['ab', '3 to 63 characters are allowed (this one has 2), got "ab"'],
    ['a'.repeat(64), '3 to 63 characters are allowed (this one has 64)'],
    ['-bucket', 'it must start and end with a letter or digit'],
    ['my..bucket', 'two adjacent periods are not allowed'],
    ['192.168.5.4', 'it must not look like an IP address'],
    ['xn--bucket', 'the prefix "xn--" is reserved'],
    ['my-bucket-s3alias', 'the suffix "-s3alias" is reserved'],
    ['my bucket', 'only a-z, 0-9, "." and "-" are allowed'],
  ])('rejects the bucket name %j', (bucket, expected) => {
    // Prepare
    const json = configJson(rule(source({ bucket })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain('replication_configuration[0].source.bucket: must be a valid S3 bucket name: ');
    expect(message).toContain(expected);
  });

  it.each(['US-EAST-1', 'us-east', 'useast1', 'moon-base-1', ''])('rejects the region %j', (region) => {
    // Prepare
    const json = configJson(rule(source(), destination({ region })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(
      `replication_configuration[0].destinations[0].region: must be an AWS region code such as "us-east-1", got ${JSON.stringify(region)}`,
    );
  });

  it.each(['us-gov-west-1', 'ap-southeast-2', 'cn-northwest-1', 'eusc-de-east-1', 'il-central-1'])(
    'accepts the region %j',
    (region) => {
      // Prepare
      const json = configJson(rule(source({ region: 'us-east-1' }), destination({ region })));

      // Act
      const config = parseReplicationConfig(json);

      // Assess
      expect(config.sources[0]?.destinations[0]?.region).toBe(region);
    },
  );

  it.each([
    'alias/my-key',
    '1234abcd-12ab-34cd-56ef-1234567890ab',
    'arn:aws:kms:us-east-1:123:key/x',
    'arn:aws:s3:::bucket',
  ])('rejects the KMS key ARN %j', (arn) => {
    // Prepare
    const json = configJson(rule(source({ kms_key_arn: arn })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain('replication_configuration[0].source.kms_key_arn: must be a KMS key ARN');
    expect(message).toContain(`got ${JSON.stringify(arn)}`);
  });

  it.each([
    ['logs/*', 'is a literal key prefix, not a pattern: "*" is not allowed, got "logs/*"'],
    ['logs/\u0007', 'must not contain control characters'],
    ['x'.repeat(1025), 'must be at most 1024 bytes of UTF-8, got 1025 bytes'],
  ])('rejects the prefix_filter %j', (prefix, expected) => {
    // Prepare
    const json = configJson(rule(source({ prefix_filter: prefix })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(`replication_configuration[0].source.prefix_filter: ${expected}`);
  });

  it('rejects a wildcard suffix_filter', () => {
    // Act
    const message = errorOf(() =>
      parseReplicationConfig(configJson(rule(source({ suffix_filter: '*.jpg' })))),
    );

    // Assess
    expect(message).toContain('source.suffix_filter: is a literal key suffix, not a pattern');
  });

  it('accepts prefixes that are data, not paths: unicode, spaces, "..", "//", a leading "/"', () => {
    // Prepare
    const prefixes = ['café photos/2024 Q1/', '../up/', 'a//b/', '/leading/', '日本/😀/'];

    // Act
    const parsed = prefixes.map((p) =>
      parseReplicationConfig(configJson(rule(source({ prefix_filter: p })))),
    );

    // Assess
    expect(parsed.map((c) => c.sources[0]?.prefixFilter)).toEqual(prefixes);
  });

  it.each([
    ['scaling_limit', 0, 'must be between 1 and 1000 tasks, got 0'],
    ['scaling_limit', 1.5, 'must be a whole number, got 1.5'],
    ['scaling_limit', '20', 'must be a number, got a string "20"'],
    ['min_capacity', -1, 'must be between 0 and 1000 tasks, got -1'],
    ['ephemeral_storage', 201, 'must be between 0 and 200 GiB, got 201'],
    ['scaling_target_backlog_per_task', 0, 'must be between 1 and 9007199254740991 messages, got 0'],
    ['visibility_timeout', 43_201, 'must be between 1 and 43200 seconds, got 43201'],
    ['visibility_timeout', 0, 'must be between 1 and 43200 seconds, got 0'],
    ['max_batch_objects', 0, 'must be between 1 and 100000 objects, got 0'],
    ['max_batch_bytes', -5, 'must be between 1 and 5497558138880 bytes, got -5'],
    ['max_batch_wait_seconds', 901, 'must be between 0 and 900 seconds, got 901'],
    ['cpu', 'lots', 'must be a number, got a string "lots"'],
    ['memory', true, 'must be a number, got a boolean true'],
  ])('rejects %s = %j', (field, value, expected) => {
    // Prepare
    const json = configJson(rule(source({ [field]: value })));

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    expect(message).toContain(`replication_configuration[0].source.${field}: ${expected}`);
  });

  it('rejects a non-boolean backup', () => {
    // Act
    const message = errorOf(() =>
      parseReplicationConfig(configJson(rule(source(), destination({ backup: 'yes' })))),
    );

    // Assess
    expect(message).toContain(
      'replication_configuration[0].destinations[0].backup: must be true or false, got a string "yes"',
    );
  });

  it('reports every problem at once, one per line', () => {
    // Prepare
    const json = configJson(
      rule(source({ bucket: 'BAD', region: 'nowhere' }), destination({ storage_class: 'X' })),
    );

    // Act
    const message = errorOf(() => parseReplicationConfig(json));

    // Assess
    const lines = message.split('\n');
    expect(lines[0]).toBe('3 configuration problems:');
    expect(lines.slice(1).map((l) => l.split(': ')[1])).toEqual([
      'replication_configuration[0].source.region',
      'replication_configuration[0].source.bucket',
      'replication_configuration[0].destinations[0].storage_class',
    ]);
  });
});

describe('Function: parseSettings', () => {
  it('returns typed settings with defaults for tags and notification_emails', () => {
    // Prepare
    const json = {
      stack_name: 's3-compressor',
      enabled_regions: [{ region: 'us-east-1', source_target: ['source'] }],
    };

    // Act
    const settings = parseSettings(json);

    // Assess
    expect(settings).toEqual({
      stackName: 's3-compressor',
      enabledRegions: [
        { region: 'us-east-1', vpcCidr: undefined, sourceTarget: ['source'], availabilityZones: undefined },
      ],
      tags: {},
      notificationEmails: [],
    });
    expect(Object.isFrozen(settings.enabledRegions[0]?.sourceTarget)).toBe(true);
  });

  it('reads the cost model prices, and refuses negative or non-numeric ones naming the field', () => {
    // Act
    const settings = parseSettings(
      settingsJson({ data_transfer_cost: 0.09, fargate_cost_per_minute: 0.0002 }),
    );
    const negative = errorOf(() => parseSettings(settingsJson({ data_transfer_cost: -1 })));
    const text = errorOf(() => parseSettings(settingsJson({ fargate_cost_per_minute: '0.1' })));

    // Assess
    expect(settings).toMatchObject({ dataTransferCost: 0.09, fargateCostPerMinute: 0.0002 });
    expect(parseSettings(settingsJson({}))).not.toHaveProperty('dataTransferCost');
    expect(negative).toContain('data_transfer_cost');
    expect(text).toContain('fargate_cost_per_minute');
  });

  it('reads every field of a full file', () => {
    // Act
    const settings = parseSettings(
      settingsJson({ tags: { 'Cost Center': 'R+D 42', Équipe: 'données' }, notification_emails: ['a@b.io'] }),
    );

    // Assess
    expect(
      settings.enabledRegions.map((r) => [r.region, r.vpcCidr, r.sourceTarget, r.availabilityZones]),
    ).toEqual([
      ['us-east-1', '10.0.0.0/16', ['source', 'target'], 3],
      ['eu-west-1', '10.1.0.0/16', ['source', 'target'], 3],
      ['ap-southeast-2', '10.2.0.0/16', ['source', 'target'], 3],
    ]);
    expect(settings.tags).toEqual({ 'Cost Center': 'R+D 42', Équipe: 'données' });
    expect(settings.notificationEmails).toEqual(['a@b.io']);
  });

  it.each([
    [{ stack_name: undefined }, 'settings.json: stack_name: is required (a string)'],
    [
      { stack_name: 'My_Stack' },
      'stack_name: must start with a lowercase letter and contain only a-z, 0-9 and single "-"',
    ],
    [{ stack_name: 'stack-' }, 'got "stack-"'],
    [{ enabled_regions: [] }, 'enabled_regions: must have at least 1 entry, got []'],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['both'] }] },
      'enabled_regions[0].source_target[0]: must be one of source, target, got "both"',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: [] }] },
      'enabled_regions[0].source_target: must have at least 1 entry',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source', 'source'] }] },
      'enabled_regions[0].source_target: must not repeat a role',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source'], vpc_cidr: '10.0.0.0/8' }] },
      'enabled_regions[0].vpc_cidr: must have a netmask between /16 and /28',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source'], vpc_cidr: '10.0.0.1/16' }] },
      'did you mean "10.0.0.0/16"?',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source'], vpc_cidr: '10.0.0/16' }] },
      'must be an IPv4 CIDR block',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source'], availability_zones: 7 }] },
      'enabled_regions[0].availability_zones: must be between 1 and 6 zones, got 7',
    ],
    [
      { enabled_regions: [{ region: 'us-east-1', source_target: ['source'], zones: 2 }] },
      'enabled_regions[0]: unknown field "zones"',
    ],
    [{ tags: { 'aws:owner': 'me' } }, 'tags["aws:owner"]: tag keys must not start with the reserved "aws:"'],
    [{ tags: { Project: 'x'.repeat(257) } }, 'tags.Project: tag values must be at most 256 characters'],
    [
      { tags: { Project: 'R&D' } },
      'tags.Project: tag values may contain only letters, digits, spaces and _ . : / = + - @, got "R&D"',
    ],
    [{ tags: { Project: 7 } }, 'tags.Project: must be a string, got an integer 7'],
    [{ tags: [] }, 'tags: must be an object, got an array []'],
    [
      { notification_emails: ['not-an-email'] },
      'notification_emails[0]: must be an e-mail address such as "ops@example.com", got "not-an-email"',
    ],
    [{ notification_email: [] }, '(root)'],
  ])('rejects %j', (overrides, expected) => {
    // Act
    const message = errorOf(() => parseSettings(settingsJson(overrides)));

    // Assess
    if (expected === '(root)')
      expect(message).toContain(
        'settings.json: unknown field "notification_email" (did you mean "notification_emails"',
      );
    else expect(message).toContain(expected);
  });

  it('rejects a region enabled twice', () => {
    // Prepare
    const json = settingsJson({
      enabled_regions: [
        { region: 'us-east-1', source_target: ['source'] },
        { region: 'us-east-1', source_target: ['target'] },
      ],
    });

    // Act
    const message = errorOf(() => parseSettings(json));

    // Assess
    expect(message).toBe(
      'settings.json: enabled_regions[1].region: duplicates enabled_regions[0] ("us-east-1"); list each region once with all its roles in source_target',
    );
  });

  it('rejects more than 50 tags', () => {
    // Prepare
    const tags = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v']));

    // Act
    const message = errorOf(() => parseSettings(settingsJson({ tags })));

    // Assess
    expect(message).toContain('tags: must have at most 50 tags, got 51');
  });
});
