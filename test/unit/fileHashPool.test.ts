import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileHashPool } from '../../src/core/fileHashPool.js';

describe('Class: FileHashPool', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'baler-hashpool-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('computes the same digests as crypto, for more files than threads at once', async () => {
    const pool = new FileHashPool(2);
    try {
      const files = await Promise.all(
        Array.from({ length: 7 }, async (_, i) => {
          const body = randomBytes(i * 300_000 + 1);
          const file = path.join(dir, `f${i}`);
          await writeFile(file, body);
          return { file, md5: createHash('md5').update(body).digest('hex') };
        }),
      );
      const got = await Promise.all(files.map((f) => pool.digest(f.file, 'md5')));
      expect(got).toEqual(files.map((f) => f.md5));
      await writeFile(path.join(dir, 'empty'), '');
      expect(await pool.digest(path.join(dir, 'empty'), 'sha256')).toBe(createHash('sha256').digest('hex'));
    } finally {
      await pool.close();
    }
  });

  it('rejects a missing file with its error code, and keeps working after it', async () => {
    const pool = new FileHashPool(1);
    try {
      await expect(pool.digest(path.join(dir, 'nope'), 'md5')).rejects.toMatchObject({ code: 'ENOENT' });
      await writeFile(path.join(dir, 'after'), 'x');
      expect(await pool.digest(path.join(dir, 'after'), 'md5')).toBe(
        createHash('md5').update('x').digest('hex'),
      );
    } finally {
      await pool.close();
    }
  });

  it('rejects work after close', async () => {
    const pool = new FileHashPool(1);
    await pool.close();
    await expect(pool.digest(path.join(dir, 'after'), 'md5')).rejects.toThrow(/closed/);
  });
});
