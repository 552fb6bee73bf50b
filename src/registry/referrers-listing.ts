// The OCI referrers API (`GET /v2/<name>/referrers/<digest>`): an image index per page, chained
// by Link headers. A registry without the API answers 404; Docker Registry 2.8 is one.
import { NotFoundError, RegistryError, TooLargeError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { readBounded } from './http-body.js';
import { nextPageUrl } from './link-header.js';
import { MAX_LIST_ENTRIES } from './paged-listing.js';
import { header, type RegistryResponse } from './round-trip.js';

export interface ReferrersDeps {
  /** The registry's base URL, which the first page's path is resolved against. */
  origin: string;
  maxManifestBytes: number;
  /** A checked GET of one page (throws the status's error), asking for an image index. */
  get(url: string, repository: string, what: string): Promise<RegistryResponse>;
  /** Called once per page requested (the source's stats). */
  countPage(): void;
}

/** One run's referrers listings: learns from the first 404 that the registry has no API, and asks no more. */
export class ReferrersListing {
  readonly #deps: ReferrersDeps;
  /** Set by the first 404 on the referrers API: a registry that has it never answers 404 there. */
  #noApi = false;
  /** The first referrers request of the run: the others wait for it to learn whether there is an API. */
  #probe: Promise<unknown> | undefined;

  constructor(deps: ReferrersDeps) {
    this.#deps = deps;
  }

  /** Every referrer of `digest`, or undefined when the registry has no referrers API. */
  async list(repository: string, digest: Digest): Promise<Descriptor[] | undefined> {
    // Repositories resolve in parallel: without this, each would probe a registry that has no
    // API before the first 404 came back (32 probes a run on the benchmark's 16 repositories).
    if (!this.#probe) {
      const first = this.#list(repository, digest);
      this.#probe = first.catch(() => undefined);
      return first;
    }
    await this.#probe;
    return this.#list(repository, digest);
  }

  async #list(repository: string, digest: Digest): Promise<Descriptor[] | undefined> {
    if (this.#noApi) return undefined;
    const { maxManifestBytes } = this.#deps;
    const what = `referrers of ${repository}@${digest}`;
    const found: Descriptor[] = [];
    let next: string | undefined = new URL(`/v2/${repository}/referrers/${digest}`, this.#deps.origin).href;
    while (next) {
      this.#deps.countPage();
      let response: RegistryResponse;
      try {
        response = await this.#deps.get(next, repository, what);
      } catch (error) {
        // A registry with the API answers an index (empty or not), never 404, for a manifest it has.
        if (error instanceof NotFoundError && found.length === 0) {
          this.#noApi = true;
          return undefined;
        }
        throw error;
      }
      const page = parseManifest(
        await readBounded(response.body, maxManifestBytes, what),
        MediaType.ociIndex,
        what,
        maxManifestBytes,
      );
      if (page.kind !== 'index') throw new RegistryError(`${what}: the answer is not an image index`);
      found.push(...page.manifests);
      if (found.length > MAX_LIST_ENTRIES)
        throw new TooLargeError(`${what}: more than ${MAX_LIST_ENTRIES} entries; refusing the listing`);
      // A page that adds nothing ends the listing (a registry repeating a page would loop forever).
      next = page.manifests.length ? nextPageUrl(header(response.headers.link), next) : undefined;
    }
    return found;
  }
}
