import type { RepositoryMetadata } from '../publish/metadata-types.js';
import type { SourceStats } from '../source/source.js';
import type { Failure } from './failure.js';
import type { GcSummary } from './gc-summary.js';

export interface RepositoryPlanSummary {
  name: string;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
  /** New or moved tags that failed to apply: they keep their previous state. */
  failed: string[];
}

export interface SyncSummary {
  result: 'ok' | 'partial' | 'failed';
  dryRun: boolean;
  generation: string | undefined;
  published: boolean;
  repositories: { selected: number; synced: number; failed: number };
  tags: { total: number; added: number; changed: number; unchanged: number; removed: number; failed: number };
  blobs: { referenced: number; toFetch: number; fetched: number; reused: number };
  bytes: { toFetch: number; fetched: number; resumed: number; unique: number; referenced: number; dedupeRatio: number };
  requests: SourceStats;
  durationMs: number;
  plan: RepositoryPlanSummary[];
  failures: Failure[];
  /** When retention.gcAfterSync is set. */
  gc?: GcSummary;
}

/** Unique bytes (what the tree holds on disk), referenced bytes (per-repository copies) and their ratio. */
export function byteTotals(repositories: Iterable<RepositoryMetadata>): {
  unique: number;
  referenced: number;
  blobs: number;
  dedupeRatio: number;
} {
  const sizes = new Map<string, number>();
  let referenced = 0;
  for (const repo of repositories) {
    for (const [digest, blob] of Object.entries(repo.blobs)) {
      sizes.set(digest, blob.size);
      referenced += blob.size;
    }
  }
  const unique = [...sizes.values()].reduce((a, b) => a + b, 0);
  const dedupeRatio = unique ? Math.round((referenced / unique) * 100) / 100 : 1;
  return { unique, referenced, blobs: sizes.size, dedupeRatio };
}
