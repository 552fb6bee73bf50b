// The registry's notification endpoint. docker-distribution keeps its outgoing queue in memory
// and counts any 2xx as delivered, so a 2xx here is sent only after the triggers are on disk;
// anything else (including a failed write) makes the registry retry.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import type { ListenConfig } from '../config/load.js';
import { ConfigError, describeError } from '../errors.js';
import { taggedPushes, type TaggedPush } from './registry-events.js';

type WebhookConfig = NonNullable<ListenConfig['webhook']>;

export const WEBHOOK_PATH = '/notifications';
const MAX_BODY_BYTES = 1024 * 1024;
const CLOSE_GRACE_MS = 5000;

export interface Accepted {
  accepted: string[];
  ignored: string[];
}

export interface WebhookOptions {
  config: WebhookConfig;
  secret: string;
  /** Turn pushes into triggers; resolves once they are durable. */
  accept(pushes: TaggedPush[], requestId: string | undefined): Promise<Accepted>;
  log: Logger;
}

export interface Webhook {
  url: string;
  close(): Promise<void>;
}

/** The shared secret, from its file (trailing newline dropped) or environment variable. */
export async function readSecret(config: WebhookConfig): Promise<string> {
  let secret: string | undefined;
  if (config.secretFile) {
    try {
      secret = (await readFile(config.secretFile, 'utf8')).replace(/\r?\n$/, '');
    } catch (error) {
      throw new ConfigError(`listen.webhook.secretFile ${config.secretFile}: ${describeError(error)}`, {
        cause: error,
      });
    }
  } else {
    secret = process.env[config.secretEnv!];
  }
  if (!secret)
    throw new ConfigError(
      `listen.webhook: the shared secret (${config.secretFile ? `file ${config.secretFile}` : `environment variable ${config.secretEnv}`}) is empty or unset`,
    );
  return secret;
}

/** PURE: the header carries the secret, bare or as `Bearer <secret>`; compared in constant time. */
export function secretMatches(value: string | undefined, secret: string): boolean {
  if (value === undefined) return false;
  const given = value.replace(/^Bearer\s+/i, '');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(digest(given), digest(secret));
}

export async function startWebhook(options: WebhookOptions): Promise<Webhook> {
  const { config, log } = options;
  const header = config.header.toLowerCase();
  const server = createServer((request, response) => {
    void handle(request, response).catch((error: unknown) => {
      log.error(`webhook request failed: ${describeError(error)}`);
      if (!response.headersSent) reply(response, 500, { error: 'internal error' });
    });
  });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    if (new URL(request.url ?? '/', 'http://x').pathname !== WEBHOOK_PATH)
      return reply(response, 404, { error: `POST notifications to ${WEBHOOK_PATH}` });
    if (request.method !== 'POST') return reply(response, 405, { error: 'only POST' }, { allow: 'POST' });
    const value = request.headers[header];
    if (!secretMatches(Array.isArray(value) ? value[0] : value, options.secret)) {
      log.warn(
        { remote: request.socket.remoteAddress },
        `webhook: rejected a request without the shared secret in ${config.header}`,
      );
      request.resume();
      return reply(response, 401, { error: `missing or wrong ${config.header}` });
    }
    const body = await readBody(request);
    if (body === undefined) return reply(response, 413, { error: `body larger than ${MAX_BODY_BYTES} bytes` });
    let envelope: unknown;
    try {
      envelope = JSON.parse(body.toString('utf8'));
    } catch {
      return reply(response, 400, { error: 'body is not JSON' });
    }
    const result = taggedPushes(envelope);
    if (!result.ok) return reply(response, 400, { error: result.reason });
    if (!result.pushes.length) return reply(response, 200, { accepted: [], ignored: [] });
    const requestId = request.headers['x-request-id'];
    try {
      reply(response, 200, await options.accept(result.pushes, typeof requestId === 'string' ? requestId : undefined));
    } catch (error) {
      log.error(`webhook: cannot persist triggers: ${describeError(error)}; answering 503 so the registry retries`);
      reply(response, 503, { error: 'cannot persist the triggers; retry' });
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.address, () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  const url = `http://${address.includes(':') ? `[${address}]` : address}:${port}${WEBHOOK_PATH}`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS).unref();
      }),
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  // Drained to the end even when too large (the sender is authenticated), so the 413 arrives.
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks);
}

function reply(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(`${JSON.stringify(body)}\n`);
}
