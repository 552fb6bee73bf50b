import { readFile } from 'node:fs/promises';
import type { Digest } from '../oci/digest.js';
import type { Platform } from '../oci/platform.js';
import { writeManifest } from '../publish/publish-generation.js';
import type { BlobEntry } from '../publish/metadata-types.js';
import type { ObjectStore } from '../store/object-store.js';
import type { BlobFetcher } from './blob-fetcher.js';
import { tagBlobPaths, type ModuleLayout } from './modules.js';
import type { Closure } from './tag-plan.js';
import type { ResolvedTag } from './resolve.js';
import type { SingleFlight } from './single-flight.js';
import { failure, type Failure } from '../report/failure.js';

/** Image configs are small; a bigger one is not worth reading for its architecture. */
const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

export interface ApplyContext {
  repository: string;
  fetcher: BlobFetcher;
  store: ObjectStore;
  layout: ModuleLayout;
  metadataDir: string;
  /** Manifest writes of the run, single-flight by digest (100,000 tags naming one manifest write it once). */
  manifestWrites: SingleFlight<Digest, void>;
  /** Tree paths the run changed (a link made or replaced) or may have (it failed): what the file lists update. */
  linked: Set<string>;
}

/** The platform an image's config declares, or undefined when it is unreadable or says none. */
async function configPlatform(store: ObjectStore, config: Digest): Promise<Platform | undefined> {
  try {
    const bytes = await readFile(store.objectPath(config));
    if (bytes.length > MAX_CONFIG_BYTES) return undefined;
    const { architecture, os, variant } = JSON.parse(bytes.toString('utf8')) as Record<string, unknown>;
    if (typeof architecture !== 'string' || typeof os !== 'string') return undefined;
    return { architecture, os, ...(typeof variant === 'string' && variant ? { variant } : {}) };
  } catch {
    return undefined;
  }
}

/**
 * Ensure every blob of a new tag is in the store, link it into each module that needs it, and
 * store the tag's manifests. Returns the tag's closure, or its failures (nothing published).
 */
export async function applyNewTag(
  ctx: ApplyContext,
  tag: string,
  resolved: ResolvedTag,
): Promise<{ closure: Closure } | { failures: Failure[] }> {
  const blobs = [...resolved.blobs.values()];
  const sizes = new Map<Digest, number>();
  const fetched = await Promise.allSettled(
    blobs.map(async (blob) => sizes.set(blob.digest, await ctx.fetcher.ensure(ctx.repository, blob))),
  );
  const failures = fetched.flatMap((result, i) =>
    result.status === 'rejected'
      ? [failure(result.reason, { repository: ctx.repository, tag, digest: blobs[i]!.digest })]
      : [],
  );
  if (failures.length) return { failures };

  for (const [manifest, config] of resolved.configs) {
    const platform = await configPlatform(ctx.store, config);
    const entry = resolved.manifests.get(manifest);
    if (platform && entry) entry.platform = platform;
  }
  const paths = tagBlobPaths(
    ctx.layout,
    ctx.repository,
    resolved.manifests,
    blobs.map((b) => b.digest),
  );
  const entries = new Map<Digest, BlobEntry>();
  try {
    for (const blob of blobs) {
      const { path, modules } = paths.get(blob.digest)!;
      for (const relative of Object.values(modules)) {
        const outcome = await ctx.store.linkIntoTree(relative, blob.digest).catch((error: unknown) => {
          ctx.linked.add(relative);
          throw error;
        });
        if (outcome !== 'present') ctx.linked.add(relative);
      }
      entries.set(blob.digest, {
        size: sizes.get(blob.digest)!,
        ...(blob.mediaType ? { mediaType: blob.mediaType } : {}),
        path,
        modules,
      });
    }
    for (const [digest, bytes] of resolved.bytes)
      await ctx.manifestWrites.run(digest, () => writeManifest(ctx.metadataDir, digest, bytes));
  } catch (error) {
    return { failures: [failure(error, { repository: ctx.repository, tag })] };
  }
  return { closure: { manifests: resolved.manifests, blobs: entries } };
}
