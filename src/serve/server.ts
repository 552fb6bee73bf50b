import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { describeError } from '../errors.js';
import type { AccessLog } from './access-log.js';
import { handleRoute, type ServeContext, type ServeMode } from './handlers.js';
import { MetadataReader } from './metadata-reader.js';
import type { MirrorConfig } from '../mirror-list/mirror-config.js';
import { acceptedTypes } from './negotiate.js';
import { API_VERSION_HEADER, registryError, type ServeResponse } from './responses.js';
import { MirrorStateWatch } from './mirror-state-watch.js';
import { MAX_URL_LENGTH, parseRoute } from './routes.js';
import { ServeMetrics } from './serve-metrics.js';
import { StatusData, type StatusSources } from './ui/status-data.js';
import { handleUi } from './ui/ui-routes.js';

// The HTTP(S) front: method and size limits, one generation per request, response writing, the
// access log and graceful shutdown. Endpoint logic lives in handlers.ts.

export interface ServerOptions {
  metadataDir: string;
  mirrors: MirrorConfig;
  mode: ServeMode;
  host: string;
  port: number;
  tls?: { cert: Buffer; key: Buffer };
  accessLog?: AccessLog;
  log: Logger;
  /** See MetadataReaderOptions.recheckMs. */
  recheckMs?: number;
  /** The status page at / (docs/serving.md); false or absent: off, non-/v2/ paths answer 404. */
  statusPage?: false | Omit<StatusSources, 'reader' | 'mirrors'>;
}

export interface RunningServer {
  /** `http(s)://host:port`, with the port actually bound (for `--listen 127.0.0.1:0`). */
  url: string;
  port: number;
  /** Stop accepting, let requests in flight finish (up to `graceMs`), then close everything. */
  close(graceMs?: number): Promise<void>;
}

const MAX_HEADER_BYTES = 16 * 1024;
const BLOB_REDIRECT_STATUS = 307;

const UNAVAILABLE = Symbol('no generation');

function clientAddress(req: IncomingMessage, header: string | undefined): string {
  // Behind a trusted proxy the socket address is the proxy; its header names the client. Only
  // mirror choice uses this, so a spoofed value only changes which mirror the spoofer gets.
  const forwarded = header ? req.headers[header.toLowerCase()] : undefined;
  const first = (Array.isArray(forwarded) ? forwarded[0] : forwarded)?.split(',')[0]?.trim();
  return first || req.socket.remoteAddress || '-';
}

function clientCountry(req: IncomingMessage, header: string | undefined): string | undefined {
  const value = header ? req.headers[header.toLowerCase()] : undefined;
  return typeof value === 'string' && /^[A-Za-z]{2}$/.test(value) ? value.toUpperCase() : undefined;
}

function textResponse(status: number, text: string): ServeResponse {
  return { status, headers: { 'Content-Type': 'text/plain; charset=utf-8' }, body: Buffer.from(text) };
}

