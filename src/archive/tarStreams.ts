import type { Extract, Pack } from 'tar-stream';

/**
 * Small bridges between tar-stream's streamx streams and async code. streamx streams look like Node streams
 * (`pipe`, `on`) but are not: Node's `pipeline` would call `pipe(dest, { end: false })` on them, which
 * streamx reads as a callback. So baler feeds them by hand, waiting for `drain`, and watches `close`.
 */

/** A streamx writable as tar-stream hands it out (entry sink or extractor). */
type StreamxWritable = ReturnType<Pack['entry']> | Extract;

/** The error a streamx stream was destroyed with, or a generic one. */
function closedError(what: string): Error {
  return new Error(`${what} closed before it finished`);
}

/**
 * Resolve when `sink` emits `drain`; reject when it errors or closes first.
 *
 * @example
 * if (!sink.write(chunk)) await waitForDrain(sink, 'tar entry');
 */
export function waitForDrain(sink: StreamxWritable, what: string): Promise<void> {
  if (sink.destroying || sink.destroyed) return Promise.reject(closedError(what));
  return new Promise<void>((resolve, reject) => {
    const cleanup = (): void => {
      sink.off('drain', onDrain);
      sink.off('error', onError);
      sink.off('close', onClose);
    };
    const onDrain = (): void => {
      cleanup();
      resolve();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      reject(closedError(what));
    };
    sink.on('drain', onDrain);
    sink.on('error', onError);
    sink.on('close', onClose);
  });
}

/**
 * End `sink` and resolve on `finish`; reject when it errors or closes without finishing.
 *
 * @example
 * await endAndWaitForFinish(extractor, 'tar extractor');
 */
export function endAndWaitForFinish(sink: Extract, what: string): Promise<void> {
  if (sink.destroying || sink.destroyed) return Promise.reject(closedError(what));
  return new Promise<void>((resolve, reject) => {
    let finished = false;
    const cleanup = (): void => {
      sink.off('finish', onFinish);
      sink.off('error', onError);
      sink.off('close', onClose);
    };
    const onFinish = (): void => {
      finished = true;
      cleanup();
      resolve();
    };
    const onError = (e: Error): void => {
      cleanup();
      reject(e);
    };
    const onClose = (): void => {
      cleanup();
      if (finished) resolve();
      else reject(closedError(what));
    };
    sink.on('finish', onFinish);
    sink.on('error', onError);
    sink.on('close', onClose);
    sink.end(undefined);
  });
}

/**
 * View a tar-stream pack as a plain async iterable, so that Node's `pipeline` pumps it with backpressure
 * instead of calling its streamx `pipe`.
 */
export function asAsyncIterable(source: Pack): AsyncIterable<Buffer> {
  return {
    [Symbol.asyncIterator]: () => source[Symbol.asyncIterator]() as AsyncIterator<Buffer>,
  };
}
