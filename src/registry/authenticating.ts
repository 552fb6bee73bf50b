import { AuthError } from '../errors.js';
import { parseChallenge, type Challenge } from './auth-challenge.js';
import type { BearerTokens } from './bearer-tokens.js';
import { errorText } from './check-response.js';
import { basicAuthorization, type Credentials } from './credentials.js';
import { drain } from './http-body.js';
import type { Ping } from './ping.js';
import type { Redactor } from './redactor.js';
import { header, requestLine, type RoundTrip } from './round-trip.js';

export interface AuthOptions {
  origin: string;
  credentials: Credentials | undefined;
  ping: Ping;
  tokens: BearerTokens;
  redactor: Redactor;
}

/**
 * Authenticate each registry request for its scope: Basic, or a cached Bearer token, as the ping
 * (or the last 401) said. A 401 is answered once with a fresh challenge and token; a second 401
 * is AUTH_FAILED.
 */
export function authenticating(next: RoundTrip, options: AuthOptions): RoundTrip {
  const authorization = async (challenge: Challenge | undefined, scope: string): Promise<Record<string, string>> => {
    if (challenge?.scheme === 'basic' && options.credentials)
      return { authorization: basicAuthorization(options.credentials) };
    if (challenge?.scheme === 'bearer')
      return { authorization: `Bearer ${await options.tokens.token(challenge, scope)}` };
    return {};
  };
  return async (request) => {
    const scope = request.scope ?? '';
    const send = async (challenge: Challenge | undefined) =>
      next({ ...request, headers: { ...request.headers, ...(await authorization(challenge, scope)) } });
    const response = await send(await options.ping.challenge());
    if (response.status !== 401) return response;
    const what = requestLine(request);
    const challenge = parseChallenge(header(response.headers['www-authenticate']));
    drain(response.body);
    if (!challenge)
      throw new AuthError(
        `registry ${options.origin} asked for authentication on ${what} without a usable WWW-Authenticate challenge`,
      );
    if (challenge.scheme === 'basic' && !options.credentials)
      throw new AuthError(`registry ${options.origin} requires credentials for ${what}; set source.auth in the config`);
    options.ping.update(challenge);
    if (challenge.scheme === 'bearer') options.tokens.forget(challenge, scope);
    const again = await send(challenge);
    if (again.status !== 401) return again;
    const who = options.credentials ? 'the configured credentials' : 'anonymous access';
    const text = await errorText(again, options.redactor);
    throw new AuthError(`registry ${options.origin} refused ${who} for ${what}${text}`, { status: 401 });
  };
}
