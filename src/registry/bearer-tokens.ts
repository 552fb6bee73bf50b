import { AuthError } from '../errors.js';
import type { Challenge } from './auth-challenge.js';
import { checkResponse } from './check-response.js';
import { basicAuthorization, type Credentials } from './credentials.js';
import { parseJsonObject, readBounded } from './http-body.js';
import type { Redactor } from './redactor.js';
import type { RegistryRequest, RoundTrip } from './round-trip.js';
import { TokenCache } from './token-cache.js';

const MAX_TOKEN_BODY = 1024 * 1024;

/**
 * Bearer tokens per (realm, service, scope): cached until shortly before they expire, and one
 * token request per key at a time (concurrent requests wait for the same answer).
 */
export class BearerTokens {
  readonly #cache: TokenCache;
  readonly #pending = new Map<string, Promise<string>>();

  constructor(
    private readonly next: RoundTrip,
    private readonly options: {
      origin: string;
      credentials: Credentials | undefined;
      configKey: string;
      signal?: AbortSignal;
    },
    private readonly redactor: Redactor,
    cache = new TokenCache(),
  ) {
    this.#cache = cache;
  }

  async token(challenge: Challenge, scope: string): Promise<string> {
    const key = tokenKey(challenge, scope);
    const cached = this.#cache.get(key);
    if (cached) return cached;
    let pending = this.#pending.get(key);
    if (!pending) {
      pending = this.#fetch(challenge, scope).finally(() => this.#pending.delete(key));
      this.#pending.set(key, pending);
    }
    return pending;
  }

  /** A 401 with this token: ask for a new one. */
  forget(challenge: Challenge, scope: string): void {
    this.#cache.delete(tokenKey(challenge, scope));
  }

  async #fetch(challenge: Challenge, scope: string): Promise<string> {
    const realm = challenge.params.realm;
    if (!realm || !/^https?:\/\//.test(realm))
      throw new AuthError(`registry ${this.options.origin} sent a Bearer challenge without a valid realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    url.searchParams.append('scope', scope);
    const credentials = this.options.credentials;
    const server = `token endpoint ${url.origin}${url.pathname} for scope ${scope}`;
    // The realm is where the registry tells us to authenticate, so it gets the credentials
    // (as docker and containers/image do), but nothing it redirects to does.
    const request: RegistryRequest = {
      method: 'GET',
      url: url.href,
      headers: credentials ? { authorization: basicAuthorization(credentials) } : {},
      server,
      authService: true,
      configKey: `the token realm of ${this.options.configKey}`,
      ...(this.options.signal ? { signal: this.options.signal } : {}),
    };
    const response = await this.next(request);
    await checkResponse(response, request, this.redactor);
    const body = parseJsonObject(await readBounded(response.body, MAX_TOKEN_BODY, server), server);
    const token = typeof body.token === 'string' && body.token ? body.token : body.access_token;
    if (typeof token !== 'string' || !token) throw new AuthError(`${server} returned no token`);
    this.redactor.add(token);
    const expires = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : undefined;
    const issuedAt = typeof body.issued_at === 'string' ? body.issued_at : undefined;
    this.#cache.set(tokenKey(challenge, scope), token, expires, issuedAt);
    return token;
  }
}

function tokenKey(challenge: Challenge, scope: string): string {
  return TokenCache.key(challenge.params.realm ?? '', challenge.params.service, scope);
}
