// The catalog and tags lists: `{"<key>": [...]}` pages chained by `Link: <next>; rel="next"`.
import { ListingIncompleteError, RegistryError, TooLargeError, describeError, errorCode } from '../errors.js';
import type { ListingLimit } from '../source/source.js';
import { parseJsonObject, readBounded } from './http-body.js';
import { nextPageUrl } from './link-header.js';
import { header, type RegistryResponse } from './round-trip.js';

const MAX_LIST_BODY = 16 * 1024 * 1024;
/** A tags list or catalog longer than this is treated as hostile. */
export const MAX_LIST_ENTRIES = 100_000;

export interface PagedListing {
  /** Absolute URL of the first page. */
  first: string;
  key: 'repositories' | 'tags';
  /** Names the listing in errors: `catalog`, `tags of <repository>`. */
  what: string;
  /** The registry's host, for the incomplete listing's message. */
  host: string;
  /** A checked GET (throws the status's error). */
  get(url: string): Promise<RegistryResponse>;
  limit?: ListingLimit | undefined;
}

/**
 * Every page of a listing. A failure on the first page is the listing's own error; a later one (a
 * 5xx on page 3, a next Link to another host) is LISTING_INCOMPLETE carrying what the earlier pages
 * listed, so the caller can go on with those. A listing over MAX_LIST_ENTRIES, or over the
 * caller's limit, is refused whole as soon as the page that crosses it is read.
 */
export async function listPages(listing: PagedListing): Promise<string[]> {
  const seen = new Set<string>();
  const counted = { n: 0 };
  let pages = 0;
  let next: string | undefined = listing.first;
  while (next) {
    try {
      const before = seen.size;
      const link = await readPage(listing, next, seen, counted);
      pages++;
      // A registry that repeats a page would loop forever: stop when a page adds nothing new.
      next = seen.size > before ? nextPageUrl(link, next) : undefined;
    } catch (error) {
      if (pages === 0 || error instanceof TooLargeError) throw error;
      throw new ListingIncompleteError(
        `${listing.what} from ${listing.host} incomplete after ${pages} page(s) (${seen.size} entries listed): ${errorCode(error)}: ${describeError(error)}`,
        { cause: error, listed: [...seen] },
      );
    }
  }
  return [...seen];
}

/** One page's entries into `seen` (and the limit's count); its Link header. */
async function readPage(
  listing: PagedListing,
  url: string,
  seen: Set<string>,
  counted: { n: number },
): Promise<string | undefined> {
  const { key, what, limit } = listing;
  const response = await listing.get(url);
  const body = parseJsonObject(await readBounded(response.body, MAX_LIST_BODY, what), what);
  const page = body[key];
  if (page !== null && page !== undefined && !Array.isArray(page))
    throw new RegistryError(`${what}: "${key}" is not a list`);
  for (const entry of page ?? []) {
    if (typeof entry !== 'string') throw new RegistryError(`${what}: "${key}" holds a non-string entry`);
    if (seen.has(entry)) continue;
    seen.add(entry);
    if (seen.size > MAX_LIST_ENTRIES)
      throw new TooLargeError(`${what}: more than ${MAX_LIST_ENTRIES} entries; refusing the listing`);
    if (limit?.counts(entry) && ++counted.n > limit.max) throw limit.refuse();
  }
  return header(response.headers.link);
}
