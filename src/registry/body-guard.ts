import type { Readable } from 'node:stream';

/**
 * Name a response stream's errors and tie it to an abort signal, adding no stream of its own
 * (a blob's gigabytes pass through untouched): the stream's own `_destroy` hands the mapped error
 * on, so whoever reads the body sees `NETWORK`/`TIMEOUT` naming the blob and the host, never a
 * raw `ECONNRESET`; an aborted signal (a deadline) destroys it with its reason. Bodies are
 * node:http responses (http-open); the mirror checkers' got requests do not come through here.
 */
export function guardBody(stream: Readable, mapError: (error: Error) => Error, signal?: AbortSignal): void {
  const destroy = stream._destroy.bind(stream);
  stream._destroy = (error, callback) =>
    destroy(error, (failure?: Error | null) => callback(failure ? mapError(failure) : failure));
  if (!signal) return;
  // A deadline may fire while no reader is attached yet (between the answer and the store
  // opening its file): the error must not crash the process. Readers attached later still get
  // it (an errored stream rejects every later read and pipeline).
  stream.on('error', () => {});
  const abort = () => stream.destroy(signal.reason as Error);
  if (signal.aborted) {
    queueMicrotask(abort);
    return;
  }
  signal.addEventListener('abort', abort, { once: true });
  // One run's signal guards every request of the run: a listener left behind holds its stream and
  // makes each later addEventListener slower (it scans the list), quadratic over 100,000 requests.
  // A response emits 'close' once read to its end or destroyed, so that one event lets go.
  stream.once('close', () => signal.removeEventListener('abort', abort));
}
