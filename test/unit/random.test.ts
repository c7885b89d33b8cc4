import { describe, expect, it } from 'vitest';
import { seededRandom } from '../../src/core/random.js';

describe('Function: seededRandom', () => {
  it('repeats its sequence for a seed and differs between seeds', () => {
    const a = Array.from({ length: 1000 }, seededRandom(7));
    const b = Array.from({ length: 1000 }, seededRandom(7));
    const c = Array.from({ length: 1000 }, seededRandom(8));
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    expect(a.every((x) => x >= 0 && x < 1)).toBe(true);
    expect(new Set(a).size).toBeGreaterThan(990);
  });
});
