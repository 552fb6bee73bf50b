import type { BlobEntry, RepositoryMetadata } from './metadata-types.js';

// PURE: each blob's `firstGeneration` per module (docs/formats.md, `_repository.json`): the
// generation since which the blob has been at its path in that module without a break. A mirror
// verified at generation V holds every blob whose first generation is at most V, so serve decides
// per request with one comparison, and the checker asks a mirror only for what came after V.

/** `built`'s blobs take their first generations from `previous` where they were at the same path. */
export function carryFirstGenerations(
  built: RepositoryMetadata,
  previous: RepositoryMetadata | undefined,
): RepositoryMetadata {
  if (!previous) return built;
  const blobs: Record<string, BlobEntry> = {};
  for (const [digest, blob] of Object.entries(built.blobs)) {
    const before = Object.hasOwn(previous.blobs, digest) ? previous.blobs[digest] : undefined;
    const carried: Record<string, string> = {};
    for (const [module, at] of Object.entries(blob.modules)) {
      const since = before?.modules[module] === at ? before.firstGeneration?.[module] : undefined;
      if (since !== undefined) carried[module] = since;
    }
    blobs[digest] = Object.keys(carried).length ? { ...blob, firstGeneration: carried } : blob;
  }
  return { ...built, blobs };
}

/** Every module of every blob without a first generation gets `generation` (the one being published). */
export function stampFirstGenerations(repo: RepositoryMetadata, generation: string): RepositoryMetadata {
  const blobs: Record<string, BlobEntry> = {};
  for (const [digest, blob] of Object.entries(repo.blobs)) {
    const firstGeneration: Record<string, string> = {};
    for (const module of Object.keys(blob.modules))
      firstGeneration[module] = blob.firstGeneration?.[module] ?? generation;
    blobs[digest] = { ...blob, firstGeneration };
  }
  return { ...repo, blobs };
}

/**
 * The first generation of a blob in a module as a number, for comparisons. Metadata written
 * before first generations existed has none: the blob counts as new in `generation` (the one it
 * was read from), which only ever keeps it off a mirror, never sends a client to a 404.
 */
export function firstGenerationOf(
  blob: Pick<BlobEntry, 'firstGeneration'>,
  module: string,
  generation: string,
): number {
  return Number(blob.firstGeneration?.[module] ?? generation);
}
