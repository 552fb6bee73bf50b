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
  /** Its failures (the summary lists only the run's first MAX_LISTED). */
  failures: number;
}

/** Lists in a summary (failures, empty and carried repositories) stop here; their counts stay exact. */
export const MAX_LISTED = 50;

export interface SyncSummary {
  result: 'ok' | 'partial' | 'failed';
  dryRun: boolean;
  generation: string | undefined;
  published: boolean;
  /** `empty`: the source lists no tags for them; `carried`: published, not listed by an incomplete catalog, kept as they were. */
  repositories: { selected: number; synced: number; failed: number; empty: number; carried: number };
  /** The empty repositories' names (the first MAX_LISTED). */
  empty: string[];
  /** The carried repositories' names (the first MAX_LISTED). */
  carried: string[];
  tags: { total: number; added: number; changed: number; unchanged: number; removed: number; failed: number };
  blobs: { referenced: number; toFetch: number; fetched: number; reused: number };
  bytes: { toFetch: number; fetched: number; resumed: number; unique: number; referenced: number; dedupeRatio: number };
  requests: SourceStats;
  durationMs: number;
  plan: RepositoryPlanSummary[];
  /** The first MAX_LISTED failures: a repository failing 80,000 tags must not make megabytes. */
  failures: Failure[];
  failureCount: number;
  /** Every failure counted by its code. */
  failureCodes: Record<string, number>;
  /** When retention.gcAfterSync is set. */
  gc?: GcSummary;
}

/** PURE: the summary's failure fields from every failure of a run. */
export function failureFields(
  all: readonly Failure[],
): Pick<SyncSummary, 'failures' | 'failureCount' | 'failureCodes'> {
  const failureCodes: Record<string, number> = {};
  for (const { code } of all) failureCodes[code] = (failureCodes[code] ?? 0) + 1;
  return { failures: all.slice(0, MAX_LISTED), failureCount: all.length, failureCodes };
}

/** Referenced bytes / unique bytes, 2 decimals; 1 for an empty tree. */
export function dedupeRatio(unique: number, referenced: number): number {
  return unique ? Math.round((referenced / unique) * 100) / 100 : 1;
}
