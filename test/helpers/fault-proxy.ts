// A seeded, scriptable fault-injecting HTTP proxy in front of the real registry (127.0.0.1 only).
// Rules match by method, path regex and hit count; the first matching rule with hits left decides
// what the client gets. Every request is recorded (method, path, headers incl. Range, bytes sent).
import { createHash } from 'node:crypto';
import {
  request as httpRequest,
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

export type Fault =
  /** TCP RST after `afterBytes` of the body (after `pauseMs`, so the client has written what it got). */
  | { kind: 'reset'; afterBytes: number; pauseMs?: number }
  /** RST before any response. */
  | { kind: 'reset-early' }
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'too-many'; retryAfter?: string }
  /** Honest Content-Length, then FIN after `afterBytes`. */
  | { kind: 'truncate'; afterBytes: number; pauseMs?: number }
  /** Content-Length lies: `delta` < 0 sends a clean short body, `delta` > 0 promises more than it sends, then FIN. */
  | { kind: 'lie-length'; delta: number }
  /** One byte XORed at `at` (default: a seeded position in the body). */
  | { kind: 'flip'; at?: number }
  /** Nothing for `ms` after `afterBytes` of the body (-1: before the headers), then RST. */
  | { kind: 'stall'; ms: number; afterBytes: number }
  /** 307 back to the same URL, forever. */
  | { kind: 'redirect-loop' }
  /** 307 to `to(path)`: another host. */
  | { kind: 'redirect'; to: (path: string) => string }
  | { kind: 'html' }
  /** The whole answer made up by the test; upstream is not asked. */
  | {
      kind: 'respond';
      status?: number;
      headers?: Record<string, string>;
      body?: string | Buffer | ((request: IncomingHttpHeaders) => string);
    }
  /** Ask upstream for another path (a synthetic repository borrowing real blobs). */
  | { kind: 'forward'; path: (path: string) => string }
  /** Upstream's answer with its headers edited (e.g. a challenge's realm pointed elsewhere). */
  | { kind: 'edit-headers'; edit: (headers: Record<string, string | string[]>) => Record<string, string | string[]> };

export interface FaultRule {
  method?: string;
  path: RegExp;
  /** Matching requests let through untouched before this rule applies (default 0). */
  skip?: number;
  /** How many matching requests get the fault (default: all). */
  times?: number;
  fault: Fault;
}

export interface RecordedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  /** Index of the rule applied, if any. */
  rule: number | undefined;
  status: number | undefined;
  /** Body bytes written to the client. */
  bytesSent: number;
  at: number;
}

export interface FaultProxy {
  url: string;
  port: number;
  requests: RecordedRequest[];
  setRules(rules: FaultRule[]): void;
  /** Global body throughput limit in bytes/s for every response (undefined: none). */
  throttle(bytesPerSecond: number | undefined): void;
  /** Forget recorded requests and hit counts. */
  reset(): void;
  /** A number in [0, 1) from the seeded generator. */
  random(): number;
  close(): Promise<void>;
}

