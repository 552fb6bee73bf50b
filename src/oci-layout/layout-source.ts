import { open, type FileHandle } from 'node:fs/promises';
import { DigestMismatchError, NotFoundError, TooLargeError } from '../errors.js';
import { asDigest, isDigest, type Digest } from '../oci/digest.js';
import { DEFAULT_MAX_MANIFEST_BYTES, manifestDigest, parseManifest } from '../oci/manifest.js';
import { assertRepositoryName, assertTag } from '../oci/reference.js';
import { emptyStats, type BlobStream, type FetchedManifest, type ManifestHead, type Source } from '../source/source.js';
import { layoutBlobPath, readLayoutRefs, refName, type LayoutRef } from './layout-format.js';

export interface OciLayoutSourceOptions {
  maxManifestBytes?: number;
}

/**
 * A Source over an OCI image layout whose ref names are `<repository>:<tag>`. The layout is one
 * content store shared by all its repositories (like a registry with cross-repository mounts), so
 * a digest is found whatever repository asks for it. index.json is read on every call: it is
 * small, and a layout rewritten between calls (demo, tests) is then seen at once.
 */
export class OciLayoutSource implements Source {
  readonly description: string;
  readonly stats = emptyStats();
  private readonly maxManifestBytes: number;

  constructor(
    readonly dir: string,
    options: OciLayoutSourceOptions = {},
  ) {
    this.description = `oci-layout:${dir}`;
    this.maxManifestBytes = options.maxManifestBytes ?? DEFAULT_MAX_MANIFEST_BYTES;
  }

  async listRepositories(): Promise<string[]> {
    this.stats.catalogPages++;
    const refs = await readLayoutRefs(this.dir);
    return [...new Set(refs.map((ref) => ref.repository))].sort();
  }

  async listTags(repository: string): Promise<string[]> {
    assertRepositoryName(repository);
    this.stats.tagLists++;
    const refs = await readLayoutRefs(this.dir);
    const tags = refs.filter((ref) => ref.repository === repository).map((ref) => ref.tag);
    if (tags.length === 0)
      throw new NotFoundError(`repository ${repository} not found in ${this.description}`, {
        status: 404,
      });
    return tags.sort();
  }

  async headManifest(repository: string, tag: string): Promise<ManifestHead> {
    this.stats.manifestHeads++;
    const { descriptor } = await this.findRef(repository, tag);
    return { digest: descriptor.digest, mediaType: descriptor.mediaType };
  }

  async getManifest(repository: string, reference: string): Promise<FetchedManifest> {
    this.stats.manifestGets++;
    let digest: Digest;
    let declaredType: string | undefined;
    if (isDigest(reference)) {
      assertRepositoryName(repository);
      digest = reference;
    } else {
      const { descriptor } = await this.findRef(repository, reference);
      digest = descriptor.digest;
      declaredType = descriptor.mediaType;
    }
    const what = `${repository}@${digest}`;
    const bytes = await this.readManifestBytes(digest, what);
    const manifest = parseManifest(bytes, declaredType, what, this.maxManifestBytes);
    const actual = manifestDigest(bytes, manifest.mediaType);
    if (actual !== digest) {
      throw new DigestMismatchError(`manifest ${what} in ${this.description} hashes to ${actual}`);
    }
    return { digest, mediaType: manifest.mediaType, bytes, manifest };
  }

  /** A layout has no referrers API: its referrers are found through the fallback tag, as on distribution 2.8. */
  async listReferrers(): Promise<undefined> {
    return undefined;
  }

  async openBlob(repository: string, digest: Digest, offset: number): Promise<BlobStream> {
    assertRepositoryName(repository);
    // Validated before it becomes a path: no traversal out of the layout.
    asDigest(digest);
    if (!Number.isSafeInteger(offset) || offset < 0) {
      throw new RangeError(`invalid offset ${offset} for blob ${repository}@${digest}`);
    }
    this.stats.blobGets++;
    const handle = await this.openExisting(digest, `blob ${repository}@${digest}`);
    return { stream: handle.createReadStream({ start: offset }), start: offset };
  }

  async close(): Promise<void> {}

  private async findRef(repository: string, tag: string): Promise<LayoutRef> {
    assertRepositoryName(repository);
    assertTag(tag);
    const refs = await readLayoutRefs(this.dir);
    const ref = refs.find((r) => r.repository === repository && r.tag === tag);
    if (!ref)
      throw new NotFoundError(`tag ${refName(repository, tag)} not found in ${this.description}`, {
        status: 404,
      });
    return ref;
  }

  private async readManifestBytes(digest: Digest, what: string): Promise<Buffer> {
    const handle = await this.openExisting(digest, `manifest ${what}`);
    try {
      // Checked before reading, so a huge blob named as a manifest is never loaded.
      const { size } = await handle.stat();
      if (size > this.maxManifestBytes) {
        throw new TooLargeError(
          `invalid manifest ${what}: ${size} bytes is over the ${this.maxManifestBytes}-byte limit`,
        );
      }
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  private async openExisting(digest: Digest, what: string): Promise<FileHandle> {
    try {
      return await open(layoutBlobPath(this.dir, digest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new NotFoundError(`${what} not found in ${this.description}`, { status: 404, cause: error });
      }
      throw error;
    }
  }
}
