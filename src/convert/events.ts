/**
 * The Lambda handler's three event shapes, told apart. Pure: no I/O.
 */
import { parseS3EventMessage } from '../core/s3Events.js';
import { ConvertError } from './errors.js';

/** What a Lambda invocation asks for. */
export type ConvertRequest =
  /** Convert these objects (from an S3 event notification; keys decoded). */
  | { readonly kind: 'objects'; readonly objects: readonly { bucket: string; key: string; size?: number }[] }
  /** Convert every CSV under the configured input (an EventBridge scheduled event). */
  | { readonly kind: 'scheduled' }
  /** Convert every CSV under `bucket`/`prefix` (a direct invocation). */
  | { readonly kind: 'direct'; readonly bucket: string; readonly prefix: string };

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Classify a Lambda event: an S3 event notification (`{Records: [...]}`, only `ObjectCreated:*` records
 * are kept), an EventBridge scheduled event (`"detail-type": "Scheduled Event"`, `source: "aws.events"`),
 * or a direct invocation `{bucket, prefix?}` (both strings).
 *
 * @throws ConvertError (`CONVERT_EVENT`) for anything else, naming what was expected
 * @example
 * parseConvertEvent({ bucket: 'in', prefix: 'landing/' }); // { kind: 'direct', bucket: 'in', prefix: 'landing/' }
 */
export function parseConvertEvent(event: unknown): ConvertRequest {
  if (isObject(event) && Array.isArray(event['Records'])) {
    const parsed = parseS3EventMessage(JSON.stringify(event));
    if (parsed.kind === 'test') return { kind: 'objects', objects: [] };
    return {
      kind: 'objects',
      objects: parsed.events
        .filter((e) => e.type === 'created')
        .map((e) => ({ bucket: e.bucket, key: e.key, ...(e.size !== undefined ? { size: e.size } : {}) })),
    };
  }
  if (isObject(event) && event['detail-type'] === 'Scheduled Event') return { kind: 'scheduled' };
  if (isObject(event) && typeof event['bucket'] === 'string' && event['bucket'] !== '') {
    const prefix = event['prefix'] ?? '';
    if (typeof prefix !== 'string')
      throw new ConvertError(`prefix must be a string, got ${typeof prefix}`, { code: 'CONVERT_EVENT' });
    return { kind: 'direct', bucket: event['bucket'], prefix };
  }
  throw new ConvertError(
    'expected an S3 event notification ({"Records": [...]}), an EventBridge scheduled event or {"bucket": "...", "prefix": "..."}',
    { code: 'CONVERT_EVENT' },
  );
}
