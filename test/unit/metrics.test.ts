import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

// aws-embedded-metrics reads its configuration and resolves its environment when first imported, so the
// Local environment (no decoration, documents written with console.log to stdout) must be chosen first.
const savedEmfEnvironment = vi.hoisted(() => {
  const saved = process.env.AWS_EMF_ENVIRONMENT;
  process.env.AWS_EMF_ENVIRONMENT = 'Local';
  return saved;
});

import { pino } from 'pino';

import { BalerError } from '../../src/core/errors.js';
import { createLogger, type Logger } from '../../src/core/logger.js';
import { createMetrics, MetricUnit, type Metrics, type MetricsSettings } from '../../src/core/metrics.js';

afterAll(() => {
  if (savedEmfEnvironment === undefined) delete process.env.AWS_EMF_ENVIRONMENT;
  else process.env.AWS_EMF_ENVIRONMENT = savedEmfEnvironment;
});

type Document = Record<string, unknown>;

/** A logger whose JSON lines are kept in memory. */
function captureLogger(service?: string): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const destination = { write: (line: string) => void lines.push(line) };
  const logger =
    service === undefined
      ? pino({ base: undefined, level: 'debug' }, destination)
      : createLogger({ service, level: 'debug', destination });
  return { logger, lines };
}

/** Lines of the `metrics` event only, parsed. */
function metricLines(lines: readonly string[]): Document[] {
  return lines.map((line) => JSON.parse(line) as Document).filter((doc) => doc.event === 'metrics');
}

const UNITS = new Set<string>(Object.values(MetricUnit));

/**
 * Check a document against the EMF specification: `_aws.Timestamp` in epoch ms; each directive has a
 * Namespace, Dimensions whose names are root members holding strings, and Metrics whose names are root
 * members holding a number or an array of at most 100 numbers, at most 100 metrics per directive.
 */
function expectValidEmf(doc: Document): void {
  const aws = doc._aws as { Timestamp: unknown; CloudWatchMetrics: unknown };
  expect(typeof aws.Timestamp).toBe('number');
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true);
  for (const directive of aws.CloudWatchMetrics as Document[]) {
    expect(typeof directive.Namespace).toBe('string');
    for (const dimensionSet of directive.Dimensions as string[][]) {
      for (const dimension of dimensionSet) expect(typeof doc[dimension]).toBe('string');
    }
    const metrics = directive.Metrics as { Name: string; Unit: string }[];
    expect(metrics.length).toBeGreaterThan(0);
    expect(metrics.length).toBeLessThanOrEqual(100);
    for (const { Name, Unit } of metrics) {
      expect(UNITS.has(Unit), `unit ${Unit}`).toBe(true);
      const value = doc[Name];
      if (Array.isArray(value)) {
        expect(value.length).toBeLessThanOrEqual(100);
        for (const v of value) expect(typeof v).toBe('number');
      } else {
        expect(typeof value).toBe('number');
      }
    }
  }
}

function directiveOf(doc: Document): Document {
  const aws = doc._aws as { CloudWatchMetrics: Document[] };
  const directive = aws.CloudWatchMetrics[0];
  if (directive === undefined) throw new Error('no CloudWatchMetrics directive');
  return directive;
}

