import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { generateImages, type GeneratedImages, type ImageSetSpec } from '../../src/demo/image-generator.js';
import { DigestMismatchError, NotFoundError } from '../../src/errors.js';
import { asDigest, isDigest, type Digest } from '../../src/oci/digest.js';
import { manifestDigest, parseManifest } from '../../src/oci/manifest.js';
import { assertRepositoryName, assertTag } from '../../src/oci/reference.js';
import { readLayoutRefs } from '../../src/oci-layout/layout-format.js';
import {
  emptyStats,
  type BlobStream,
  type FetchedManifest,
  type ListingLimit,
  type ManifestHead,
  type Source,
} from '../../src/source/source.js';

/** One call a sync made, in the order it made them. */
export type SourceCall =
  | { method: 'listRepositories' }
  | { method: 'listTags'; repository: string }
  | { method: 'headManifest' | 'getManifest'; repository: string; reference: string }
  | { method: 'openBlob'; repository: string; digest: Digest; offset: number };

interface Tagged {
  digest: Digest;
  mediaType: string;
}

/**
 * An in-memory Source over the bytes of generated images, so the parts of sync that only decide
 * (list, select, resolve, plan) are tested without a registry. It behaves as the real backends
 * do where sync can tell: 404 as `RegistryError` NOT_FOUND, manifests verified against their
 * digest, Range honoured, stats counted. Tests change it between runs (`setTag`, `deleteTag`,
 * `content`) and make single calls fail through `intercept`.
 */
export class FakeSource implements Source {
  readonly description = 'fake-source:in-memory';
  readonly stats = emptyStats();
  readonly calls: SourceCall[] = [];
  /** Throw from here to make that call fail; runs before the call does anything else. */
  intercept: ((call: SourceCall) => void) | undefined;

  constructor(
    /** repository -> tag -> what it points at. */
    readonly tags: Map<string, Map<string, Tagged>>,
    /** Manifests and blobs by digest, one store for every repository (like cross-repository mounts). */
    readonly content: Map<Digest, Buffer>,
  ) {}

  /** Generates `spec` (src/demo) in a temp dir, reads it all into memory and removes the dir. */
  static async fromSpec(spec: ImageSetSpec): Promise<{ source: FakeSource; images: GeneratedImages }> {
    const dir = await mkdtemp(join(tmpdir(), 'blobmirror-fake-source-'));
    try {
      const images = await generateImages(spec, dir);
      return { source: await FakeSource.fromLayout(dir), images };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** Everything an OCI layout holds, read into memory (ref names `<repository>:<tag>`). */
  static async fromLayout(dir: string): Promise<FakeSource> {
    const tags = new Map<string, Map<string, Tagged>>();
    for (const { repository, tag, descriptor } of await readLayoutRefs(dir)) {
      if (!tags.has(repository)) tags.set(repository, new Map());
      tags.get(repository)!.set(tag, { digest: descriptor.digest, mediaType: descriptor.mediaType });
    }
    const content = new Map<Digest, Buffer>();
    const blobs = join(dir, 'blobs', 'sha256');
    for (const name of await readdir(blobs)) {
      if (!name.startsWith('.')) content.set(asDigest(`sha256:${name}`), await readFile(join(blobs, name)));
    }
    return new FakeSource(tags, content);
  }

  /** Points `repository:tag` at a manifest the source holds (creating the repository if needed). */
  setTag(repository: string, tag: string, digest: Digest): void {
    const bytes = this.content.get(digest);
    if (!bytes) throw new Error(`fake source: no manifest ${digest} to tag ${repository}:${tag}`);
    const { mediaType } = parseManifest(bytes, undefined, digest);
    if (!this.tags.has(repository)) this.tags.set(repository, new Map());
    this.tags.get(repository)!.set(tag, { digest, mediaType });
  }

  deleteTag(repository: string, tag: string): void {
    if (!this.tags.get(repository)?.delete(tag)) throw new Error(`fake source: no tag ${repository}:${tag}`);
  }

  async listRepositories(): Promise<string[]> {
    this.record({ method: 'listRepositories' });
    this.stats.catalogPages++;
    return [...this.tags.keys()].sort();
  }

  /** Honours the limit as a paged registry listing does: the refusal comes once it is crossed. */
  async listTags(repository: string, limit?: ListingLimit): Promise<string[]> {
    this.record({ method: 'listTags', repository });
    this.stats.tagLists++;
    const tags = [...this.repository(repository).keys()].sort();
    if (limit && tags.filter((tag) => limit.counts(tag)).length > limit.max) throw limit.refuse();
    return tags;
  }

  async headManifest(repository: string, tag: string): Promise<ManifestHead> {
    this.record({ method: 'headManifest', repository, reference: tag });
    this.stats.manifestHeads++;
    return { ...this.tagged(repository, tag) };
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    this.record({ method: 'getManifest', repository, reference });
    this.stats.manifestGets++;
    this.repository(repository);
    const tagged = isDigest(reference) ? undefined : this.tagged(repository, reference);
    const digest = tagged?.digest ?? (reference as Digest);
    const what = `${repository}@${digest}`;
    const bytes = this.bytes(digest, `manifest ${what}`);
    const manifest = parseManifest(bytes, tagged?.mediaType, what);
    const actual = manifestDigest(bytes, manifest.mediaType);
    if (actual !== digest) throw new DigestMismatchError(`manifest ${what} hashes to ${actual}`);
    return { digest, mediaType: manifest.mediaType, bytes, manifest };
  }

  /** Like a registry without the referrers API: referrers are found through the fallback tag. */
  async listReferrers(): Promise<undefined> {
    return undefined;
  }

  async openBlob(repository: string, digest: Digest, offset: number): Promise<BlobStream> {
    this.record({ method: 'openBlob', repository, digest, offset });
    this.stats.blobGets++;
    this.repository(repository);
    const bytes = this.bytes(asDigest(digest), `blob ${repository}@${digest}`);
    return { stream: Readable.from([bytes.subarray(offset)]), start: offset };
  }

  async close(): Promise<void> {}

  private record(call: SourceCall): void {
    this.calls.push(call);
    this.intercept?.(call);
  }

  private repository(name: string): Map<string, Tagged> {
    const tags = this.tags.get(assertRepositoryName(name));
    if (!tags) throw notFound(`repository ${name}`);
    return tags;
  }

  private tagged(repository: string, tag: string): Tagged {
    const tagged = this.repository(repository).get(assertTag(tag));
    if (!tagged) throw notFound(`tag ${repository}:${tag}`);
    return tagged;
  }

  private bytes(digest: Digest, what: string): Buffer {
    const bytes = this.content.get(digest);
    if (!bytes) throw notFound(what);
    return bytes;
  }
}

function notFound(what: string): NotFoundError {
  return new NotFoundError(`${what} not found in the fake source`, { status: 404 });
}
