import { describe, expect, it } from 'vitest';
import { summaryText } from '../../src/cli/soak.js';
import { describeFailure, md5FromEtag, type SoakFailure, type SoakSummary } from '../../src/soak/soaker.js';

const MiB = 1024 * 1024;

function summary(extra: Partial<SoakSummary> = {}): SoakSummary {
  return {
    bucket: 'b',
    prefix: 'exports/',
    destDir: '/data/exports',
    dryRun: false,
    seconds: 12.345,
    objects: 1234,
    bytes: 1536 * MiB,
    bytesResumed: 0,
    mibPerSec: 124.4,
    listed: 1300,
    excluded: 50,
    skipped: { upToDate: 7, directoryMarkers: 3, gone: 2, unsafe: 0 },
    failed: 0,
    retries: 11,
    throttles: 4,
    peakConcurrency: 36,
    failures: [],
    ...extra,
  };
}

const failure = (i: number, kind: SoakFailure['kind'] = 'failed'): SoakFailure => ({
  key: `dir/file-${i}.bin`,
  reason: `GetObject: Access Denied (HTTP 403)`,
  kind,
});

describe('Function: summaryText', () => {
  it('states the counts, bytes, speed, destination and peak concurrency', () => {
    const text = summaryText(summary());
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe('1234 objects, 1.5 GiB in 12.3 s (124.4 MiB/s) to /data/exports');
    expect(lines[1]).toBe(
      'skipped: 7 up to date, 3 directory markers, 2 gone since listed, 0 unsafe keys; 50 excluded by filters/shard',
    );
    expect(lines[2]).toBe('failed: 0; retries: 11 (4 throttled or connection errors); peak concurrency: 36');
    expect(text.endsWith('\n')).toBe(true);
  });

  it('marks a dry run', () => {
    expect(summaryText(summary({ dryRun: true }))).toMatch(/^dry run: 1234 objects/);
    expect(summaryText(summary())).not.toMatch(/dry run/);
  });

  it('mentions bytes resumed only when there were some', () => {
    expect(summaryText(summary({ bytesResumed: 3 * MiB }))).toMatch(/; resumed 3\.0 MiB already on disk\n/);
    expect(summaryText(summary())).not.toMatch(/resumed/);
  });

  it('lists each failure and unsafe key with its kind, quoted key and reason', () => {
    const failures = [
      failure(1),
      { key: '../etc/passwd', reason: 'path segment ".."', kind: 'unsafe' as const },
      { key: 'a "quoted"\nkey', reason: 'boom', kind: 'failed' as const },
    ];
    const text = summaryText(summary({ failed: 2, skipped: { ...summary().skipped, unsafe: 1 }, failures }));
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(3)).toEqual([
      '  failed: "dir/file-1.bin": GetObject: Access Denied (HTTP 403)',
      '  unsafe: "../etc/passwd": path segment ".."',
      '  failed: "a \\"quoted\\"\\nkey": boom',
    ]);
    expect(text).toMatch(/^failed: 2;/m);
    expect(text).toMatch(/1 unsafe keys/);
    expect(text).not.toMatch(/more \(see the log\)/);
  });

  it('says how many more failures there are than are listed', () => {
    const failures = Array.from({ length: 5 }, (_, i) => failure(i));
    const text = summaryText(
      summary({ failed: 1500, skipped: { ...summary().skipped, unsafe: 20 }, failures }),
    );
    const lines = text.trimEnd().split('\n');
    expect(lines.filter((l) => l.startsWith('  failed: '))).toHaveLength(5);
    // 1500 failed + 20 unsafe − 5 listed.
    expect(lines.at(-1)).toBe('  … and 1515 more (see the log)');
  });

  it('formats small byte counts and durations', () => {
    const text = summaryText(summary({ objects: 1, bytes: 10, seconds: 0.04, mibPerSec: 0 }));
    expect(text.split('\n')[0]).toBe('1 objects, 10 B in 0.0 s (0 MiB/s) to /data/exports');
  });
});

describe('Function: md5FromEtag', () => {
  it.each([
    ['"9b2cf535f27731c974343645a3985328"', '9b2cf535f27731c974343645a3985328'],
    ['9b2cf535f27731c974343645a3985328', '9b2cf535f27731c974343645a3985328'],
    ['"9B2CF535F27731C974343645A3985328"', '9b2cf535f27731c974343645a3985328'],
  ])('reads the MD5 of the plain ETag %s', (etag, md5) => {
    expect(md5FromEtag(etag)).toBe(md5);
  });

  it.each([
    ['a multipart ETag', '"9b2cf535f27731c974343645a3985328-3"'],
    ['a short one', '"9b2cf535f27731c974343645a398532"'],
    ['a long one', '"9b2cf535f27731c974343645a3985328a"'],
    ['non-hex', '"9b2cf535f27731c974343645a398532g"'],
    ['a weak ETag', 'W/"9b2cf535f27731c974343645a3985328"'],
    ['an empty one', ''],
    ['quotes only', '""'],
  ])('gives undefined for %s', (_label, etag) => {
    expect(md5FromEtag(etag)).toBeUndefined();
  });
});

describe('Function: describeFailure', () => {
  it('adds the HTTP status when the message does not state it', () => {
    const e = Object.assign(new Error('Access Denied'), { $metadata: { httpStatusCode: 403 } });
    expect(describeFailure(e)).toBe('Access Denied (HTTP 403)');
  });

  it('does not repeat a status the message already states', () => {
    const e = Object.assign(new Error('UnknownError 503'), { $metadata: { httpStatusCode: 503 } });
    expect(describeFailure(e)).toBe('UnknownError 503');
  });

  it('gives the message alone without a status', () => {
    expect(describeFailure(new Error('socket hang up'))).toBe('socket hang up');
    expect(describeFailure(Object.assign(new Error('x'), { $metadata: {} }))).toBe('x');
  });

  it('keeps the text on one line', () => {
    const e = Object.assign(new Error('first line\n  second line'), { $metadata: { httpStatusCode: 500 } });
    expect(describeFailure(e)).toBe('first line second line (HTTP 500)');
  });

  it('renders values that are not errors', () => {
    expect(describeFailure('plain text')).toBe('plain text');
    expect(describeFailure(undefined)).toBe('undefined');
    expect(describeFailure(42)).toBe('42');
  });
});
