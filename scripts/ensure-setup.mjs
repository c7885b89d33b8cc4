// Runs before `npm start` and `npm test`: install dependencies when they are missing or older than
// package-lock.json, then build dist/ (the local stack starts its services from the built CLI).
import { execFileSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const marker = 'node_modules/.package-lock.json';
const stale = !existsSync(marker) || statSync(marker).mtimeMs < statSync('package-lock.json').mtimeMs;
if (stale) {
  console.error('[setup] installing dependencies (npm ci)');
  execFileSync(npm, ['ci', '--no-audit', '--no-fund'], { stdio: 'inherit' });
}
execFileSync(npm, ['run', '--silent', 'build'], { stdio: 'inherit' });
