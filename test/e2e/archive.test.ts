import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { objectBytes, packToBuffer, sha256 } from '../fixtures/archive/index.js';

const exec = promisify(execFile);
const root = path.resolve(import.meta.dirname, '../..');
const cli = path.join(root, 'dist', 'cli.js');

async function baler(...args: string[]): Promise<{ stdout: string; stderr: string; code: number }> {
  const env = { ...process.env, BALER_NO_LOCAL_ENV: '1' };
  try {
    return { ...(await exec(process.execPath, [cli, ...args], { env })), code: 0 };
  } catch (e: unknown) {
    const err = e as { stdout: string; stderr: string; code: number };
    return { stdout: err.stdout, stderr: err.stderr, code: err.code };
  }
}

describe('Command: baler inspect / baler unpack (local files)', () => {
  it('inspects a packed archive and unpacks it by relative key', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-archive-e2e-'));
    const specs = [
      { key: 'logs/a b+c.json', relativeKey: 'a b+c.json', body: objectBytes(1, 5000) },
      { key: 'logs/ü/日本.txt', relativeKey: 'ü/日本.txt', body: objectBytes(2, 0) },
    ];
    const { archive } = await packToBuffer(specs, { monitoredPrefix: 'logs/' });
    const file = path.join(dir, 'a.tar.zst');
    await writeFile(file, archive);
    // Act
    const inspected = await baler('inspect', file, '--json');
    const text = await baler('inspect', file);
    const unpacked = await baler('unpack', file, path.join(dir, 'out'));
    // Assess
    expect(inspected.code).toBe(0);
    const json = JSON.parse(inspected.stdout) as {
      objects: number;
      manifest: { objects: { key: string }[] };
    };
    expect(json.objects).toBe(2);
    expect(json.manifest.objects.map((o) => o.key)).toEqual(specs.map((s) => s.key));
    expect(text.stdout).toContain('"logs/a b+c.json"');
    expect(unpacked.code).toBe(0);
    expect(sha256(await readFile(path.join(dir, 'out', 'a b+c.json')))).toBe(
      sha256(specs[0]?.body ?? Buffer.alloc(0)),
    );
    expect((await readFile(path.join(dir, 'out', 'ü', '日本.txt'))).length).toBe(0);
  });

  it('reports keys that are unsafe as paths, writes nothing outside DIR, exits 1', async () => {
    // Prepare
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-archive-e2e-'));
    const { archive } = await packToBuffer([
      { key: 'ok.txt', body: objectBytes(3, 10) },
      { key: '../../escape.txt', body: objectBytes(4, 10) },
    ]);
    const file = path.join(dir, 'evil.tar.zst');
    await writeFile(file, archive);
    // Act
    const r = await baler('unpack', file, path.join(dir, 'out'));
    // Assess
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/rejected "..\/..\/escape.txt"/);
    expect((await readdir(dir)).sort()).toEqual(['evil.tar.zst', 'out']);
    expect(await readdir(path.join(dir, 'out'))).toContain('ok.txt');
  });

  it('fails with a clear error on a corrupt archive', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'baler-archive-e2e-'));
    const file = path.join(dir, 'junk.tar.zst');
    await writeFile(file, Buffer.from('this is not zstd at all'));
    const r = await baler('inspect', file);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^baler: .*zstd/im);
  });
});