/** Invalid inputs shared by both modes. */
function expectValidation(metrics: Metrics): void {
  expect(() => {
    metrics.put('', 1, MetricUnit.Count);
  }).toThrow(/metric name must be 1-255 printable ASCII/);
  expect(() => {
    metrics.put(':Leading', 1, MetricUnit.Count);
  }).toThrow(/not starting with ":"/);
  expect(() => {
    metrics.put('x'.repeat(256), 1, MetricUnit.Count);
  }).toThrow(BalerError);
  expect(() => {
    metrics.put('Größe', 1, MetricUnit.Count);
  }).toThrow(/printable ASCII/);
  expect(() => {
    metrics.put('Line\nBreak', 1, MetricUnit.Count);
  }).toThrow(/printable ASCII/);
  expect(() => {
    metrics.put('   ', 1, MetricUnit.Count);
  }).toThrow(/not blank/);
  expect(() => {
    metrics.put('_aws', 1, MetricUnit.Count);
  }).toThrow(/"_aws" is reserved/);
  expect(() => {
    metrics.put('service', 1, MetricUnit.Count);
  }).toThrow(/"service" is reserved/);
  expect(() => {
    metrics.put('Bad', Number.NaN, MetricUnit.Count);
  }).toThrow(/value must be a finite number, got NaN/);
  expect(() => {
    metrics.put('Bad', Infinity, MetricUnit.Count);
  }).toThrow(/got Infinity/);
  expect(() => {
    metrics.put('Bad', '5' as unknown as number, MetricUnit.Count);
  }).toThrow(/finite number/);
  expect(() => {
    metrics.put('Bad', 1, 'Furlongs' as MetricUnit);
  }).toThrow(/unit must be one of MetricUnit/);
  expect(() => {
    metrics.setProperty('', 'x');
  }).toThrow(/property key must be/);
  expect(() => {
    metrics.setProperty('_aws', {});
  }).toThrow(/reserved/);
  expect(() => {
    metrics.put('Mixed', 1, MetricUnit.Count);
    metrics.put('Mixed', 1, MetricUnit.Bytes);
  }).toThrow('metric "Mixed" already has unit Count in this unit of work, got Bytes');
  expect(() => {
    metrics.setProperty('Mixed', 'x');
  }).toThrow(/already used as a metric name/);
  expect(() => {
    metrics.setProperty('archiveId', 'a-1');
    metrics.put('archiveId', 1, MetricUnit.Count);
  }).toThrow(/already used as a property/);
  expect(() => {
    metrics.put('x'.repeat(255), 1, MetricUnit.Count);
  }).not.toThrow();
}

