/**
 * CloudWatch metrics through the Embedded Metric Format (EMF).
 *
 * One {@link Metrics} instance per worker; `put()` during a unit of work (a batch, an archive, a message),
 * `flush()` at its end. Every document has namespace `Baler` (by convention), exactly one dimension,
 * `service`, and never an object key, bucket or prefix as a dimension: those are unbounded and each new
 * dimension value is a new, billed, custom metric. High-cardinality context goes in `setProperty()`.
 */

import { BalerError } from './errors.js';
import type { Logger } from './logger.js';

/** Units CloudWatch accepts for a metric (the EMF `Unit` values). */
export const MetricUnit = {
  Seconds: 'Seconds',
  Microseconds: 'Microseconds',
  Milliseconds: 'Milliseconds',
  Bytes: 'Bytes',
  Kilobytes: 'Kilobytes',
  Megabytes: 'Megabytes',
  Gigabytes: 'Gigabytes',
  Terabytes: 'Terabytes',
  Bits: 'Bits',
  Kilobits: 'Kilobits',
  Megabits: 'Megabits',
  Gigabits: 'Gigabits',
  Terabits: 'Terabits',
  Percent: 'Percent',
  Count: 'Count',
  BytesPerSecond: 'Bytes/Second',
  KilobytesPerSecond: 'Kilobytes/Second',
  MegabytesPerSecond: 'Megabytes/Second',
  GigabytesPerSecond: 'Gigabytes/Second',
  TerabytesPerSecond: 'Terabytes/Second',
  BitsPerSecond: 'Bits/Second',
  KilobitsPerSecond: 'Kilobits/Second',
  MegabitsPerSecond: 'Megabits/Second',
  GigabitsPerSecond: 'Gigabits/Second',
  TerabitsPerSecond: 'Terabits/Second',
  CountPerSecond: 'Count/Second',
  None: 'None',
} as const;
/**
 * One of the {@link MetricUnit} values.
 *
 * @example
 * const unit: MetricUnit = MetricUnit.Bytes;
 */
export type MetricUnit = (typeof MetricUnit)[keyof typeof MetricUnit];

/** Where the EMF documents go. */
export const MetricsMode = {
  /** Through `aws-embedded-metrics` (stdout on Lambda/`Local`, the CloudWatch agent on EC2/ECS). */
  emf: 'emf',
  /** As one pino line per document (the local stack): the line is itself a valid EMF document. */
  log: 'log',
} as const;
/**
 * `emf` or `log`.
 *
 * @example
 * const mode: MetricsMode = env.AWS_EXECUTION_ENV ? 'emf' : 'log';
 */
export type MetricsMode = (typeof MetricsMode)[keyof typeof MetricsMode];

/** CloudWatch limit: metric names are 1 to 255 characters. */
export const METRIC_NAME_MAX_LENGTH = 255;
/** CloudWatch limit: namespaces are 1 to 255 characters. */
export const METRIC_NAMESPACE_MAX_LENGTH = 255;
/** CloudWatch limit: dimension values are 1 to 1,024 characters. */
export const METRIC_DIMENSION_VALUE_MAX_LENGTH = 1024;
/** EMF limit: at most 100 metric definitions in one document. */
export const EMF_MAX_METRICS_PER_DOCUMENT = 100;
/** EMF limit: at most 100 values for one metric in one document. */
export const EMF_MAX_VALUES_PER_METRIC = 100;

/**
 * Names that cannot be metrics or properties: `_aws` (EMF metadata), `service` (the dimension) and the
 * keys every log line carries, so a `log`-mode line never has two members with the same name.
 */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  '_aws',
  'service',
  'event',
  'level',
  'time',
  'msg',
  'err',
]);

