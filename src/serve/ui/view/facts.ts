import type { ServedRepository } from '../../metadata-schema.js';

// PURE: the figures the pages show, computed once per generation (generations are immutable).

export interface RepositoryFacts {
  name: string;
  tags: number;
  syncedAt: string;
  /** Bytes of the distinct blobs the repository references. */
  bytes: number;
}

export interface ByteTotals {
  /** Each distinct blob once: what the tree holds on disk (hardlinks). */
  unique: number;
  /** Every repository's blobs summed: what a tree without dedupe would hold. */
  referenced: number;
  /** referenced - unique. */
  saved: number;
  /** referenced / unique, 2 decimals; 1 for an empty tree. */
  ratio: number;
}

export interface GenerationFacts {
  id: string;
  createdAt: string;
  repositories: number;
  tags: number;
  blobs: number;
  bytes: ByteTotals;
  /** By name, in the generation's (code-unit) order. */
  repositoryFacts: RepositoryFacts[];
}

export function repositoryFacts(repo: ServedRepository): RepositoryFacts {
  let bytes = 0;
  for (const blob of repo.blobs.values()) bytes += blob.size;
  return { name: repo.name, tags: repo.tags.size, syncedAt: repo.syncedAt, bytes };
}

export function generationFacts(
  generation: { id: string; createdAt: string },
  repositories: readonly ServedRepository[],
): GenerationFacts {
  const unique = new Map<string, number>();
  let referenced = 0;
  let tags = 0;
  for (const repo of repositories) {
    tags += repo.tags.size;
    for (const [digest, blob] of repo.blobs) {
      unique.set(digest, blob.size);
      referenced += blob.size;
    }
  }
  let uniqueBytes = 0;
  for (const size of unique.values()) uniqueBytes += size;
  return {
    id: generation.id,
    createdAt: generation.createdAt,
    repositories: repositories.length,
    tags,
    blobs: unique.size,
    bytes: {
      unique: uniqueBytes,
      referenced,
      saved: referenced - uniqueBytes,
      ratio: uniqueBytes ? Math.round((referenced / uniqueBytes) * 100) / 100 : 1,
    },
    repositoryFacts: repositories.map(repositoryFacts),
  };
}
