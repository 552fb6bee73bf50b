import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TimeoutError } from '../../../src/errors.js';
import { opener } from '../../../src/registry/http-open.js';
import { request } from '../../helpers/fake-round-trip.js';

// Real sockets: a refused port, a server that stalls after 1 KiB (a fault no real registry
// produces on purpose), and an HTTPS server with a certificate the client does not trust.

const open = opener({ timeoutMs: 2000, idleTimeoutMs: 300 });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function read(body: NodeJS.ReadableStream): Promise<number> {
  let n = 0;
  for await (const chunk of body) n += (chunk as Buffer).length;
  return n;
}

describe('opener', () => {
  let stalling: Server;
  let host: string;

  beforeAll(async () => {
    stalling = createServer((_req, res) => {
      res.writeHead(200, { 'content-length': String(64 * 1024) });
      res.write(Buffer.alloc(1024));
    });
    host = await listen(stalling);
  });
  afterAll(async () => {
    stalling.closeAllConnections();
    await new Promise((resolve) => stalling.close(resolve));
  });

  it('a refused connection is NETWORK, naming the host and source.url, not ECONNREFUSED', async () => {
    const closed = createServer();
    const where = await listen(closed);
    await new Promise((resolve) => closed.close(resolve));
    const error = await open(request({ url: `http://${where}/v2/` })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'NETWORK', retryable: true });
    expect((error as Error).message).toBe(`GET /v2/ at ${where} (source.url): connection refused`);
  });

  it('a body that sends 1 KiB and stalls ends in a retryable TIMEOUT naming the blob and host', async () => {
    const subject = 'blob sha256:abc of stable/app';
    const response = await open(request({ url: `http://${host}/v2/x/blobs/sha256:abc`, subject }));
    const error = await read(response.body).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect(error).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect((error as Error).message).toMatch(
      new RegExp(`^${subject} at ${host.replace(/\./g, '\\.')} \\(source\\.url\\): .*(no bytes|timed out)`),
    );
  });

  it("an aborted signal ends the body with the signal's reason", async () => {
    const controller = new AbortController();
    const deadline = new TimeoutError('blob sha256:abc of stable/app: deadline');
    const response = await open(request({ url: `http://${host}/v2/x`, signal: controller.signal }));
    setTimeout(() => controller.abort(deadline), 50);
    await expect(read(response.body)).rejects.toBe(deadline);
  });

  it('a body read to its end lets go of the signal (one signal guards a whole run)', async () => {
    const small = createServer((_req, res) => res.end('{}'));
    const where = await listen(small);
    try {
      const controller = new AbortController();
      for (let i = 0; i < 3; i++) {
        const response = await open(request({ url: `http://${where}/v2/`, signal: controller.signal }));
        expect(await read(response.body)).toBe(2);
      }
      await vi.waitFor(() => expect(getEventListeners(controller.signal, 'abort')).toHaveLength(0));
    } finally {
      small.closeAllConnections();
      await new Promise((resolve) => small.close(resolve));
    }
  });

  it('an already aborted signal never sends the request', async () => {
    const controller = new AbortController();
    const deadline = new TimeoutError('run deadline');
    controller.abort(deadline);
    await expect(open(request({ url: `http://${host}/v2/x`, signal: controller.signal }))).rejects.toBe(deadline);
  });
});

describe('opener over TLS', () => {
  let dir: string;
  let server: Server;
  let host: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-tls-'));
    await promisify(execFile)('openssl', [
      ...['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1'],
      ...['-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'],
      ...['-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')],
    ]);
    const [key, cert] = await Promise.all([readFile(path.join(dir, 'key.pem')), readFile(path.join(dir, 'cert.pem'))]);
    server = createHttpsServer({ key, cert }, (_req, res) => res.end('{}')) as unknown as Server;
    host = await listen(server);
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('an untrusted certificate is TLS, not retried, naming the host', async () => {
    const error = await open(request({ url: `https://${host}/v2/` })).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'TLS', retryable: false });
    expect((error as Error).message).toMatch(
      new RegExp(`^GET /v2/ at ${host} \\(source\\.url\\): TLS failed: .*certificate`),
    );
  });
});
