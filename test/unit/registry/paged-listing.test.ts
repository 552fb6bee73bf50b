import { describe, expect, it } from 'vitest';
import { ListingIncompleteError, RegistryError, TooLargeError } from '../../../src/errors.js';
import { listPages } from '../../../src/registry/paged-listing.js';
import type { RegistryResponse } from '../../../src/registry/round-trip.js';
import type { ListingLimit } from '../../../src/source/source.js';
import { answer } from '../../helpers/fake-round-trip.js';

const BASE = 'https://registry.example';
const page = (repositories: unknown, link?: string): RegistryResponse =>
  answer(200, link ? { link } : {}, JSON.stringify({ repositories }));
const next = (last: string) => `</v2/_catalog?last=${last}&n=2>; rel="next"`;

/** The catalog as `pages` answer it in turn (an Error is thrown as that page's failure). */
function catalog(pages: Array<RegistryResponse | Error>, limit?: ListingLimit) {
  const asked: string[] = [];
  const listing = listPages({
    first: `${BASE}/v2/_catalog?n=2`,
    key: 'repositories',
    what: 'catalog',
    host: 'registry.example',
    limit,
    get: async (url) => {
      asked.push(url);
      const step = pages[asked.length - 1]!;
      if (step instanceof Error) throw step;
      return step;
    },
  });
  return { listing, asked };
}

describe('listPages', () => {
  it('follows rel="next" to the end', async () => {
    const { listing, asked } = catalog([page(['a', 'b'], next('b')), page(['c'])]);
    expect(await listing).toEqual(['a', 'b', 'c']);
    expect(asked).toEqual([`${BASE}/v2/_catalog?n=2`, `${BASE}/v2/_catalog?last=b&n=2`]);
  });

  it('a next Link to another host after page 1: LISTING_INCOMPLETE naming both hosts, with what was listed', async () => {
    const { listing, asked } = catalog([
      page(['a', 'b'], '<https://evil.example:8443/v2/_catalog?last=b>; rel="next"'),
    ]);
    const error = (await listing.catch((e: unknown) => e)) as ListingIncompleteError;
    expect(error).toBeInstanceOf(ListingIncompleteError);
    expect(error.code).toBe('LISTING_INCOMPLETE');
    expect(error.listed).toEqual(['a', 'b']);
    expect(error.message).toBe(
      'catalog from registry.example incomplete after 1 page(s) (2 entries listed): REGISTRY_ERROR: registry pagination Link points to another host (https://evil.example:8443); refusing to follow it',
    );
    expect(asked).toHaveLength(1);
  });

  it('a 5xx on page 3: LISTING_INCOMPLETE with the two pages before it', async () => {
    const unavailable = new RegistryError('GET /v2/_catalog at registry.example (source.url): HTTP 503', {
      status: 503,
    });
    const { listing } = catalog([page(['a', 'b'], next('b')), page(['c', 'd'], next('d')), unavailable]);
    await expect(listing).rejects.toMatchObject({
      code: 'LISTING_INCOMPLETE',
      listed: ['a', 'b', 'c', 'd'],
      message: expect.stringMatching(/incomplete after 2 page\(s\) \(4 entries listed\): REGISTRY_ERROR: .*HTTP 503$/),
    });
  });

  it("a failure on the first page is the listing's own error: nothing was listed", async () => {
    const down = new RegistryError('HTTP 503', { status: 503 });
    await expect(catalog([down]).listing).rejects.toBe(down);
  });

  it('more than 100,000 entries is refused whole, whichever page crosses the line', async () => {
    const many = (from: number) => Array.from({ length: 60_000 }, (_, i) => `r/${from + i}`);
    await expect(catalog([page(many(0), next('x')), page(many(60_000))]).listing).rejects.toBeInstanceOf(TooLargeError);
  });

  it("over the caller's limit: its refusal as soon as the page crossing it is read, no page after it", async () => {
    const refusal = new TooLargeError('over the limit');
    const counted: string[] = [];
    const limit: ListingLimit = {
      max: 3,
      counts: (entry) => (entry.startsWith('keep') ? counted.push(entry) > 0 : false),
      refuse: () => refusal,
    };
    const { listing, asked } = catalog(
      [
        page(['keep-a', 'other-1', 'keep-a', 'keep-b'], next('x')),
        page(['other-2', 'keep-b', 'keep-c', 'keep-d', 'keep-e'], next('y')),
        page(['keep-f']),
      ],
      limit,
    );
    // Not LISTING_INCOMPLETE though it is page 2: the caller asked for the refusal.
    await expect(listing).rejects.toBe(refusal);
    expect(asked).toHaveLength(2);
    // A repeated entry counts once, and counting stops at the first entry over the limit.
    expect(counted).toEqual(['keep-a', 'keep-b', 'keep-c', 'keep-d']);
    // Under it, the listing is whole.
    const under = catalog([page(['keep-a', 'other-1'], next('x')), page(['keep-b', 'keep-c'])], { ...limit, max: 3 });
    expect(await under.listing).toEqual(['keep-a', 'other-1', 'keep-b', 'keep-c']);
  });

  it('"repositories": null is an empty page, and a page repeating the last one ends the listing', async () => {
    expect(await catalog([page(null)]).listing).toEqual([]);
    const { listing, asked } = catalog([page(['a'], next('a')), page(['a'], next('a'))]);
    expect(await listing).toEqual(['a']);
    expect(asked).toHaveLength(2);
  });
});
