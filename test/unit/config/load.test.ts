import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfigFiles, parseJsonText, sourceQueueName } from '../../../src/core/config/index.js';
import { asyncErrorOf, configJson, errorOf, settingsJson } from './helpers.js';

const EXAMPLES = join(import.meta.dirname, '../../../examples');

describe('Function: loadConfigFiles', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baler-config-'));
  });
  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  const write = (name: string, text: string): string => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };

  it('loads the examples/ pair', async () => {
    // Act
    const { config, settings } = await loadConfigFiles(
      join(EXAMPLES, 'replication_config.json'),
      join(EXAMPLES, 'settings.json'),
    );

    // Assess
    expect(settings.stackName).toBe('baler-example');
    expect(config.sources.map((s) => [s.region, s.bucket, s.prefixFilter])).toEqual([
      ['us-east-1', 'example-analytics-raw', 'events/'],
      ['us-east-1', 'example-media-uploads', ''],
    ]);
    const regions = new Set(config.sources.flatMap((s) => s.destinations.map((d) => d.region)));
    expect([...regions].sort()).toEqual(['ap-southeast-2', 'eu-west-1']);
    const archive = config.sources[0]?.destinations[1];
    expect(archive?.storageClass).toBe('GLACIER_IR');
    expect(archive?.kmsKeyArn).toMatch(/^arn:aws:kms:ap-southeast-2:/);
    expect(config.sources.map((s) => sourceQueueName(s.bucket, s.prefixFilter))).toEqual([
      'source-example-analytics-raw-events-',
      'source-example-media-uploads-',
    ]);
    expect(Object.isFrozen(config.sources[1]?.destinations)).toBe(true);
  });

  it('names the file as given when it is missing', async () => {
    // Prepare
    const settings = write('settings.json', JSON.stringify(settingsJson()));

    // Act
    const message = await asyncErrorOf(() => loadConfigFiles(join(dir, 'nope.json'), settings));

    // Assess
    expect(message).toBe(`${join(dir, 'nope.json')}: cannot read the file: no such file`);
  });

  it('reports a JSON syntax error with the file name', async () => {
    // Prepare
    const config = write('bad.json', '{\n  "replication_configuration": [\n    {,}\n  ]\n}\n');
    const settings = write('settings.json', JSON.stringify(settingsJson()));

    // Act
    const message = await asyncErrorOf(() => loadConfigFiles(config, settings));

    // Assess
    expect(message.startsWith(`${config}: is not valid JSON`)).toBe(true);
  });

  it('names the file and JSON path of a rule broken in either file', async () => {
    // Prepare
    const config = write('rc.json', JSON.stringify(configJson()));
    const settings = write('st.json', JSON.stringify(settingsJson({ stack_name: 'UPPER' })));

    // Act
    const message = await asyncErrorOf(() => loadConfigFiles(config, settings));

    // Assess
    expect(message).toContain(`${settings}: stack_name: must start with a lowercase letter`);
  });

  it('ignores a byte-order mark', async () => {
    // Prepare
    const config = write('bom.json', `\uFEFF${JSON.stringify(configJson())}`);
    const settings = write('settings.json', JSON.stringify(settingsJson()));

    // Act
    const { config: loaded } = await loadConfigFiles(config, settings);

    // Assess
    expect(loaded.sources).toHaveLength(1);
  });
});

describe('Function: parseJsonText', () => {
  it('gives the line and column when the engine reports an offset', () => {
    // Act
    const message = errorOf(() => parseJsonText('{\n  "a": 1,\n  "b": 2 "c"\n}', 'x.json'));

    // Assess
    expect(message).toMatch(/^x\.json: is not valid JSON/);
    expect(message).toMatch(/line 3/);
  });
});
