import type { GenerationFacts } from './facts.js';

// PURE: tree size and tags over the kept generations, also served as /api/history.

export interface HistoryModel {
  generations: Array<{
    id: string;
    createdAt: string;
    repositories: number;
    tags: number;
    uniqueBytes: number;
    referencedBytes: number;
  }>;
}

export function historyModel(kept: readonly GenerationFacts[]): HistoryModel {
  return {
    generations: kept.map((g) => ({
      id: g.id,
      createdAt: g.createdAt,
      repositories: g.repositories,
      tags: g.tags,
      uniqueBytes: g.bytes.unique,
      referencedBytes: g.bytes.referenced,
    })),
  };
}