describe('Function: createMetrics (mode log)', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2024-05-01T10:00:00.000Z'));
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one pino line that is a valid EMF document', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });

    // Act
    metrics.put('ObjectsArchived', 120, MetricUnit.Count);
    metrics.put('ArchiveBytes', 73_400_320, MetricUnit.Bytes);
    metrics.setProperty('archiveId', '01HXYZ');
    await metrics.flush();

    // Assess
    expect(lines).toHaveLength(1);
    const [doc] = metricLines(lines);
    expect(doc).toMatchObject({
      level: 'info',
      event: 'metrics',
      service: 'source',
      archiveId: '01HXYZ',
      ObjectsArchived: 120,
      ArchiveBytes: 73_400_320,
      _aws: {
        Timestamp: Date.parse('2024-05-01T10:00:00.000Z'),
        CloudWatchMetrics: [
          {
            Namespace: 'Baler',
            Dimensions: [['service']],
            Metrics: [
              { Name: 'ObjectsArchived', Unit: 'Count' },
              { Name: 'ArchiveBytes', Unit: 'Bytes' },
            ],
          },
        ],
      },
    });
    expectValidEmf(doc as Document);
    // pino would write a bound key and a call key side by side: the line must hold one "service".
    expect(lines[0]?.match(/"service":/g)).toHaveLength(1);
  });

  it('writes the service when the logger does not bind one', async () => {
    // Prepare
    const { logger, lines } = captureLogger();
    const metrics = createMetrics({ namespace: 'Baler', service: 'soak', mode: 'log', logger });

    // Act
    metrics.put('Files', 3, MetricUnit.Count);
    await metrics.flush();

    // Assess
    const [doc] = metricLines(lines);
    expect(doc?.service).toBe('soak');
    expect(lines[0]?.match(/"service":/g)).toHaveLength(1);
    expectValidEmf(doc as Document);
  });

  it('keeps every value of a repeated metric, in order', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });

    // Act
    metrics.put('PartUploadMs', 120, MetricUnit.Milliseconds);
    metrics.put('PartUploadMs', 80.5, MetricUnit.Milliseconds);
    metrics.put('PartUploadMs', 0, MetricUnit.Milliseconds);
    await metrics.flush();

    // Assess
    const [doc] = metricLines(lines);
    expect(doc?.PartUploadMs).toStrictEqual([120, 80.5, 0]);
    expect(directiveOf(doc as Document).Metrics).toStrictEqual([
      { Name: 'PartUploadMs', Unit: 'Milliseconds' },
    ]);
    expectValidEmf(doc as Document);
  });

  it('never turns properties into dimensions', async () => {
    // Prepare
    const { logger, lines } = captureLogger('target');
    const metrics = createMetrics({ namespace: 'Baler', service: 'target', mode: 'log', logger });

    // Act
    metrics.setProperty('bucket', 'acme-raw-data');
    metrics.setProperty('key', 'incoming/HappyFace.jpg');
    metrics.put('ObjectsRestored', 1, MetricUnit.Count);
    await metrics.flush();

    // Assess
    const [doc] = metricLines(lines);
    expect(directiveOf(doc as Document).Dimensions).toStrictEqual([['service']]);
    expect(doc).toMatchObject({ bucket: 'acme-raw-data', key: 'incoming/HappyFace.jpg' });
  });

  it('resets after a flush: metrics and properties belong to one unit of work', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });
    metrics.put('Batches', 1, MetricUnit.Count);
    metrics.setProperty('batchId', 'first');
    await metrics.flush();

    // Act
    await metrics.flush();
    metrics.put('Batches', 1, MetricUnit.Count);
    await metrics.flush();

    // Assess
    const docs = metricLines(lines);
    expect(docs).toHaveLength(2);
    expect(docs[0]?.batchId).toBe('first');
    expect(docs[1]).not.toHaveProperty('batchId');
    expect(docs[1]?.Batches).toBe(1);
  });

  it('writes nothing when no metric was put', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });
    metrics.setProperty('batchId', 'only-a-property');

    // Act
    await metrics.flush();

    // Assess
    expect(lines).toHaveLength(0);
  });

  it('splits more than 100 values of one metric across documents', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });
    const values = Array.from({ length: 150 }, (_, i) => i);

    // Act
    for (const value of values) metrics.put('ObjectBytes', value, MetricUnit.Bytes);
    await metrics.flush();

    // Assess
    const docs = metricLines(lines);
    expect(docs).toHaveLength(2);
    for (const doc of docs) expectValidEmf(doc);
    expect(docs.flatMap((doc) => doc.ObjectBytes as number[])).toStrictEqual(values);
    expect((docs[0]?.ObjectBytes as number[]).length).toBe(100);
  });

  it('splits more than 100 metric names across documents', async () => {
    // Prepare
    const { logger, lines } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });

    // Act
    for (let i = 0; i < 130; i++) metrics.put(`M${i}`, i, MetricUnit.None);
    await metrics.flush();

    // Assess
    const docs = metricLines(lines);
    expect(docs.map((doc) => (directiveOf(doc).Metrics as unknown[]).length)).toStrictEqual([100, 30]);
    for (const doc of docs) expectValidEmf(doc);
    expect(docs[1]?.M129).toBe(129);
  });

  it('validates names, values and units with clear errors', () => {
    // Prepare
    const { logger } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });

    // Act & Assess
    expectValidation(metrics);
    expect(() => {
      metrics.put('time', 1, MetricUnit.Count);
    }).toThrow(/"time" is reserved/);
    expect(() => {
      metrics.put('level', 1, MetricUnit.Count);
    }).toThrow(/reserved/);
  });

  it('refuses names that the logger already binds', () => {
    // Prepare
    const { logger } = captureLogger('source');
    const child = logger.child({ messageId: 'm-1' });
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger: child });

    // Act & Assess
    expect(() => {
      metrics.put('messageId', 1, MetricUnit.Count);
    }).toThrow(/"messageId" is reserved/);
  });

  it.each<[string, Partial<MetricsSettings>, RegExp]>([
    ['an empty namespace', { namespace: '' }, /metrics namespace must be/],
    ['an AWS/ namespace', { namespace: 'AWS/S3' }, /not starting with "AWS\/"/],
    ['a namespace with invalid characters', { namespace: 'Baler!' }, /metrics namespace must be/],
    ['a blank service', { service: ' ' }, /metrics service must be/],
    ['a non-ASCII service', { service: 'sörce' }, /metrics service must be/],
    ['an unknown mode', { mode: 'cloudwatch' as 'log' }, /metrics mode must be "emf" or "log"/],
    ['a logger bound to another service', { service: 'target' }, /differs from the logger's service binding/],
  ])('rejects %s', (_what, override, error) => {
    // Prepare
    const { logger } = captureLogger('source');
    const settings: MetricsSettings = {
      namespace: 'Baler',
      service: 'source',
      mode: 'log',
      logger,
      ...override,
    };

    // Act & Assess
    expect(() => createMetrics(settings)).toThrow(error);
  });
});

