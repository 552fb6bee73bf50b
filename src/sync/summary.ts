import { describeError, errorCode } from '../errors.js';
import type { GcSummary } from '../gc/run-gc.js';
import type { RepositoryMetadata } from '../publish/metadata-types.js';
import type { SourceStats } from '../source/source.js';

export interface Failure {
  repository: string;
  tag?: string;
  digest?: string;
  code: string;
  message: string;
}

export function failure(error: unknown, where: { repository: string; tag?: string; digest?: string }): Failure {
  return { ...where, code: errorCode(error), message: describeError(error) };
}

export interface RepositoryPlanSummary {
  name: string;
  added: string[];
  changed: string[];
  removed: string[];
  unchanged: number;
}

export interface SyncSummary {
  result: 'ok' | 'partial' | 'failed';
  dryRun: boolean;
  generation: string | undefined;
  published: boolean;
  repositories: { selected: number; synced: number; failed: number };
  tags: { total: number; added: number; changed: number; unchanged: number; removed: number };
  blobs: { referenced: number; toFetch: number; fetched: number; reused: number };
  bytes: { toFetch: number; fetched: number; resumed: number; unique: number; referenced: number; dedupeRatio: number };
  requests: SourceStats;
  durationMs: number;
  plan: RepositoryPlanSummary[];
  failures: Failure[];
  /** When retention.gcAfterSync is set. */
  gc?: GcSummary;
}

/** Unique bytes (what the tree holds on disk) and referenced bytes (per-repository copies). */
export function byteTotals(repositories: Iterable<RepositoryMetadata>): {
  unique: number;
  referenced: number;
  blobs: number;
} {
  const unique = new Map<string, number>();
  let referenced = 0;
  for (const repo of repositories) {
    for (const [digest, blob] of Object.entries(repo.blobs)) {
      unique.set(digest, blob.size);
      referenced += blob.size;
    }
  }
  return { unique: [...unique.values()].reduce((a, b) => a + b, 0), referenced, blobs: unique.size };
}
