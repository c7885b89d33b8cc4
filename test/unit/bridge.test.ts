import { describe, expect, it } from 'vitest';
import { bridgePath, cephRecordToAws, toAwsEventTime } from '../../src/local/bridge.js';
import { cephHealthProblem } from '../../src/local/ceph.js';
import { parseS3EventMessage } from '../../src/core/s3Events.js';
import { cephPutNotification } from '../fixtures/index.js';

describe('Function: cephRecordToAws', () => {
  it('turns a radosgw record into the AWS record for the given region', () => {
    // Prepare
    const rec = cephPutNotification.Records[0];
    if (!rec) throw new Error('fixture');
    // Act
    const aws = cephRecordToAws(rec, 'eu-west-1');
    // Assess
    expect(aws).toMatchObject({
      eventVersion: '2.1',
      eventSource: 'aws:s3',
      awsRegion: 'eu-west-1',
      eventTime: '2026-11-21T07:03:42.420Z',
      eventName: 'ObjectCreated:Put',
      s3: {
        configurationId: 'n1',
        bucket: { name: 'bk1', arn: 'arn:aws:s3:::bk1' },
        object: { key: 'in/a+b%2Bc%25d/%C3%BC..//x.txt', size: 5, eTag: '5d41402abc4b2a76b9719d911017c592' },
      },
    });
    expect(aws.s3.object).not.toHaveProperty('versionId');
    expect(aws).not.toHaveProperty('eventId');
    expect(aws.s3.object).not.toHaveProperty('metadata');
  });

  it('round-trips through the event parser to the original key', () => {
    // Prepare
    const rec = cephPutNotification.Records[0];
    if (!rec) throw new Error('fixture');
    // Act
    const parsed = parseS3EventMessage(JSON.stringify({ Records: [cephRecordToAws(rec, 'us-east-1')] }));
    // Assess
    expect(parsed).toMatchObject({ kind: 'records', events: [{ key: rec.s3.object.key, type: 'created' }] });
  });
});

describe('Function: toAwsEventTime', () => {
  it.each([
    ['2026-11-21T07:03:42.420130Z', '2026-11-21T07:03:42.420Z'],
    ['2026-11-21T07:03:42.4Z', '2026-11-21T07:03:42.400Z'],
    ['2026-11-21T07:03:42Z', '2026-11-21T07:03:42.000Z'],
  ])('writes %s as %s', (input, expected) => {
    expect(toAwsEventTime(input)).toBe(expected);
  });

  it('rejects a time that is not one', () => {
    expect(() => toAwsEventTime('yesterday')).toThrow(/invalid eventTime "yesterday"/);
  });
});

describe('Function: bridgePath', () => {
  it('escapes the region and queue name', () => {
    expect(bridgePath('eu-west-1', 'source-a_b')).toBe('/q/eu-west-1/source-a_b');
    expect(bridgePath('r/1', 'q 1')).toBe('/q/r%2F1/q%201');
  });
});

describe('Function: cephHealthProblem', () => {
  it('reports full OSDs and pools, and ignores the expected warnings', () => {
    expect(cephHealthProblem('HEALTH_ERR no active mgr; 1 full osd(s); 7 pool(s) full')).toBe(
      '1 full osd(s); 7 pool(s) full',
    );
    expect(cephHealthProblem('HEALTH_WARN no active mgr')).toBeUndefined();
    expect(cephHealthProblem('HEALTH_OK')).toBeUndefined();
  });
});