/** mulberry32 over a string seed: same seed, same faults. */
export function seededRandom(seed: string): () => number {
  let state = createHash('sha256').update(seed).digest().readUInt32LE(0);
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const HOP_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export async function startFaultProxy(options: { upstream: string; seed?: string }): Promise<FaultProxy> {
  const upstream = new URL(options.upstream);
  const random = seededRandom(options.seed ?? 'fault-proxy');
  let rules: FaultRule[] = [];
  let hits = new Map<number, number>();
  let bytesPerSecond: number | undefined;
  // A global token bucket: throughput is shared by all connections, as on a slow uplink.
  let bucketFreeAt = Date.now();
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();

  const pick = (method: string, path: string): { index: number; fault: Fault } | undefined => {
    for (const [index, rule] of rules.entries()) {
      if ((rule.method && rule.method !== method) || !rule.path.test(path)) continue;
      const n = (hits.get(index) ?? 0) + 1;
      hits.set(index, n);
      const skip = rule.skip ?? 0;
      if (n > skip && n - skip <= (rule.times ?? Infinity)) return { index, fault: rule.fault };
    }
    return undefined;
  };

  const pace = async (n: number) => {
    if (!bytesPerSecond) return;
    const now = Date.now();
    bucketFreeAt = Math.max(bucketFreeAt, now) + (n / bytesPerSecond) * 1000;
    if (bucketFreeAt - now > 1) await sleep(bucketFreeAt - now);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse, record: RecordedRequest): Promise<void> => {
    const chosen = pick(record.method, record.path);
    record.rule = chosen?.index;
    const fault = chosen?.fault;
    const answer = (status: number, headers: Record<string, string>, body: string | Buffer = '') => {
      record.status = status;
      const bytes = Buffer.from(body);
      res.writeHead(status, { 'content-length': String(bytes.length), ...headers });
      record.bytesSent += req.method === 'HEAD' ? 0 : bytes.length;
      res.end(req.method === 'HEAD' ? undefined : bytes);
    };
    switch (fault?.kind) {
      case 'reset-early':
        req.socket.resetAndDestroy();
        return;
      case 'status':
        return answer(
          fault.status,
          { 'content-type': 'application/json', ...fault.headers },
          fault.body ?? `{"errors":[{"code":"UNAVAILABLE","message":"injected ${fault.status}"}]}`,
        );
      case 'too-many':
        return answer(
          429,
          { 'content-type': 'application/json', ...(fault.retryAfter ? { 'retry-after': fault.retryAfter } : {}) },
          '{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}',
        );
      case 'redirect-loop':
        return answer(307, { location: record.path });
      case 'redirect':
        return answer(307, { location: fault.to(record.path) });
      case 'html':
        return answer(
          200,
          { 'content-type': 'text/html' },
          '<!DOCTYPE html><html><body><h1>Welcome to nginx!</h1></body></html>',
        );
      case 'respond':
        return answer(
          fault.status ?? 200,
          fault.headers ?? {},
          typeof fault.body === 'function' ? fault.body(req.headers) : (fault.body ?? ''),
        );
      case 'stall':
        if (fault.afterBytes < 0) {
          await sleep(fault.ms);
          req.socket.resetAndDestroy();
          return;
        }
    }

    const upstreamPath = fault?.kind === 'forward' ? fault.path(record.path) : record.path;
    const headers = { ...req.headers, host: upstream.host };
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const out = httpRequest(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: upstreamPath, headers },
        resolve,
      );
      out.once('error', reject);
      out.end();
    });
    const upstreamHeaders = Object.fromEntries(
      Object.entries(response.headers).filter(([name]) => !HOP_HEADERS.has(name)),
    ) as Record<string, string | string[]>;
    const passHeaders = fault?.kind === 'edit-headers' ? fault.edit(upstreamHeaders) : upstreamHeaders;
    const status = response.statusCode ?? 502;
    record.status = status;
    const length = Number(response.headers['content-length'] ?? Number.NaN);

    // Body faults act on successful bodies only; errors from upstream pass through untouched.
    const bodyFault = status === 200 || status === 206 ? fault : undefined;
    let declared = length;
    if (bodyFault?.kind === 'lie-length' && Number.isFinite(length)) declared = Math.max(0, length + bodyFault.delta);
    const sendLimit = bodyFault?.kind === 'lie-length' && bodyFault.delta < 0 ? declared : Infinity;
    const flipAt = bodyFault?.kind === 'flip' ? (bodyFault.at ?? Math.floor(random() * Math.max(1, length || 1))) : -1;
    res.writeHead(status, {
      ...passHeaders,
      ...(Number.isFinite(declared) ? { 'content-length': String(declared) } : {}),
    });
    if (req.method === 'HEAD') {
      response.resume();
      res.end();
      return;
    }
    const cutter =
      bodyFault?.kind === 'reset' || bodyFault?.kind === 'truncate' || bodyFault?.kind === 'stall'
        ? bodyFault
        : undefined;
    const cut = cutter?.afterBytes ?? Infinity;
    const closed = new Promise((resolve) => res.once('close', resolve));
    let sent = 0;
    for await (const raw of response) {
      let chunk = raw as Buffer;
      if (sent + chunk.length > sendLimit) chunk = chunk.subarray(0, sendLimit - sent);
      if (flipAt >= sent && flipAt < sent + chunk.length) {
        chunk = Buffer.from(chunk);
        chunk[flipAt - sent]! ^= 0xff;
      }
      if (sent + chunk.length >= cut) {
        const head = chunk.subarray(0, cut - sent);
        await pace(head.length);
        res.write(head);
        record.bytesSent += head.length;
        response.destroy();
        await sleep(cutter!.kind === 'stall' ? cutter!.ms : (cutter!.pauseMs ?? 50));
        if (cutter!.kind === 'truncate') req.socket.end();
        else req.socket.resetAndDestroy();
        return;
      }
      await pace(chunk.length);
      if (req.socket.destroyed) break;
      // A client killed mid-body never drains: stop on close too, and let go of upstream.
      if (!res.write(chunk)) await Promise.race([new Promise((resolve) => res.once('drain', resolve)), closed]);
      record.bytesSent += chunk.length;
      sent += chunk.length;
      if (sent >= sendLimit) break;
      if (res.destroyed || res.writableEnded || req.socket.destroyed) {
        response.destroy();
        return;
      }
    }
    if (bodyFault?.kind === 'lie-length' && bodyFault.delta > 0) {
      // Every real byte was sent; the promised rest never comes.
      await sleep(50);
      req.socket.end();
      return;
    }
    res.end();
  };

  const server: Server = createServer((req, res) => {
    const record: RecordedRequest = {
      method: req.method ?? '',
      path: req.url ?? '',
      headers: req.headers,
      rule: undefined,
      status: undefined,
      bytesSent: 0,
      at: Date.now(),
    };
    requests.push(record);
    handle(req, res, record).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    setRules: (next) => {
      rules = next;
      hits = new Map();
    },
    throttle: (limit) => {
      bytesPerSecond = limit;
    },
    reset: () => {
      requests.length = 0;
      hits = new Map();
    },
    random,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** A second host that serves blob bytes (a storage/CDN host a registry redirects to), recording headers. */
export interface BlobHost {
  url: string;
  requests: Array<{ path: string; headers: IncomingHttpHeaders }>;
  close(): Promise<void>;
}

/** Serves `/<repository>/blobs/<digest>` by fetching it from `registry` with `authorization` (as presigned storage would). */
export async function startBlobHost(registry: string, authorization: string | undefined): Promise<BlobHost> {
  const requests: BlobHost['requests'] = [];
  const server = createServer((req, res) => {
    requests.push({ path: req.url ?? '', headers: req.headers });
    const upstream = new URL(`/v2${req.url}`, registry);
    const out = httpRequest(
      upstream,
      {
        method: req.method,
        headers: {
          ...(authorization ? { authorization } : {}),
          ...(req.headers.range ? { range: req.headers.range } : {}),
        },
      },
      (response) => {
        res.writeHead(
          response.statusCode ?? 502,
          Object.fromEntries(
            Object.entries(response.headers).filter(([n]) => !['connection', 'keep-alive'].includes(n)),
          ) as Record<string, string>,
        );
        response.pipe(res);
      },
    );
    out.once('error', () => res.destroy());
    out.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
