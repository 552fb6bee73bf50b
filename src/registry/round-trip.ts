import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';

// The registry client is a stack of small transports, each a `RoundTrip` wrapping the next one
// (as in go-containerregistry's pkg/v1/remote/transport and regclient): open -> redirects ->
// retry for every exchange, and auth (ping, challenge, token cache) on top for the registry's own.

export interface RegistryRequest {
  method: 'GET' | 'HEAD';
  url: string;
  headers: Record<string, string>;
  /** Who answers, for messages: `registry https://r.example` or `token endpoint … for scope …`. */
  server: string;
  /** What the request is about, for messages (`blob sha256:… of fedora/x`); the method and path when unset. */
  subject?: string;
  /** The token scope (`repository:x:pull`) the auth layer asks for. */
  scope?: string;
  /** A token endpoint: every failure there is AUTH_FAILED (without a token nothing works). */
  authService?: boolean;
  /** The config key that named the server (`source.url`), for network errors. */
  configKey: string;
  /** Aborts the exchange, body included, with `signal.reason` (a deadline's TimeoutError). */
  signal?: AbortSignal;
}

export interface RegistryResponse {
  status: number;
  headers: IncomingHttpHeaders;
  /** Where the answer came from, after redirects. */
  url: string;
  body: Readable;
}

export type RoundTrip = (request: RegistryRequest) => Promise<RegistryResponse>;

/** `GET /v2/…`: the request as messages name it. */
export function requestLine(request: Pick<RegistryRequest, 'method' | 'url'>): string {
  return `${request.method} ${new URL(request.url).pathname}`;
}

export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
