import { readFile } from 'node:fs/promises';
import { finished } from 'node:stream/promises';
import pLimit, { type LimitFunction } from 'p-limit';
import { ConfigError, DigestMismatchError, RegistryError, SizeMismatchError, TimeoutError, hostOf } from '../errors.js';
import type { RegistrySourceConfig } from '../config/schema.js';
import { isDigest, type Digest } from '../oci/digest.js';
import { DEFAULT_MAX_MANIFEST_BYTES, manifestDigest, parseManifest, type Descriptor } from '../oci/manifest.js';
import { MANIFEST_TYPES, MediaType, bareMediaType, isManifestType } from '../oci/media-types.js';
import { assertTag } from '../oci/reference.js';
import { deadlineSignal } from '../source/deadline.js';
import {
  emptyStats,
  type BlobStream,
  type FetchedManifest,
  type ListingLimit,
  type ManifestHead,
  type Source,
} from '../source/source.js';
import { resolveCredentials } from './credentials.js';
import { drain, readBounded } from './http-body.js';
import { listPages } from './paged-listing.js';
import { ReferrersListing } from './referrers-listing.js';
import { DEFAULT_RETRY } from './retry.js';
import type { OnRetry } from './retry-transport.js';
import { header, type RegistryRequest, type RegistryResponse } from './round-trip.js';
import { RegistryTransport, type SendOptions } from './transport.js';

const ACCEPT = MANIFEST_TYPES.join(', ');

export interface RegistrySourceOptions {
  maxManifestBytes?: number;
  onRetry?: OnRetry;
  /** Ends every request with its reason: the run's deadline (or a stop the caller decides). */
  signal?: AbortSignal;
}

async function readTls(tls: RegistrySourceConfig['tls']) {
  const read = async (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new ConfigError(
        `cannot read source.tls.${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? 'error'}`,
      );
    }
  };
  return {
    ca: await read(tls?.caFile, 'caFile'),
    cert: await read(tls?.certFile, 'certFile'),
    key: await read(tls?.keyFile, 'keyFile'),
  };
}

const pullScope = (repository: string) => `repository:${repository}:pull`;

/** A Docker Registry V2 / OCI distribution registry as a `Source`. */
export class RegistrySource implements Source {
  readonly description: string;
  readonly stats = emptyStats();
  readonly #transport: RegistryTransport;
  readonly #limit: LimitFunction;
  readonly #maxManifestBytes: number;
  readonly #pageSize: number;
  readonly #referrers: ReferrersListing;
  readonly #blobDeadlineSeconds: number;

