/**
 * The worker image's contract, read from the Dockerfile (no container engine here; CI lints it with
 * dockerfilelint and runs `npm ci --omit=dev` + the CLI in a clean copy: scripts/check-prod-install.sh).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';

import { describe, expect, it } from 'vitest';

import { REPO_ROOT } from './helpers.js';

const dockerfile = readFileSync(path.join(REPO_ROOT, 'Dockerfile'), 'utf8');
const stages = dockerfile.split(/^(?=FROM )/m).filter((s) => s.startsWith('FROM '));
const runtime = stages.at(-1) ?? '';

describe('Dockerfile', () => {
  it('builds in stages from a Node.js LTS slim image', () => {
    expect(stages.length).toBeGreaterThanOrEqual(3);
    for (const s of stages) {
      const m = /^FROM node:(\d+)-[a-z]+-slim\b/.exec(s);
      expect(m, s.split('\n')[0]).not.toBeNull();
      expect(Number(m?.[1]) % 2, 'even Node.js majors are the LTS lines').toBe(0);
    }
  });

  it('installs production dependencies only, with npm ci from the lock file, for the runtime', () => {
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/COPY --from=deps \/app\/node_modules/);
    expect(runtime).toMatch(/COPY --from=build \/app\/dist/);
    expect(runtime).not.toMatch(/npm (ci|install)|apt-get|g\+\+/);
  });

  it('runs baler as a non-root user, the command picking the role', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/^ENTRYPOINT \["baler"\]$/m);
    expect(runtime).toMatch(/ln -s \/app\/dist\/cli\.js \/usr\/local\/bin\/baler/);
  });

  it('keeps the build context to what the image needs', () => {
    const ignore = readFileSync(path.join(REPO_ROOT, '.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^\*$/m);
    for (const kept of ['package.json', 'package-lock.json', 'src/**']) expect(ignore).toContain(`!${kept}`);
  });
});
