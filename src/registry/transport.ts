import type { Credentials } from './credentials.js';
import { basicAuthorization } from './credentials.js';
import { authenticating } from './authenticating.js';
import { BearerTokens } from './bearer-tokens.js';
import { checkResponse } from './check-response.js';
import { opener, type OpenOptions } from './http-open.js';
import { Ping } from './ping.js';
import { Redactor } from './redactor.js';
import { followingRedirects } from './redirects.js';
import { retrying, type OnRetry } from './retry-transport.js';
import type { RetryPolicy } from './retry.js';
import type { RegistryRequest, RegistryResponse, RoundTrip } from './round-trip.js';

export interface TransportOptions extends OpenOptions {
  /** `https://host[:port]`, no path. */
  baseUrl: string;
  /** The config key that names `baseUrl`, for network errors. */
  configKey: string;
  credentials: Credentials | undefined;
  retry: RetryPolicy;
  /** Ends every request, bodies included, with its reason (the run's deadline). */
  signal?: AbortSignal;
  onRetry?: OnRetry;
}

export interface SendOptions {
  scope: string;
  headers?: Record<string, string>;
  subject?: string;
  signal?: AbortSignal;
}

/**
 * The stack composed: open -> redirects -> retry under everything (the ping and the token
 * endpoint too), authentication on top for the registry's own requests.
 */
export class RegistryTransport {
  readonly origin: string;
  readonly #options: TransportOptions;
  readonly #redactor = new Redactor();
  readonly #send: RoundTrip;

  constructor(options: TransportOptions) {
    this.#options = options;
    this.origin = new URL(options.baseUrl).origin;
    if (options.credentials) {
      this.#redactor.add(options.credentials.password);
      this.#redactor.add(basicAuthorization(options.credentials).slice('Basic '.length));
    }
    const base = retrying(followingRedirects(opener(options)), options.retry, this.#redactor, options.onRetry);
    const common = {
      origin: this.origin,
      configKey: options.configKey,
      ...(options.signal ? { signal: options.signal } : {}),
    };
    const ping = new Ping(base, { ...common, server: `registry ${this.origin}` }, this.#redactor);
    const tokens = new BearerTokens(base, { ...common, credentials: options.credentials }, this.#redactor);
    this.#send = authenticating(base, {
      origin: this.origin,
      credentials: options.credentials,
      ping,
      tokens,
      redactor: this.#redactor,
    });
  }

  /** Send with auth and retries; the caller owns `body` and must consume, drain or check it. */
  send(request: RegistryRequest): Promise<RegistryResponse> {
    return this.#send(request);
  }

  /** The request as the stack and its messages see it. */
  describe(method: 'GET' | 'HEAD', path: string, options: SendOptions): RegistryRequest {
    const signals = [this.#options.signal, options.signal].filter((s) => s !== undefined);
    return {
      method,
      url: new URL(path, this.origin).href,
      headers: options.headers ?? {},
      scope: options.scope,
      server: `registry ${this.origin}`,
      configKey: this.#options.configKey,
      ...(options.subject ? { subject: options.subject } : {}),
      ...(signals.length ? { signal: signals.length === 1 ? signals[0]! : AbortSignal.any(signals) } : {}),
    };
  }

  /** The status's error unless it is one of `ok` (see check-response.ts). */
  check(response: RegistryResponse, request: RegistryRequest, ok?: readonly number[]): Promise<void> {
    return checkResponse(response, request, this.#redactor, ok);
  }
}
