import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import got, { type Got } from 'got';
import { TimeoutError, hostOf, networkError } from '../errors.js';
import { guardBody } from './body-guard.js';
import { requestLine, type RegistryRequest, type RoundTrip } from './round-trip.js';

// The bottom of the stack: one HTTP exchange, no redirects followed, nothing decompressed. Two
// clients: got for the registry API, Node's own for the hot paths (blob bytes, tag HEADs). Every failure, before the answer
// or in its body, leaves here in the error vocabulary (NETWORK, TIMEOUT, TLS).

export interface OpenOptions {
  /** Connecting and waiting for the response headers (`source.timeoutSeconds`). */
  timeoutMs: number;
  /** The longest silence on a connection, a body's included (`source.idleTimeoutSeconds`). */
  idleTimeoutMs: number;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
}

/** got for the API (ping, tokens, lists, manifest GETs), Node's client for `bulk` requests (blobs, HEADs). */
export function opener(options: OpenOptions): RoundTrip {
  const api = gotOpener(options);
  const bulk = bulkOpener(options);
  return (request) => (request.bulk ? bulk(request) : api(request));
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

function gotOpener(options: OpenOptions): RoundTrip {
  const ms = options.timeoutMs;
  const client: Got = got.extend({
    followRedirect: false,
    throwHttpErrors: false,
    retry: { limit: 0 },
    decompress: false,
    timeout: { lookup: ms, connect: ms, secureConnect: ms, response: ms, send: ms, socket: options.idleTimeoutMs },
    headers: { 'user-agent': 'blobmirror' },
    https: { certificateAuthority: options.tls?.ca, certificate: options.tls?.cert, key: options.tls?.key },
  });
  return (request) =>
    new Promise((resolve, reject) => {
      const body = client.stream(request.url, { method: request.method, headers: request.headers });
      guardBody(body, mapper(request), request.signal);
      body.once('response', (response: { statusCode: number; headers: IncomingHttpHeaders }) => {
        body.off('error', reject);
        resolve({ status: response.statusCode, headers: response.headers, url: request.url, body });
      });
      body.once('error', reject);
    });
}

/**
 * Blob bytes and tag HEADs: Node's client, so gigabytes pass through no extra stream (got's Duplex
 * and progress events cost a 2.5 GB sync ~0.25 s of CPU and ~25 MB of peak RSS, measured with
 * `npm run bench`) and 100,000 HEADs make no got request objects.
 */
function bulkOpener(options: OpenOptions): RoundTrip {
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
