import type { IncomingHttpHeaders } from 'node:http';
import type { Readable } from 'node:stream';
import { RegistryError } from '../errors.js';
import { parseChallenge, type Challenge } from './auth-challenge.js';
import { bulkOpener, gotOpener, type Opener } from './http-open.js';
import type { Credentials } from './credentials.js';
import { drain, parseJsonObject, readBounded, registryErrorText } from './http-body.js';
import { parseRetryAfter, withRetry, type RetryPolicy } from './retry.js';
import { TokenCache } from './token-cache.js';

export interface TransportOptions {
  /** `https://host[:port]`, no path. */
  baseUrl: string;
  credentials: Credentials | undefined;
  timeoutMs: number;
  retry: RetryPolicy;
  tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer };
  onRetry?: (what: string, error: unknown, delayMs: number, attempt: number) => void;
}

export interface Response {
  status: number;
  headers: IncomingHttpHeaders;
  url: string;
  body: Readable;
}

const MAX_REDIRECTS = 5;
const MAX_ERROR_BODY = 64 * 1024;
const MAX_TOKEN_BODY = 1024 * 1024;

export function authFailed(message: string): RegistryError {
  return new RegistryError('AUTH_FAILED', message, { status: 401 });
}

/**
 * The registry transport stack: ping once to learn the auth scheme, then per request add Basic
 * or a cached Bearer token for the request's scope, follow redirects by hand (Authorization
 * never leaves the registry's origin), and turn 429/5xx/network errors into retries.
 */
export class RegistryTransport {
  readonly origin: string;
  readonly #options: TransportOptions;
  readonly #tokens = new TokenCache();
  /** One token request per scope at a time: concurrent requests wait for the same answer. */
  readonly #pendingTokens = new Map<string, Promise<string>>();
  #challenge: Promise<Challenge | undefined> | undefined;
  /** Every secret this transport sends, cut out of whatever a server echoes back in an error. */
  readonly #secrets = new Set<string>();
  readonly #api: Opener;
  readonly #bulk: Opener;

  constructor(options: TransportOptions) {
    this.#options = options;
    const open = { timeoutMs: options.timeoutMs, ...(options.tls ? { tls: options.tls } : {}) };
    this.#api = gotOpener(open);
    this.#bulk = bulkOpener(open);
    if (options.credentials?.password) this.#secrets.add(options.credentials.password);
    if (options.credentials) this.#secrets.add(basic(options.credentials).slice('Basic '.length));
    this.origin = new URL(options.baseUrl).origin;
  }

  /**
   * Send with auth and retries; the caller owns `body` and must consume or drain it. `bulk`: a
   * blob body (gigabytes), sent through the lean opener.
   */
  async request(
    method: 'GET' | 'HEAD',
    path: string,
    scope: string,
    headers: Record<string, string> = {},
    bulk = false,
  ): Promise<Response> {
    const url = new URL(path, this.origin).href;
    const open = bulk ? this.#bulk : this.#api;
    const what = `${method} ${new URL(url).pathname}`;
    return withRetry(
      this.#options.retry,
      async () => {
        let response = await this.#follow(open, method, url, { ...headers, ...(await this.#authorization(scope)) });
        if (response.status === 401) {
          const challenge = parseChallenge(header(response.headers['www-authenticate']));
          drain(response.body);
          await this.#authenticate(challenge, scope, what);
          response = await this.#follow(open, method, url, { ...headers, ...(await this.#authorization(scope)) });
          if (response.status === 401) {
            const text = await this.errorText(response);
            throw authFailed(
              `registry ${this.origin} refused ${this.#options.credentials ? 'the configured credentials' : 'anonymous access'} for ${what}${text}`,
            );
          }
        }
        if (response.status === 429 || response.status >= 500)
          throw this.#transientError(response, what, await this.errorText(response));
        return response;
      },
      (error, delay, attempt) => this.#options.onRetry?.(what, error, delay, attempt),
    );
  }

