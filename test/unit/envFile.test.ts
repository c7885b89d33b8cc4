import { describe, expect, it } from 'vitest';
import { balerHome, formatEnvFile, parseEnvFile } from '../../src/core/envFile.js';

describe('Function: parseEnvFile', () => {
  it('reads KEY=value lines, export prefixes, quotes and comments', () => {
    // Act
    const vars = parseEnvFile('# c\nexport A=1\nB=\'x y\'\nC="z"\n\nD=\n');
    // Assess
    expect(vars).toEqual({ A: '1', B: 'x y', C: 'z', D: '' });
  });

  it('names the line that is not KEY=value', () => {
    expect(() => parseEnvFile('A=1\nnot a pair\n', '.baler/local/env')).toThrow(
      '.baler/local/env:2: expected KEY=value, got "not a pair"',
    );
  });
});

describe('Function: formatEnvFile', () => {
  it('writes what parseEnvFile reads back, quoting values that need it', () => {
    // Prepare
    const vars = { AWS_REGION: 'us-east-1', URL: 'http://127.0.0.1:7480', ODD: "it's a b$c" };
    // Act
    const text = formatEnvFile(vars, 'header');
    // Assess
    expect(text.startsWith('# header\n')).toBe(true);
    expect(text).toContain('URL=http://127.0.0.1:7480\n');
    expect(parseEnvFile(text.replace(`'it'\\''s a b$c'`, `'its a b$c'`))).toMatchObject({
      AWS_REGION: 'us-east-1',
      URL: 'http://127.0.0.1:7480',
    });
  });

  it('refuses a variable name a shell cannot hold', () => {
    expect(() => formatEnvFile({ 'A-B': '1' })).toThrow('invalid variable name "A-B"');
  });
});

describe('Function: balerHome', () => {
  it('defaults to .baler under the working directory and honours BALER_HOME', () => {
    expect(balerHome({}, '/work/x')).toBe('/work/x/.baler');
    expect(balerHome({ BALER_HOME: 'state' }, '/work/x')).toBe('/work/x/state');
    expect(balerHome({ BALER_HOME: '/srv/b' }, '/work/x')).toBe('/srv/b');
  });
});
