import type { Readable } from 'node:stream';
import got, { type Method, type Response } from 'got';
import { MANIFEST_TYPES } from '../../src/oci/media-types.js';
import { basicAuthorization } from './token-server.js';

/** What the helpers need of a registry; a `RegistryHandle` is one. */
export interface RegistryTarget {
  url: string;
  auth?: { username: string; password: string };
}

export interface RequestOptions {
  headers?: Record<string, string>;
  body?: Buffer | Readable;
}

export const ACCEPT_ALL_MANIFESTS = MANIFEST_TYPES.join(', ');

/**
 * Just enough of a registry client for test setup: Basic credentials, or the Bearer flow driven by
 * the registry's challenge (token cached per repository). A streamed body cannot be sent twice,
 * so callers make a bodiless request on the repository first (the upload POST does that).
 */
export class RegistryClient {
  private readonly tokens = new Map<string, string>();

  constructor(readonly target: RegistryTarget) {}

  async request(method: Method, path: string, options: RequestOptions = {}): Promise<Response<Buffer>> {
    const key = tokenKey(path);
    const send = () =>
      got(new URL(path, this.target.url), {
        method,
        headers: { ...this.authorization(key), ...options.headers },
        ...(options.body === undefined ? {} : { body: options.body }),
        responseType: 'buffer',
        throwHttpErrors: false,
        followRedirect: false,
        retry: { limit: 0 },
      });
    let response = await send();
    const challenge = response.headers['www-authenticate'];
    const replayable = options.body === undefined || Buffer.isBuffer(options.body);
    if (response.statusCode === 401 && challenge?.startsWith('Bearer ') && replayable) {
      this.tokens.set(key, await this.fetchToken(challenge));
      response = await send();
    }
    return response;
  }

  /** Like `request`, but any status other than `expected` throws with the registry's answer. */
  async expect(
    expected: number | number[],
    method: Method,
    path: string,
    options: RequestOptions = {},
  ): Promise<Response<Buffer>> {
    const response = await this.request(method, path, options);
    if (![expected].flat().includes(response.statusCode)) {
      throw new Error(`${method} ${path}: HTTP ${response.statusCode} ${response.body.toString('utf8').slice(0, 300)}`);
    }
    return response;
  }

  private authorization(key: string): Record<string, string> {
    const token = this.tokens.get(key);
    if (token) return { authorization: `Bearer ${token}` };
    const { auth } = this.target;
    return auth ? { authorization: basicAuthorization(auth.username, auth.password) } : {};
  }

  private async fetchToken(challenge: string): Promise<string> {
    const params = Object.fromEntries([...challenge.matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    if (!params.realm) throw new Error(`Bearer challenge without realm: ${challenge}`);
    const url = new URL(params.realm);
    if (params.service) url.searchParams.set('service', params.service);
    for (const scope of (params.scope ?? '').split(' ').filter(Boolean)) url.searchParams.append('scope', scope);
    const { auth } = this.target;
    const headers = auth ? { authorization: basicAuthorization(auth.username, auth.password) } : {};
    const answer = await got(url, { headers, retry: { limit: 0 } }).json<{ token?: string; access_token?: string }>();
    const token = answer.token ?? answer.access_token;
    if (!token) throw new Error(`token server at ${url.origin} answered without a token`);
    return token;
  }
}

/** Tokens are per repository (`/v2/<name>/...`); the catalog and `/v2/` get their own. */
function tokenKey(path: string): string {
  const match = /^\/v2\/(.+?)\/(?:manifests|blobs|tags)\//.exec(new URL(path, 'http://x').pathname);
  return match?.[1] ?? new URL(path, 'http://x').pathname;
}
