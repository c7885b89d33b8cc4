import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { root, runCli } from '../runCli.js';

async function baler(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, BALER_NO_LOCAL_ENV: '1', BALER_HOME: path.join(root, '.baler-e2e-none') };
  return runCli(args, env);
}

describe('Command: baler convert (built CLI)', () => {
  it('documents its options, formats, exit codes and an example', async () => {
    const r = await baler('convert', '--help');
    expect(r.code).toBe(0);
    for (const text of [
      'Usage: baler convert [options] <input> <output>',
      '--to <formats>',
      '--parquet-codec <codec>',
      '--avro-codec <codec>',
      '--schema <file>',
      '--max-reject-ratio <ratio>',
      '--files-in-flight <n>',
      '--duckdb-memory-mib <n>',
      '--queue <url>',
      '--until-idle <seconds>',
      'Exit code 0',
      'baler convert s3://',
    ]) {
      expect(r.stdout).toContain(text);
    }
  });

  it.each([
    [
      ['convert', 's3://in-bucket', 's3://out-bucket', '--to', 'csv'],
      /--to takes parquet, avro or parquet,avro, got csv/,
    ],
    [
      ['convert', 's3://in-bucket', 's3://out-bucket', '--avro-codec', 'lz4'],
      /Allowed choices are snappy, deflate, null/,
    ],
    [
      ['convert', 's3://in-bucket', 's3://out-bucket', '--max-reject-ratio', '1.5'],
      /must be within 0\.\.1, got 1\.5/,
    ],
    [
      ['convert', 's3://in-bucket', 's3://out-bucket', '--delimiter', ';;'],
      /--delimiter must be one character/,
    ],
    [['convert', 'in-bucket', 's3://out-bucket'], /expected an s3:\/\/bucket\/key URL/],
    [['convert', 's3://in-bucket', 's3://out-bucket', '--until-idle', '5'], /--until-idle needs --queue/],
    [
      ['convert', 's3://in-bucket', 's3://out-bucket', '--schema', '/nonexistent.json'],
      /--schema \/nonexistent\.json/,
    ],
  ])('exits 2 on a usage error: %j', async (args, message) => {
    const r = await baler(...args);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
  });
});
