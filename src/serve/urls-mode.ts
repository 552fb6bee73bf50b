import { createHash } from 'node:crypto';
import { asDigest, type Digest } from '../oci/digest.js';
import { IMAGE_TYPES, INDEX_TYPES } from '../oci/media-types.js';
import type { BlobLocation } from './mirrors.js';
import type { ManifestEntry, ServedRepository } from './metadata-schema.js';

// urls mode: manifests are served with every blob descriptor's `urls` pointing at mirrors, so
// clients that honour `urls` (containers/image, containerd) fetch blobs there directly. Changing
// the bytes changes the digest, so an index is rewritten too (its entries name the rewritten
// children), and the rewritten digests are served next to the original ones (docs/serving.md).

export interface Rewritten {
  digest: Digest;
  bytes: Buffer;
  /** The digest of the stored manifest this was made from. */
  original: Digest;
}

export interface RewriteInput {
  repository: ServedRepository;
  /** Original bytes of a manifest of the repository. */
  bytesOf: (entry: ManifestEntry) => Promise<Buffer>;
  /** The `urls` for a blob of the repository. */
  urlsFor: (blobDigest: Digest, blob: BlobLocation) => string[];
}

type Json = Record<string, unknown>;

const sha256 = (bytes: Buffer) => asDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);

function isDescriptor(value: unknown): value is Json & { digest: string } {
  return typeof value === 'object' && value !== null && typeof (value as Json).digest === 'string';
}

/** Rewrite one manifest (pure given its inputs); children of an index are rewritten first. */
async function rewrite(
  input: RewriteInput,
  entry: ManifestEntry,
  done: Map<Digest, Promise<Rewritten>>,
  depth: number,
): Promise<Rewritten> {
  const original = await input.bytesOf(entry);
  const isImage = IMAGE_TYPES.includes(entry.mediaType);
  const isIndex = INDEX_TYPES.includes(entry.mediaType);
  // Schema1 has no descriptors; indexes nest at most a level or two in practice.
  if ((!isImage && !isIndex) || depth > 4) return { digest: entry.digest, bytes: original, original: entry.digest };
  const json = JSON.parse(original.toString('utf8')) as Json;
  if (isImage) {
    const layers = Array.isArray(json.layers) ? json.layers : [];
    for (const descriptor of [json.config, ...layers]) {
      if (!isDescriptor(descriptor)) continue;
      const blob = input.repository.blobs.get(descriptor.digest as Digest);
      // Blobs the tree does not hold (non-distributable layers) keep whatever urls they had.
      if (blob) descriptor.urls = input.urlsFor(descriptor.digest as Digest, blob);
    }
  } else {
    for (const descriptor of Array.isArray(json.manifests) ? json.manifests : []) {
      if (!isDescriptor(descriptor)) continue;
      const child = input.repository.manifests.get(descriptor.digest as Digest);
      if (!child) continue;
      const rewritten = await rewriteCached(input, child, done, depth + 1);
      descriptor.digest = rewritten.digest;
      descriptor.size = rewritten.bytes.length;
    }
  }
  const bytes = Buffer.from(JSON.stringify(json));
  return { digest: sha256(bytes), bytes, original: entry.digest };
}

function rewriteCached(
  input: RewriteInput,
  entry: ManifestEntry,
  done: Map<Digest, Promise<Rewritten>>,
  depth: number,
): Promise<Rewritten> {
  let pending = done.get(entry.digest);
  if (!pending) {
    pending = rewrite(input, entry, done, depth);
    done.set(entry.digest, pending);
    pending.catch(() => done.delete(entry.digest));
  }
  return pending;
}

/**
 * The rewritten manifests of one repository of one generation. Kept per ServedRepository
 * object, so a new generation (new objects) starts afresh and the old one is collected.
 */
export class RepositoryRewrites {
  private readonly byOriginal = new Map<Digest, Promise<Rewritten>>();
  private byRewritten: Promise<Map<Digest, Rewritten>> | undefined;

  constructor(private readonly input: RewriteInput) {}

  /** The rewritten form of the manifest with this original digest. */
  of(original: Digest): Promise<Rewritten> | undefined {
    const entry = this.input.repository.manifests.get(original);
    return entry ? rewriteCached(this.input, entry, this.byOriginal, 0) : undefined;
  }

  /** A manifest asked for by its rewritten digest (a client following a rewritten index). */
  async byRewrittenDigest(digest: Digest): Promise<Rewritten | undefined> {
    this.byRewritten ??= (async () => {
      const all = await Promise.all([...this.input.repository.manifests.keys()].map((d) => this.of(d)!));
      return new Map(all.map((r) => [r.digest, r] as const));
    })();
    // A failed build (unreadable manifest) must not stick to the repository.
    this.byRewritten.catch(() => (this.byRewritten = undefined));
    return (await this.byRewritten).get(digest);
  }
}

// Per routing view (freshness on: the checker's view the urls came from), then per repository.
const rewritesByView = new WeakMap<object, WeakMap<ServedRepository, RepositoryRewrites>>();
const NO_VIEW = {};

export function rewritesFor(input: RewriteInput, view: object = NO_VIEW): RepositoryRewrites {
  let byRepository = rewritesByView.get(view);
  if (!byRepository) {
    byRepository = new WeakMap();
    rewritesByView.set(view, byRepository);
  }
  let rewrites = byRepository.get(input.repository);
  if (!rewrites) {
    rewrites = new RepositoryRewrites(input);
    byRepository.set(input.repository, rewrites);
  }
  return rewrites;
}