describe('Function: createMetrics (mode emf)', () => {
  let stdout: string[];

  beforeEach(() => {
    stdout = [];
    // The library's Local sink writes each document with console.log, i.e. to stdout.
    vi.spyOn(console, 'log').mockImplementation((...args: unknown[]) => {
      stdout.push(args.map(String).join(' '));
    });
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });

  function emfDocuments(): Document[] {
    return stdout.map((line) => JSON.parse(line) as Document);
  }

  it('writes a valid EMF document with namespace, the service dimension and the values', async () => {
    // Prepare
    const { logger } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'emf', logger });
    const before = Date.now();

    // Act
    metrics.put('ObjectsArchived', 120, MetricUnit.Count);
    metrics.put('PartUploadMs', 120, MetricUnit.Milliseconds);
    metrics.put('PartUploadMs', 80, MetricUnit.Milliseconds);
    metrics.setProperty('archiveId', '01HXYZ');
    await metrics.flush();

    // Assess
    expect(stdout).toHaveLength(1);
    const [doc] = emfDocuments();
    expectValidEmf(doc as Document);
    expect(doc).toMatchObject({
      service: 'source',
      archiveId: '01HXYZ',
      ObjectsArchived: 120,
      PartUploadMs: [120, 80],
      _aws: {
        CloudWatchMetrics: [
          {
            Namespace: 'Baler',
            Dimensions: [['service']],
            Metrics: expect.arrayContaining([
              { Name: 'ObjectsArchived', Unit: 'Count' },
              { Name: 'PartUploadMs', Unit: 'Milliseconds' },
            ]) as unknown,
          },
        ],
      },
    });
    expect((doc?._aws as { Timestamp: number }).Timestamp).toBeGreaterThanOrEqual(before);
    // The library's default dimensions (LogGroup, ServiceName, ServiceType) must not appear.
    expect(doc).not.toHaveProperty('LogGroup');
    expect(doc).not.toHaveProperty('ServiceName');
    expect(doc).not.toHaveProperty('ServiceType');
  });

  it('resets properties after a flush and writes nothing without metrics', async () => {
    // Prepare
    const { logger } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'emf', logger });
    metrics.put('Batches', 1, MetricUnit.Count);
    metrics.setProperty('batchId', 'first');
    await metrics.flush();

    // Act
    await metrics.flush();
    metrics.put('Batches', 2, MetricUnit.Count);
    await metrics.flush();

    // Assess
    const docs = emfDocuments();
    expect(docs).toHaveLength(2);
    expect(docs[0]).toMatchObject({ batchId: 'first', Batches: 1 });
    expect(docs[1]).not.toHaveProperty('batchId');
    expect(docs[1]?.Batches).toBe(2);
    expect(directiveOf(docs[1] as Document).Dimensions).toStrictEqual([['service']]);
  });

  it('puts made while a flush is in progress go to the next unit of work', async () => {
    // Prepare
    const { logger } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'emf', logger });
    metrics.put('First', 1, MetricUnit.Count);

    // Act
    const flushing = metrics.flush();
    metrics.put('Second', 2, MetricUnit.Count);
    await flushing;
    await metrics.flush();

    // Assess
    const docs = emfDocuments();
    expect(docs).toHaveLength(2);
    expect(docs[0]).toHaveProperty('First', 1);
    expect(docs[0]).not.toHaveProperty('Second');
    expect(docs[1]).toHaveProperty('Second', 2);
    expect(docs[1]).not.toHaveProperty('First');
  });

  it('validates names, values and units with clear errors, before anything is written', async () => {
    // Prepare
    const { logger } = captureLogger('source');
    const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'emf', logger });

    // Act & Assess
    expectValidation(metrics);
    await metrics.flush();
    const [doc] = emfDocuments();
    expectValidEmf(doc as Document);
    expect(Object.keys(doc ?? {}).sort()).toStrictEqual(
      ['Mixed', '_aws', 'archiveId', 'service', 'x'.repeat(255)].sort(),
    );
  });
});
