import { RegistryError } from '../errors.js';

// PURE: the `rel="next"` target of a `Link` header, resolved against the request URL. A next page
// on another origin is refused: following it would send our credentials elsewhere.
export function nextPageUrl(link: string | undefined, requestUrl: string): string | undefined {
  if (!link) return undefined;
  for (const part of link.split(/,(?=\s*<)/)) {
    const match = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (!match || !/(?:^|;)\s*rel=(?:"[^"]*\bnext\b[^"]*"|next)\s*(?:;|$)/i.test(match[2]!)) continue;
    let next: URL;
    try {
      next = new URL(match[1]!, requestUrl);
    } catch {
      throw new RegistryError(`registry pagination Link has an invalid URL ${JSON.stringify(match[1]!.slice(0, 200))}`);
    }
    if (next.origin !== new URL(requestUrl).origin) {
      throw new RegistryError(
        `registry pagination Link points to another host (${next.origin}); refusing to follow it`,
      );
    }
    return next.href;
  }
  return undefined;
}