const REGISTRY_PATH = /^\/v2(?:[/?]|$)/;
const HOST_HEADER = /^(?:[A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(?::\d{1,5})?$/;

function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { log } = options;
  const reader = new MetadataReader(options.metadataDir, {
    recheckMs: options.recheckMs,
    onReloadError: (error) =>
      log.error({ err: describeError(error) }, 'new metadata generation not loaded; still serving the previous one'),
  });
  const metrics = new ServeMetrics();
  const check = options.mirrors.check;
  // One watch of the checker's state for routing (with check:) and the status page alike.
  const watch =
    check || options.statusPage
      ? new MirrorStateWatch({
          metadataDir: options.metadataDir,
          unchecked: check?.unchecked ?? 'avoid',
          recheckMs: options.recheckMs ?? 1000,
          onError: (message) => log.error(message),
        })
      : undefined;
  await watch?.refresh();
  const mirrorState = check ? watch : undefined;
  const ctx: ServeContext = { reader, mirrors: options.mirrors, mode: options.mode, mirrorState, metrics };
  const status =
    options.statusPage &&
    new StatusData({
      ...options.statusPage,
      mirrorState: watch,
      reader,
      mirrors: options.mirrors,
    });
  let url = '';
  // The generation requests were last answered from, or UNAVAILABLE while there is none: the
  // cause is logged when that starts (here at startup, or later), not once per request.
  let lastGeneration: string | typeof UNAVAILABLE | undefined;
  await reader.current().catch((error: unknown) => {
    log.warn(`${describeError(error)}; answering 503 until sync publishes one`);
    lastGeneration = UNAVAILABLE;
  });

  // Outside /v2/, so no registry path can collide with them.
  async function operational(target: string): Promise<ServeResponse | undefined> {
    const pathOnly = target.split('?')[0];
    if (pathOnly === '/healthz') return textResponse(200, 'ok\n');
    if (pathOnly === '/readyz') {
      const generation = await reader.current().catch(() => undefined);
      if (!generation) return textResponse(503, 'not ready: no metadata generation published yet\n');
      if (mirrorState && !mirrorState.loaded) return textResponse(503, 'not ready: mirror state not read yet\n');
      return textResponse(200, `ready: generation ${generation.id}\n`);
    }
    if (pathOnly === '/metrics') {
      if (mirrorState?.updatedAt !== undefined) metrics.stateAge.set((Date.now() - mirrorState.updatedAt) / 1000);
      mirrorState?.current();
      return {
        status: 200,
        headers: { 'Content-Type': metrics.registry.contentType },
        body: Buffer.from(await metrics.text()),
      };
    }
    return undefined;
  }

  async function respond(req: IncomingMessage, clientKey: string): Promise<[ServeResponse, string]> {
    const answer = await respondRoute(req, clientKey);
    return 'route' in answer ? [answer.response, answer.route] : [answer, 'invalid'];
  }

  async function respondRoute(
    req: IncomingMessage,
    clientKey: string,
  ): Promise<ServeResponse | { response: ServeResponse; route: string }> {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      // Connection: close, so an upload body is never read, whatever its size.
      return registryError(
        405,
        'UNSUPPORTED',
        'this registry is read-only: only GET and HEAD',
        { method: req.method?.slice(0, 20) },
        { Allow: 'GET, HEAD', Connection: 'close' },
      );
    }
    if (hasBody(req))
      return registryError(400, 'UNSUPPORTED', 'GET and HEAD requests take no body', null, { Connection: 'close' });
    const target = req.url ?? '/';
    const ops = await operational(target);
    if (ops) return { response: ops, route: target.startsWith('/metrics') ? 'metrics' : 'health' };
    if (status && target.length <= MAX_URL_LENGTH && !REGISTRY_PATH.test(target)) {
      // The pull lines name the address the browser used; a Host that is no host:port is not echoed.
      const host = HOST_HEADER.test(req.headers.host ?? '') ? req.headers.host! : new URL(url).host;
      const page = await handleUi(status, target, host);
      if (page) return { response: page, route: 'ui' };
    }
    const parsed = parseRoute(target);
    if ('error' in parsed) return parsed.error;
    let generation;
    try {
      generation = await reader.current();
    } catch (error) {
      if (lastGeneration !== UNAVAILABLE) log.error({ err: describeError(error) }, 'no metadata to serve');
      lastGeneration = UNAVAILABLE;
      return {
        response: registryError(503, 'UNAVAILABLE', 'no metadata generation is published yet', null, {
          'Retry-After': '30',
        }),
        route: parsed.route.kind,
      };
    }
    if (generation.id !== lastGeneration) {
      log.info(
        { generation: generation.id, repositories: generation.repositoryNames.length },
        'serving metadata generation',
      );
      lastGeneration = generation.id;
    }
    const client = {
      accepted: acceptedTypes(req.headers.accept),
      clientKey,
      country: clientCountry(req, options.mirrors.clientCountryHeader),
    };
    return { response: await handleRoute(ctx, generation, parsed.route, client), route: parsed.route.kind };
  }

  async function onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const time = new Date();
    const clientKey = clientAddress(req, options.mirrors.clientIpHeader);
    let response: ServeResponse;
    let route = 'invalid';
    try {
      [response, route] = await respond(req, clientKey);
    } catch (error) {
      log.error({ err: describeError(error), url: req.url?.slice(0, 300) }, 'request failed');
      response = registryError(500, 'UNKNOWN', 'internal error reading metadata');
    }
    metrics.request(route, response.status);
    if (status && response.status === BLOB_REDIRECT_STATUS) status.redirects.record(response.headers.Location!);
    const head = req.method === 'HEAD';
    res.writeHead(response.status, {
      ...API_VERSION_HEADER,
      ...response.headers,
      'Content-Length': String(response.body.length),
    });
    res.end(head ? undefined : response.body);
    options.accessLog?.write({
      remote: req.socket.remoteAddress ?? '-',
      time,
      method: req.method ?? '-',
      target: req.url ?? '-',
      httpVersion: req.httpVersion,
      status: response.status,
      bytes: head ? 0 : response.body.length,
      referer: req.headers.referer,
      userAgent: req.headers['user-agent'],
    });
  }

  const serverOptions = { maxHeaderSize: MAX_HEADER_BYTES, requestTimeout: 30_000, headersTimeout: 10_000 };
  const server = options.tls
    ? https.createServer({ ...serverOptions, cert: options.tls.cert, key: options.tls.key })
    : http.createServer(serverOptions);
  server.on('request', (req, res) => void onRequest(req, res));
  server.on('clientError', (error, socket) => {
    // Oversized headers, malformed requests: answer plainly and drop the connection.
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
    log.debug({ err: describeError(error) }, 'bad request from client');
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  url = `${options.tls ? 'https' : 'http'}://${host}:${port}`;

  return {
    url,
    port,
    close: (graceMs = 10_000) =>
      new Promise<void>((resolve) => {
        const force = setTimeout(() => server.closeAllConnections(), graceMs);
        force.unref();
        server.close(() => {
          clearTimeout(force);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