  /** Learn the auth scheme from `GET /v2/` once; later requests authenticate up front. */
  ping(): Promise<Challenge | undefined> {
    this.#challenge ??= (async () => {
      const response = await withRetry(this.#options.retry, async () => {
        const answer = await this.#follow(this.#api, 'GET', `${this.origin}/v2/`, {});
        if (answer.status === 429 || answer.status >= 500)
          throw this.#transientError(answer, `GET /v2/`, await this.errorText(answer));
        return answer;
      });
      const challenge =
        response.status === 401 ? parseChallenge(header(response.headers['www-authenticate'])) : undefined;
      const text =
        response.status === 200 || response.status === 401
          ? (drain(response.body), '')
          : await this.errorText(response);
      if (response.status !== 200 && response.status !== 401) {
        throw new RegistryError(
          'REGISTRY_ERROR',
          `${this.origin}/v2/ answered ${response.status}: not a Docker Registry V2 API${text}`,
          { status: response.status, retryable: false },
        );
      }
      return challenge;
    })();
    this.#challenge.catch(() => (this.#challenge = undefined));
    return this.#challenge;
  }

  async #authorization(scope: string): Promise<Record<string, string>> {
    const challenge = await this.ping();
    if (challenge?.scheme === 'basic' && this.#options.credentials)
      return { authorization: basic(this.#options.credentials) };
    if (challenge?.scheme === 'bearer') {
      const key = tokenKey(challenge, scope);
      let token = this.#tokens.get(key);
      if (!token) {
        let pending = this.#pendingTokens.get(key);
        if (!pending) {
          pending = this.#fetchToken(challenge, scope).finally(() => this.#pendingTokens.delete(key));
          this.#pendingTokens.set(key, pending);
        }
        token = await pending;
      }
      return { authorization: `Bearer ${token}` };
    }
    return {};
  }

  async #authenticate(challenge: Challenge | undefined, scope: string, what: string): Promise<void> {
    if (!challenge)
      throw authFailed(
        `registry ${this.origin} asked for authentication on ${what} without a usable WWW-Authenticate challenge`,
      );
    if (challenge.scheme === 'basic' && !this.#options.credentials) {
      throw authFailed(`registry ${this.origin} requires credentials for ${what}; set source.auth in the config`);
    }
    // The scheme or realm may have changed since the ping; remember the newest challenge.
    this.#challenge = Promise.resolve(challenge);
    if (challenge.scheme === 'bearer') this.#tokens.delete(tokenKey(challenge, scope));
  }

  async #fetchToken(challenge: Challenge, scope: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm || !/^https?:\/\//.test(realm))
      throw authFailed(`registry ${this.origin} sent a Bearer challenge without a valid realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.append('scope', scope);
    const credentials = this.#options.credentials;
    // The realm is where the registry tells us to authenticate, so it gets the credentials
    // (as docker and containers/image do), but nothing it redirects to does.
    const what = `token endpoint ${url.origin}${url.pathname} for scope ${scope}`;
    const response = await withRetry(this.#options.retry, async () => {
      const answer = await this.#follow(
        this.#api,
        'GET',
        url.href,
        credentials ? { authorization: basic(credentials) } : {},
        url.origin,
      );
      // An auth service hiccup (429, 5xx) is as transient as the registry's own.
      if (answer.status === 429 || answer.status >= 500) {
        throw new RegistryError('AUTH_FAILED', `${what} answered ${answer.status}${await this.errorText(answer)}`, {
          status: answer.status,
          retryable: true,
          retryAfterMs: parseRetryAfter(header(answer.headers['retry-after'])),
        });
      }
      return answer;
    });
    if (response.status !== 200)
      throw authFailed(`${what} answered ${response.status}${await this.errorText(response)}`);
    const body = parseJsonObject(await readBounded(response.body, MAX_TOKEN_BODY, what), what);
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || !token) throw authFailed(`${what} returned no token`);
    this.#secrets.add(token);
    const expires = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : undefined;
    this.#tokens.set(
      tokenKey(challenge, scope),
      token,
      expires,
      typeof body.issued_at === 'string' ? body.issued_at : undefined,
    );
    return token;
  }

  async #follow(
    open: Opener,
    method: 'GET' | 'HEAD',
    url: string,
    headers: Record<string, string>,
    authOrigin = this.origin,
  ): Promise<Response> {
    let current = url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      // Credentials belong to the registry: a storage or CDN host never sees them.
      const sameOrigin = new URL(current).origin === authOrigin;
      const sent = sameOrigin ? headers : withoutAuthorization(headers);
      const response = { ...(await open(method, current, sent)), url: current };
      const location = header(response.headers.location);
      if (![301, 302, 303, 307, 308].includes(response.status) || !location) return response;
      drain(response.body);
      current = new URL(location, current).href;
      if (!/^https?:$/.test(new URL(current).protocol))
        throw new RegistryError('REGISTRY_ERROR', `redirect to unsupported URL scheme ${new URL(current).protocol}`);
    }
    throw new RegistryError(
      'REGISTRY_ERROR',
      `too many redirects (over ${MAX_REDIRECTS}) for ${method} ${new URL(url).pathname}`,
      { retryable: false },
    );
  }

  /**
   * ` (CODE: message)` from an error body, or '' (never throws: it only decorates a message).
   * Every credential and token is cut out, before the message is shortened (a cut token would
   * escape a later match) and after JSON unescaping: some registries and proxies echo the
   * request's Authorization back in their error messages.
   */
  async errorText(response: Response): Promise<string> {
    let body: Buffer;
    try {
      body = await readBounded(response.body, MAX_ERROR_BODY, 'error body');
    } catch {
      return '';
    }
    const text = registryErrorText(Buffer.from(this.#redact(body.toString('utf8'))));
    return text ? ` (${this.#redact(text)})` : '';
  }

  #redact(text: string): string {
    let out = text;
    for (const secret of this.#secrets) out = out.split(secret).join('[redacted]');
    return out;
  }

  /** 429 and 5xx: retried, after the registry's Retry-After when it gives one. */
  #transientError(response: Response, what: string, text: string): RegistryError {
    return new RegistryError(
      'REGISTRY_ERROR',
      `registry ${this.origin} answered ${response.status} for ${what}${text}`,
      {
        status: response.status,
        retryable: true,
        retryAfterMs: parseRetryAfter(header(response.headers['retry-after'])),
      },
    );
  }
}

function basic(credentials: Credentials): string {
  return `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}`;
}

function tokenKey(challenge: Challenge, scope: string): string {
  return TokenCache.key(challenge.params.realm ?? '', challenge.params.service, scope);
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}

export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
