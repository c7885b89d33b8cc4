import { createHash, randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { seededRandom } from '../core/random.js';

/** One object of the demo dataset. */
export interface DemoObject {
  readonly key: string;
  readonly body: Buffer;
  readonly contentType: string;
  readonly metadata: Record<string, string>;
  readonly tags: Record<string, string>;
  readonly sha256: string;
}

const PATHS = ['/api/v1/items', '/api/v1/users', '/health', '/api/v2/orders', '/static/app.js', '/login'];
const LEVELS = ['INFO', 'INFO', 'INFO', 'WARN', 'ERROR', 'DEBUG'];
const CITIES = ['Lisbon', 'Osaka', 'Nairobi', 'Toronto', 'Zürich', 'São Paulo', 'Chennai', 'Oslo'];

function pick<T>(rnd: () => number, xs: readonly T[]): T {
  return xs[Math.floor(rnd() * xs.length)] as T;
}

function jsonLogs(rnd: () => number, lines: number, t0: number): string {
  const out: string[] = [];
  for (let i = 0; i < lines; i++) {
    out.push(
      JSON.stringify({
        ts: new Date(t0 + i * 137).toISOString(),
        level: pick(rnd, LEVELS),
        msg: 'request served',
        path: pick(rnd, PATHS),
        status: rnd() < 0.95 ? 200 : 500,
        durationMs: Math.round(rnd() * 400),
        requestId: Math.floor(rnd() * 2 ** 48).toString(16),
        userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36',
      }),
    );
  }
  return out.join('\n') + '\n';
}

function csv(rnd: () => number, rows: number): string {
  const out = ['order_id,customer,city,amount,currency,created_at'];
  for (let i = 0; i < rows; i++) {
    out.push(
      `${100000 + i},cust-${Math.floor(rnd() * 5000)},${pick(rnd, CITIES)},${(rnd() * 900).toFixed(2)},EUR,2026-11-${String(1 + (i % 28)).padStart(2, '0')}T10:00:00Z`,
    );
  }
  return out.join('\n') + '\n';
}

function xml(rnd: () => number, items: number): string {
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', '<catalog>'];
  for (let i = 0; i < items; i++) {
    out.push(
      `  <item id="${i}"><name>Widget ${Math.floor(rnd() * 1000)}</name><price currency="EUR">${(rnd() * 99).toFixed(2)}</price><city>${pick(rnd, CITIES)}</city></item>`,
    );
  }
  out.push('</catalog>');
  return out.join('\n') + '\n';
}

/** Sizes of the demo dataset; the defaults make about 150 MB in about 3,000 objects. */
export interface DemoDatasetOptions {
  readonly smallObjects?: number;
  readonly largeMiB?: number;
  readonly seed?: number;
}

/**
 * Generate a realistic mixed dataset for the two sources of `examples/local`: JSON logs, CSV, XML, already
 * compressed (gzip) and random bytes; thousands of small objects and a few large ones; tags, metadata, and keys
 * with spaces, `+`, `%` and unicode. Deterministic for a seed (random bytes aside, which are incompressible
 * on purpose).
 */
export function* demoDataset(
  buckets: { readonly logs: string; readonly logsPrefix: string; readonly media: string },
  o: DemoDatasetOptions = {},
): Generator<DemoObject & { readonly bucket: string }> {
  const rnd = seededRandom(o.seed ?? 42);
  const small = o.smallObjects ?? 3000;
  const t0 = Date.UTC(2026, 10, 21);
  const make = (
    bucket: string,
    key: string,
    body: Buffer,
    contentType: string,
    i: number,
  ): DemoObject & { readonly bucket: string } => ({
    bucket,
    key,
    body,
    contentType,
    metadata: { generator: 'baler-demo', seq: String(i) },
    tags: i % 3 === 0 ? { team: 'data', 'data class': i % 2 ? 'internal' : 'public' } : {},
    sha256: createHash('sha256').update(body).digest('hex'),
  });
  for (let i = 0; i < small; i++) {
    const kind = i % 10;
    const day = `2026-11-${String(1 + (i % 21)).padStart(2, '0')}`;
    if (kind < 6) {
      const body = Buffer.from(jsonLogs(rnd, 10 + Math.floor(rnd() * 60), t0 + i * 1000));
      yield make(
        buckets.logs,
        `${buckets.logsPrefix}logs/${day}/svc ${i % 7}/part+${i}.json`,
        body,
        'application/json',
        i,
      );
    } else if (kind < 8) {
      const body = Buffer.from(csv(rnd, 20 + Math.floor(rnd() * 100)));
      yield make(
        buckets.logs,
        `${buckets.logsPrefix}orders/${day}/orders 100% ${i}.csv`,
        body,
        'text/csv',
        i,
      );
    } else if (kind < 9) {
      const body = Buffer.from(xml(rnd, 10 + Math.floor(rnd() * 40)));
      yield make(buckets.media, `catalog/ünïcode-日本/${i}.xml`, body, 'application/xml', i);
    } else {
      const body = i % 20 === 9 ? randomBytes(20_000) : gzipSync(Buffer.from(jsonLogs(rnd, 200, t0)));
      yield make(buckets.media, `blobs/${i}.bin`, body, 'application/octet-stream', i);
    }
  }
  const largeMiB = o.largeMiB ?? 96;
  const logMiB = Math.max(1, Math.floor(largeMiB / 2));
  const csvMiB = Math.max(1, Math.floor(largeMiB / 4));
  const randMiB = Math.max(1, largeMiB - logMiB - csvMiB);
  const repeatTo = (text: string, mib: number) => {
    const unit = Buffer.from(text);
    const n = Math.ceil((mib * 1024 * 1024) / unit.length);
    return Buffer.concat(Array.from({ length: n }, () => unit)).subarray(0, mib * 1024 * 1024);
  };
  yield make(
    buckets.logs,
    `${buckets.logsPrefix}logs/big/app server.log`,
    repeatTo(jsonLogs(rnd, 20_000, t0), logMiB),
    'text/plain',
    1,
  );
  yield make(
    buckets.logs,
    `${buckets.logsPrefix}orders/big/orders-all.csv`,
    repeatTo(csv(rnd, 50_000), csvMiB),
    'text/csv',
    2,
  );
  yield make(buckets.media, 'video/clip+final.mp4', randomBytes(randMiB * 1024 * 1024), 'video/mp4', 3);
}