const PRINTABLE_ASCII = /^[\x20-\x7E]+$/;
const NAMESPACE_CHARS = /^[A-Za-z0-9 ._#:/-]+$/;
const UNITS: ReadonlySet<string> = new Set(Object.values(MetricUnit));
const MODES: ReadonlySet<string> = new Set(Object.values(MetricsMode));

/**
 * Records metrics for one unit of work at a time.
 *
 * @example
 * metrics.put('ObjectsArchived', 120, MetricUnit.Count);
 * metrics.put('ArchiveBytes', 73_400_320, MetricUnit.Bytes);
 * metrics.setProperty('archiveId', id); // searchable in Logs Insights, not a dimension
 * await metrics.flush();
 */
export interface Metrics {
  /**
   * Add one value. Several values for the same name in one unit of work are all kept (an EMF value
   * array, up to 100 per document; more are split across documents).
   *
   * @throws BalerError (`METRIC_INVALID`) on an invalid name, a non-finite value, an unknown unit or a unit
   *   that differs from the one already used for this name in this unit of work
   */
  put(name: string, value: number, unit: MetricUnit): void;
  /**
   * Attach a property (not a dimension) to the next document(s). Cleared by `flush()`.
   *
   * @throws BalerError (`METRIC_INVALID`) on a reserved key or one already used as a metric name
   */
  setProperty(key: string, value: unknown): void;
  /** Write what was recorded since the last flush (nothing if no metric was put), then reset. */
  flush(): Promise<void>;
}

/** Settings for {@link createMetrics}. */
export interface MetricsSettings {
  /** CloudWatch namespace, e.g. `Baler`. */
  readonly namespace: string;
  /** Value of the one dimension, `service` (e.g. `source`, `target`, `soak`). */
  readonly service: string;
  /** `emf` in AWS, `log` on the local stack. */
  readonly mode: MetricsMode;
  /**
   * In `log` mode, where the documents go (at `info`); in `emf` mode only flushes are logged, at `debug`.
   * If the logger already binds `service`, it must equal {@link MetricsSettings.service}.
   */
  readonly logger: Logger;
}

interface Recorded {
  readonly unit: MetricUnit;
  readonly values: number[];
}

function invalid(message: string): BalerError {
  return new BalerError('METRIC_INVALID', message);
}

function validateSettings(settings: MetricsSettings): void {
  const { namespace, service, mode } = settings;
  if (
    namespace.length === 0 ||
    namespace.length > METRIC_NAMESPACE_MAX_LENGTH ||
    !NAMESPACE_CHARS.test(namespace) ||
    namespace.trim() === '' ||
    namespace.startsWith('AWS/')
  ) {
    throw invalid(
      `metrics namespace must be 1-${METRIC_NAMESPACE_MAX_LENGTH} characters of A-Z a-z 0-9 . - _ / # : and space, ` +
        `not starting with "AWS/", got ${JSON.stringify(namespace)}`,
    );
  }
  if (
    service.length > METRIC_DIMENSION_VALUE_MAX_LENGTH ||
    !PRINTABLE_ASCII.test(service) ||
    service.trim() === '' ||
    service.startsWith(':')
  ) {
    throw invalid(
      `metrics service must be 1-${METRIC_DIMENSION_VALUE_MAX_LENGTH} printable ASCII characters, not blank and ` +
        `not starting with ":", got ${JSON.stringify(service)}`,
    );
  }
  if (!MODES.has(mode)) {
    throw invalid(`metrics mode must be "emf" or "log", got ${JSON.stringify(mode)}`);
  }
}

function validateName(
  name: string,
  what: 'metric name' | 'property key',
  reserved: ReadonlySet<string>,
): void {
  if (
    typeof name !== 'string' ||
    name.length === 0 ||
    name.length > METRIC_NAME_MAX_LENGTH ||
    !PRINTABLE_ASCII.test(name) ||
    name.trim() === '' ||
    name.startsWith(':')
  ) {
    throw invalid(
      `${what} must be 1-${METRIC_NAME_MAX_LENGTH} printable ASCII characters, not blank and not starting ` +
        `with ":", got ${JSON.stringify(name)}`,
    );
  }
  if (reserved.has(name)) {
    throw invalid(`${what} ${JSON.stringify(name)} is reserved (${[...reserved].join(', ')})`);
  }
}

/** Split recorded metrics into EMF-sized documents: <= 100 metrics, <= 100 values per metric. */
function toDocuments(metrics: ReadonlyMap<string, Recorded>): Map<string, Recorded>[] {
  const documents: Map<string, Recorded>[] = [];
  let pending = [...metrics].map(([name, { unit, values }]) => ({ name, unit, values: [...values] }));
  while (pending.length > 0) {
    const document = new Map<string, Recorded>();
    for (const metric of pending.slice(0, EMF_MAX_METRICS_PER_DOCUMENT)) {
      document.set(metric.name, {
        unit: metric.unit,
        values: metric.values.splice(0, EMF_MAX_VALUES_PER_METRIC),
      });
    }
    documents.push(document);
    pending = pending.filter((metric) => metric.values.length > 0);
  }
  return documents;
}

/**
 * Create the metrics recorder for one service.
 *
 * - `emf`: documents are written by `aws-embedded-metrics` (`createMetricsLogger`, `setNamespace`,
 *   `setDimensions({ service })`, `putMetric`, `flush`). The library picks its sink from the environment
 *   it detects when first imported (Lambda: stdout; ECS/EC2: the CloudWatch agent over TCP); set
 *   `AWS_EMF_ENVIRONMENT=Local` for stdout, e.g. on Fargate with the `awslogs` driver.
 * - `log`: each document is one `logger.info({ event: 'metrics', _aws, service, ...properties, ...metrics })`
 *   line, which is valid EMF, so the same line can be shipped to CloudWatch Logs unchanged.
 *
 * @throws BalerError (`METRIC_INVALID`) on an invalid namespace, service or mode, or when the logger binds a
 *   different `service`
 *
 * @example
 * const metrics = createMetrics({ namespace: 'Baler', service: 'source', mode: 'log', logger });
 * metrics.put('BatchDurationMs', 812, MetricUnit.Milliseconds);
 * await metrics.flush();
 * // {"level":"info",...,"event":"metrics","_aws":{"Timestamp":1714557600000,"CloudWatchMetrics":[{"Namespace":
 * //   "Baler","Dimensions":[["service"]],"Metrics":[{"Name":"BatchDurationMs","Unit":"Milliseconds"}]}]},
 * //   "service":"source","BatchDurationMs":812}
 */
export function createMetrics(settings: MetricsSettings): Metrics {
  validateSettings(settings);
  const { namespace, service, mode, logger } = settings;

  // pino writes bindings and call fields side by side, duplicates included; an EMF line must not carry two
  // "service" members, nor a metric named like a binding (e.g. "pid").
  const bindings = logger.bindings();
  const boundService = bindings.service as unknown;
  if (mode === MetricsMode.log && boundService !== undefined && boundService !== service) {
    throw invalid(
      `metrics service ${JSON.stringify(service)} differs from the logger's service binding ` +
        `${JSON.stringify(boundService)}: the EMF line would carry two "service" members`,
    );
  }
  const reserved: ReadonlySet<string> =
    mode === MetricsMode.log ? new Set([...RESERVED_NAMES, ...Object.keys(bindings)]) : RESERVED_NAMES;
  const writeServiceField = mode !== MetricsMode.log || boundService === undefined;

  let metrics = new Map<string, Recorded>();
  let properties = new Map<string, unknown>();

  function writeLog(documents: readonly Map<string, Recorded>[], props: ReadonlyMap<string, unknown>): void {
    const timestamp = Date.now();
    for (const document of documents) {
      const line: Record<string, unknown> = {
        event: 'metrics',
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: namespace,
              Dimensions: [['service']],
              Metrics: [...document].map(([name, { unit }]) => ({ Name: name, Unit: unit })),
            },
          ],
        },
      };
      if (writeServiceField) line.service = service;
      for (const [key, value] of props) line[key] = value;
      // One value is written as a number, several as an array (both are valid EMF).
      for (const [name, { values }] of document) line[name] = values.length === 1 ? values[0] : values;
      logger.info(line);
    }
  }

  async function writeEmf(recorded: ReadonlyMap<string, Recorded>, props: ReadonlyMap<string, unknown>) {
    // Imported on first use: loading aws-embedded-metrics starts its environment detection at once, which
    // probes the EC2 metadata endpoint and keeps every command that never writes a metric alive ~1 s longer.
    const { createMetricsLogger } = await import('aws-embedded-metrics');
    // A fresh library logger per unit of work: its own flush() keeps properties, ours resets them.
    const emf = createMetricsLogger();
    emf.setNamespace(namespace);
    emf.setDimensions({ service });
    emf.setTimestamp(new Date());
    for (const [key, value] of props) emf.setProperty(key, value);
    for (const [name, { unit, values }] of recorded)
      for (const value of values) emf.putMetric(name, value, unit);
    await emf.flush();
    logger.debug({ event: 'metrics_flushed', metrics: recorded.size });
  }

  return {
    put(name, value, unit) {
      validateName(name, 'metric name', reserved);
      if (typeof value !== 'number' || !Number.isFinite(value) || Math.abs(value) > Number.MAX_SAFE_INTEGER) {
        throw invalid(`metric ${JSON.stringify(name)} value must be a finite number, got ${String(value)}`);
      }
      if (!UNITS.has(unit)) {
        throw invalid(
          `metric ${JSON.stringify(name)} unit must be one of MetricUnit, got ${JSON.stringify(unit)}`,
        );
      }
      if (properties.has(name)) {
        throw invalid(
          `metric name ${JSON.stringify(name)} is already used as a property in this unit of work`,
        );
      }
      const existing = metrics.get(name);
      if (existing === undefined) {
        metrics.set(name, { unit, values: [value] });
      } else if (existing.unit !== unit) {
        throw invalid(
          `metric ${JSON.stringify(name)} already has unit ${existing.unit} in this unit of work, got ${unit}`,
        );
      } else {
        existing.values.push(value);
      }
    },

    setProperty(key, value) {
      validateName(key, 'property key', reserved);
      if (metrics.has(key)) {
        throw invalid(
          `property key ${JSON.stringify(key)} is already used as a metric name in this unit of work`,
        );
      }
      properties.set(key, value);
    },

    async flush() {
      // Swap before any await, so puts made while a flush is in progress belong to the next unit of work.
      const recorded = metrics;
      const props = properties;
      metrics = new Map();
      properties = new Map();
      if (recorded.size === 0) return;
      if (mode === MetricsMode.log) writeLog(toDocuments(recorded), props);
      else await writeEmf(recorded, props);
    },
  };
}
