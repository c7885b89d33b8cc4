import { rm } from 'node:fs/promises';

/**
 * Global teardown: remove the run's temporary directory. vitest.config.ts makes it and points the tests'
 * TMPDIR at it, so every file a test (or a CLI it runs) puts in `os.tmpdir()` goes when the run ends.
 */
export async function teardown(): Promise<void> {
  const dir = process.env['BALER_TEST_TMPDIR'];
  if (dir) await rm(dir, { recursive: true, force: true });
}
