import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStackError } from '../../src/core/errors.js';
import { run, withLogTail } from '../../src/local/process.js';

describe('Function: withLogTail (why a background daemon failed)', () => {
  let dir = '';
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'baler-logtail-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it("adds the last lines of the daemon's log to the error, keeping the original as its cause", async () => {
    // Prepare
    const log = path.join(dir, 'mon.a.log');
    const lines = Array.from({ length: 20 }, (_, i) => `line ${i}`);
    lines.push('unable to bind to v2:127.0.0.1:13300: (98) Address already in use', '');
    await writeFile(log, lines.join('\n'));
    const original = await run('false', []).catch((e: unknown) => e);
    // Act
    const err = await withLogTail(original, log, 3);
    // Assess
    expect(err).toBeInstanceOf(LocalStackError);
    expect(err.message).toContain('false  failed');
    expect(err.message).toContain(
      `(last lines of ${log}: line 18 | line 19 | unable to bind to v2:127.0.0.1:13300: (98) Address already in use)`,
    );
    expect(err.message).not.toContain('line 17');
    expect(err.cause).toBe(original);
  });

  it('returns the error unchanged when the log is missing or empty', async () => {
    // Prepare
    const original = new LocalStackError('ceph-mon -i a failed');
    await writeFile(path.join(dir, 'empty.log'), '\n');
    // Act
    const missing = await withLogTail(original, path.join(dir, 'nope.log'));
    const empty = await withLogTail(original, path.join(dir, 'empty.log'));
    // Assess
    expect(missing).toBe(original);
    expect(empty).toBe(original);
  });
});
