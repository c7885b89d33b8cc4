import { describe, expect, it } from 'vitest';
import { buildProgram, commandNameIn } from '../../src/cli/program.js';

describe('commandNameIn', () => {
  it('finds the command after global options and their values', () => {
    expect(commandNameIn(['node', 'baler', 'soak', 's3://b/p', 'dir'])).toBe('soak');
    expect(commandNameIn(['node', 'baler', '--log-level', 'debug', 'source', '--all'])).toBe('source');
    expect(commandNameIn(['node', 'baler', '--no-local-env', 'local', 'up'])).toBe('local');
  });

  it('finds none for --help, --version or no arguments', () => {
    expect(commandNameIn(['node', 'baler', '--help'])).toBeUndefined();
    expect(commandNameIn(['node', 'baler', '--log-level', 'warn'])).toBeUndefined();
    expect(commandNameIn(['node', 'baler'])).toBeUndefined();
  });
});

describe('buildProgram', () => {
  const names = async (argv: string[]) =>
    (await buildProgram(new AbortController(), argv)).commands.map((c) => c.name());

  it('loads only the module of the command being run', async () => {
    expect(await names(['node', 'baler', 'soak', '--help'])).toEqual(['soak']);
    expect(await names(['node', 'baler', 'target'])).toEqual(['source', 'target']);
  });

  it('loads every command for --help and for an unknown command (so the error can list them)', async () => {
    const all = await names(['node', 'baler', '--help']);
    for (const c of [
      'source',
      'target',
      'inspect',
      'unpack',
      'backfill',
      'tuning',
      'estimate',
      'convert',
      'soak',
      'local',
      'demo',
    ]) {
      expect(all).toContain(c);
    }
    expect(await names(['node', 'baler', 'nosuch'])).toEqual(all);
  });
});
