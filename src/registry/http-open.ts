import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TimeoutError, hostOf, networkError } from '../errors.js';
import { guardBody } from './body-guard.js';
import { requestLine, type RegistryRequest, type RoundTrip } from './round-trip.js';

// The bottom of the stack: one HTTP exchange, no redirects followed, nothing decompressed, over
// Node's own client for every request (ping, tokens, listings, manifests, HEADs, blob bytes):
// got's per-request machinery was most of a no-op sync's CPU at scale, and a blob's gigabytes
// pass through no extra stream (docs/benchmarks.md). Every failure, before the answer or in its
// body, leaves here in the error vocabulary (NETWORK, TIMEOUT, TLS).

export interface OpenOptions {
  /** Connecting and waiting for the response headers (`source.timeoutSeconds`). */
  timeoutMs: number;
  /** The longest silence on a connection, a body's included (`source.idleTimeoutSeconds`). */
  idleTimeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

function what(request: RegistryRequest): string {
  return request.subject ?? requestLine(request);
}

function mapper(request: RegistryRequest): (error: unknown) => Error {
  return (error) =>
    request.signal?.aborted
      ? (request.signal.reason as Error)
      : networkError(error, { url: request.url, configKey: request.configKey, what: what(request) });
}

/**
 * The exchange: the headers within `timeoutMs`, then no silence longer than `idleTimeoutMs` in
 * the body; the abort signal ends either with its reason.
 */
export function opener(options: OpenOptions): RoundTrip {
  const tls = options.tls;
  return (request) =>
    new Promise((resolve, reject) => {
      const send = request.url.startsWith('https:') ? httpsRequest : httpRequest;
      const map = mapper(request);
      const outgoing = send(request.url, {
        method: request.method,
        headers: { 'user-agent': 'blobmirror', ...request.headers },
        ...(tls ? { ca: tls.ca, cert: tls.cert, key: tls.key } : {}),
      });
      const host = hostOf(request.url);
      const headersTimer = setTimeout(() => {
        const seconds = options.timeoutMs / 1000;
        const message = `${what(request)} at ${host} (${request.configKey}): no answer within ${seconds} s (source.timeoutSeconds)`;
        outgoing.destroy(new TimeoutError(message, { retryable: true }));
      }, options.timeoutMs);
      const abort = () => outgoing.destroy(request.signal!.reason as Error);
      request.signal?.addEventListener('abort', abort, { once: true });
      const settled = () => {
        clearTimeout(headersTimer);
        request.signal?.removeEventListener('abort', abort);
      };
      outgoing.once('response', (response) => {
        settled();
        // From here the body carries the errors and the abort, named for whoever reads it.
        guardBody(response, map, request.signal);
        outgoing.setTimeout(options.idleTimeoutMs, () => {
          const seconds = options.idleTimeoutMs / 1000;
          const message = `${what(request)} at ${host} (${request.configKey}): no bytes for ${seconds} s (source.idleTimeoutSeconds)`;
          // Retryable: the store resumes the body with Range from the bytes it has.
          response.destroy(new TimeoutError(message, { retryable: true }));
        });
        resolve({ status: response.statusCode!, headers: response.headers, url: request.url, body: response });
      });
      // Kept for the life of the request: an error after the answer must not go unhandled.
      outgoing.on('error', (error) => {
        settled();
        reject(map(error));
      });
      if (request.signal?.aborted) abort();
      outgoing.end();
    });
}
