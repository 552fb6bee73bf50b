import { RegistryError } from '../errors.js';
import { drain } from './http-body.js';
import { header, requestLine, type RoundTrip } from './round-trip.js';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * Follow redirects by hand: the Authorization header belongs to the origin first asked (the
 * registry, or the token realm it named), so a storage or CDN host never sees it.
 */
export function followingRedirects(next: RoundTrip): RoundTrip {
  return async (request) => {
    const origin = new URL(request.url).origin;
    let url = request.url;
    for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
      const headers = new URL(url).origin === origin ? request.headers : withoutAuthorization(request.headers);
      const response = await next({ ...request, url, headers });
      const location = header(response.headers.location);
      if (!REDIRECTS.has(response.status) || !location) return response;
      drain(response.body);
      url = new URL(location, url).href;
      const protocol = new URL(url).protocol;
      if (protocol !== 'http:' && protocol !== 'https:')
        throw new RegistryError(`redirect to unsupported URL scheme ${protocol} for ${requestLine(request)}`);
    }
    throw new RegistryError(`too many redirects (over ${MAX_REDIRECTS}) for ${requestLine(request)}`);
  };
}

function withoutAuthorization(headers: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(headers).filter(([name]) => name.toLowerCase() !== 'authorization'));
}
