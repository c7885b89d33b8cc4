/** HTTP status of an SDK error, if it has one. */
function status(e: unknown): number | undefined {
  return (e as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;
}

/** The object (or bucket) does not exist: 404 / NoSuchKey / NotFound. */
export function isNotFound(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name;
  return name === 'NoSuchKey' || name === 'NotFound' || status(e) === 404;
}

/** A conditional request failed (If-Match): 412 / PreconditionFailed. */
export function isPreconditionFailed(e: unknown): boolean {
  const name = (e as { name?: string } | undefined)?.name;
  return name === 'PreconditionFailed' || status(e) === 412;
}