  private constructor(config: RegistrySourceConfig, transport: RegistryTransport, options: RegistrySourceOptions) {
    this.description = transport.origin;
    this.#transport = transport;
    this.#limit = pLimit(config.concurrency);
    this.#maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
    this.#pageSize = config.catalogPageSize;
    this.#blobDeadlineSeconds = config.blobDeadlineSeconds;
    this.#referrers = new ReferrersListing({
      origin: transport.origin,
      maxManifestBytes: this.#maxManifestBytes,
      get: (url, repository, what) =>
        this.#request('GET', url, {
          scope: pullScope(repository),
          headers: { accept: MediaType.ociIndex },
          subject: what,
        }),
      countPage: () => this.stats.referrers++,
    });
  }

  static async create(config: RegistrySourceConfig, options: RegistrySourceOptions = {}): Promise<RegistrySource> {
    const transport = new RegistryTransport({
      baseUrl: config.url,
      configKey: 'source.url',
      credentials: await resolveCredentials(config),
      timeoutMs: config.timeoutSeconds * 1000,
      idleTimeoutMs: config.idleTimeoutSeconds * 1000,
      retry: { ...DEFAULT_RETRY, retries: config.retries },
      tls: await readTls(config.tls),
      ...(options.onRetry ? { onRetry: options.onRetry } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return new RegistrySource(config, transport, options);
  }

  /** Names as the catalog lists them: the caller validates each (one bad entry must not stop all). */
  async listRepositories(): Promise<string[]> {
    return this.#list(
      `/v2/_catalog?n=${this.#pageSize}`,
      'registry:catalog:*',
      'repositories',
      'catalog',
      () => this.stats.catalogPages++,
    );
  }

  async listTags(repository: string, limit?: ListingLimit): Promise<string[]> {
    const tags = await this.#list(
      `/v2/${repository}/tags/list?n=${this.#pageSize}`,
      pullScope(repository),
      'tags',
      `tags of ${repository}`,
      () => this.stats.tagLists++,
      limit,
    );
    return tags.map((tag) => assertTag(tag, `tag of ${repository}`));
  }

  async headManifest(repository: string, tag: string): Promise<ManifestHead> {
    this.stats.manifestHeads++;
    const response = await this.#request('HEAD', `/v2/${repository}/manifests/${tag}`, {
      scope: pullScope(repository),
      headers: { accept: ACCEPT },
      subject: `manifest ${repository}:${tag}`,
    });
    drain(response.body);
    const digest = header(response.headers['docker-content-digest']);
    const mediaType = bareMediaType(header(response.headers['content-type']));
    if (!isDigest(digest) || !mediaType || !isManifestType(mediaType)) {
      // Some registries omit the digest on HEAD; a GET tells the truth.
      const fetched = await this.getManifest(repository, tag);
      return { digest: fetched.digest, mediaType: fetched.mediaType };
    }
    return { digest, mediaType };
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    this.stats.manifestGets++;
    const ref = `${repository}${isDigest(reference) ? '@' : ':'}${reference}`;
    const what = `manifest ${ref}`;
    const response = await this.#request('GET', `/v2/${repository}/manifests/${reference}`, {
      scope: pullScope(repository),
      headers: { accept: ACCEPT },
      subject: what,
    });
    const bytes = await readBounded(response.body, this.#maxManifestBytes, what);
    const contentType = bareMediaType(header(response.headers['content-type']));
    // These say "invalid manifest <ref>" themselves.
    const manifest = parseManifest(bytes, contentType, ref, this.#maxManifestBytes);
    const digest = manifestDigest(bytes, manifest.mediaType, ref);
    const claimed = header(response.headers['docker-content-digest']);
    const expected = isDigest(reference) ? reference : claimed;
    if (expected !== undefined && expected !== digest) {
      throw new DigestMismatchError(
        `${what}: bytes hash to ${digest}, but ${isDigest(reference) ? 'the reference' : 'Docker-Content-Digest'} says ${expected}`,
      );
    }
    return { digest, mediaType: manifest.mediaType, bytes, manifest };
  }

  listReferrers(repository: string, digest: Digest): Promise<Descriptor[] | undefined> {
    return this.#referrers.list(repository, digest);
  }

  /** Bounds one blob's whole transfer, every retry and resume included (`source.blobDeadlineSeconds`). */
  blobDeadline(what: string): AbortSignal {
    const seconds = this.#blobDeadlineSeconds;
    return deadlineSignal(
      seconds * 1000,
      () =>
        new TimeoutError(
          `${what}: not complete after ${seconds} s of transfer, retries and resumes from ${hostOf(this.description)} (source.blobDeadlineSeconds)`,
        ),
    );
  }

  openBlob(repository: string, digest: Digest, offset: number, signal?: AbortSignal): Promise<BlobStream> {
    const subject = `blob ${digest} of ${repository}`;
    // The concurrency slot is held until the body has been read (or abandoned).
    return new Promise((resolve, reject) => {
      void this.#limit(async () => {
        let response: RegistryResponse;
        try {
          this.stats.blobGets++;
          const request = this.#transport.describe('GET', `/v2/${repository}/blobs/${digest}`, {
            scope: pullScope(repository),
            headers: offset > 0 ? { range: `bytes=${offset}-` } : {},
            subject,
            ...(signal ? { signal } : {}),
          });
          response = await this.#transport.send(request);
          if (response.status === 416 && offset > 0) {
            // We hold `offset` bytes and the registry has no more: the descriptor's size is a lie.
            drain(response.body);
            throw new SizeMismatchError(
              `${subject}: the registry has no bytes past ${offset} (416 to a Range request); the descriptor promised more`,
            );
          }
          await this.#transport.check(response, request, [200, 206]);
        } catch (error) {
          reject(error);
          return;
        }
        const start = response.status === 206 ? parseRangeStart(header(response.headers['content-range'])) : 0;
        if (start === undefined || (start !== 0 && start !== offset)) {
          drain(response.body);
          reject(new RegistryError(`${subject}: unusable Content-Range in a 206 answer`, { retryable: true }));
          return;
        }
        resolve({ stream: response.body, start });
        await finished(response.body).catch(() => {});
      });
    });
  }

  async close(): Promise<void> {}

  #list(
    first: string,
    scope: string,
    key: 'repositories' | 'tags',
    what: string,
    count: () => void,
    limit?: ListingLimit,
  ) {
    return listPages({
      first: new URL(first, this.description).href,
      key,
      what,
      host: hostOf(this.description),
      limit,
      get: (url) => {
        count();
        return this.#request('GET', url, { scope, subject: what });
      },
    });
  }

  /** A limited, checked request: resolves with a 200 answer, or throws the status's error. */
  #request(method: 'GET' | 'HEAD', path: string, options: SendOptions): Promise<RegistryResponse> {
    return this.#limit(async () => {
      const request: RegistryRequest = this.#transport.describe(method, path, options);
      const response = await this.#transport.send(request);
      await this.#transport.check(response, request);
      return response;
    });
  }
}

function parseRangeStart(contentRange: string | undefined): number | undefined {
  const match = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(contentRange?.trim() ?? '');
  return match ? Number(match[1]) : undefined;
}
