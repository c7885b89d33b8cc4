import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  progressLine,
  RateMeter,
  resolveProgressMode,
  startProgress,
  type ProgressState,
} from '../../src/core/progress.js';

const state = (over: Partial<ProgressState> = {}): ProgressState => ({
  objects: 0,
  bytes: 0,
  totalFinal: false,
  failed: 0,
  skipped: 0,
  ...over,
});

/** A writable that collects text and can pretend to be a terminal. */
function sink(isTTY: boolean): NodeJS.WriteStream & { text: () => string } {
  const s = new PassThrough();
  let text = '';
  s.on('data', (c: Buffer) => (text += c.toString()));
  return Object.assign(s, {
    isTTY,
    columns: 160,
    text: () => text,
    cursorTo: () => true,
    clearLine: () => true,
    moveCursor: () => true,
    getWindowSize: () => [160, 40],
  }) as unknown as NodeJS.WriteStream & { text: () => string };
}

describe('RateMeter', () => {
  it('measures over the window and forgets older samples', () => {
    const m = new RateMeter(1000);
    expect(m.rate()).toBe(0);
    m.sample(0, 0);
    m.sample(500, 1000);
    expect(m.rate()).toBe(2000);
    m.sample(5000, 1000); // idle for 4.5 s: only the last window counts
    m.sample(6000, 1000);
    expect(m.rate()).toBe(0);
  });
});

describe('progressLine', () => {
  it('gives an ETA only once the totals are final and a rate is known', () => {
    const growing = progressLine('soak', state({ bytes: 10, bytesTotal: 100 }), 1000, 10);
    expect(growing.etaSec).toBeNull();
    const final = progressLine('soak', state({ bytes: 10, bytesTotal: 100, totalFinal: true }), 1000, 10);
    expect(final.etaSec).toBe(9);
    expect(progressLine('soak', state({ bytesTotal: 100, totalFinal: true }), 1000, 0).etaSec).toBeNull();
    expect(final).toMatchObject({ event: 'progress', label: 'soak', elapsedSec: 1, objectsTotal: null });
  });
});

describe('formatBytes', () => {
  it('uses binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.5 KiB');
    expect(formatBytes(3 * 1024 ** 3)).toBe('3.0 GiB');
  });
});

describe('startProgress', () => {
  it('picks a bar on a TTY and JSON lines elsewhere', () => {
    expect(resolveProgressMode('auto', { isTTY: true })).toBe('bar');
    expect(resolveProgressMode('auto', {})).toBe('json');
    expect(resolveProgressMode('none', { isTTY: true })).toBe('none');
  });

  it('writes JSON lines with the state read at each interval, and a last one on stop', async () => {
    const out = sink(false);
    let s = state({ objects: 1, bytes: 100, objectsTotal: 3, bytesTotal: 300 });
    const p = startProgress({ label: 'test', read: () => s, out, intervalMs: 20 });
    await new Promise((r) => setTimeout(r, 70));
    s = state({ objects: 3, bytes: 300, objectsTotal: 3, bytesTotal: 300, totalFinal: true, failed: 1 });
    p.stop();
    p.stop();
    const lines = out
      .text()
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ event: 'progress', label: 'test', objects: 1, bytes: 100 });
    expect(lines.at(-1)).toMatchObject({ objects: 3, bytes: 300, totalFinal: true, failed: 1 });
  });

  it('draws a bar with counts and problems on a TTY', () => {
    const out = sink(true);
    const s = state({ objects: 2, bytes: 2048, objectsTotal: 4, bytesTotal: 4096, failed: 1 });
    const p = startProgress({ label: 'soak', read: () => s, out, mode: 'bar' });
    p.stop();
    expect(out.text()).toContain('soak');
    expect(out.text()).toContain('2/4+ objects');
    expect(out.text()).toContain('1 failed');
  });

  it('prints nothing in none mode', () => {
    const out = sink(true);
    startProgress({ label: 'x', read: () => state(), out, mode: 'none' }).stop();
    expect(out.text()).toBe('');
  });
});
