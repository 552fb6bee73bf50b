// PURE: a sync's summary (what --json prints, the last-run record and the metrics file read)
// from its plan and, unless it was a dry run, what applying and publishing did.
import { MAX_LISTED, dedupeRatio, failureFields, type SyncSummary } from '../report/sync-summary.js';
import type { Failure } from '../report/failure.js';
import type { SourceStats } from '../source/source.js';
import type { Applied } from './apply.js';
import type { SyncPlan } from './plan.js';
import type { Published } from './publish.js';

export function summarize(input: {
  durationMs: number;
  plan: SyncPlan;
  stats: SourceStats;
  /** Absent for a dry run. */
  applied?: Applied;
  published?: Published;
}): SyncSummary {
  const { plan, applied } = input;
  const perRepository: Failure[][] = applied
    ? applied.repositories.map((r) => r.failures)
    : plan.repositories.map((r) => r.resolution.failures);
  const failures: Failure[] = [...plan.catalogFailures, ...perRepository.flat()];
  const failedRepos = perRepository.filter((f) => f.length > 0).length;
  const selected = plan.repositories.length;
  const totals = input.published?.totals;
  // A new or moved tag that failed to apply kept its previous state: it is failed, not new.
  const repositories = plan.repositories.map(({ name, resolution: r }, i) => {
    const failedTags = new Set(perRepository[i]!.flatMap((f) => (f.tag !== undefined ? [f.tag] : [])));
    const applied = (tag: string) => !failedTags.has(tag);
    const failed = [...r.plan.added, ...r.plan.changed].filter((tag) => !applied(tag));
    return {
      name,
      added: r.plan.added.filter(applied),
      changed: r.plan.changed.filter(applied),
      removed: r.plan.removed.filter((tag) => !r.tags.has(tag)),
      unchanged: r.plan.unchanged.length,
      failed,
      failures: perRepository[i]!.length,
    };
  });
  const empty = plan.repositories.filter((r) => r.resolution.empty).map((r) => r.name);
  // A --repo run carries the others by design; only what an incomplete catalog left out is news.
  const carried = plan.generation.targeted ? [] : plan.generation.carried.map((c) => c.name);
  const sum = (pick: (p: (typeof repositories)[number]) => number) => repositories.reduce((acc, p) => acc + pick(p), 0);
  const counters = applied?.counters;
  return {
    result: failures.length === 0 ? 'ok' : failedRepos === selected ? 'failed' : 'partial',
    dryRun: applied === undefined,
    generation: input.published?.id,
    published: input.published?.published ?? false,
    repositories: {
      selected,
      synced: selected - failedRepos,
      failed: failedRepos,
      empty: empty.length,
      carried: carried.length,
    },
    empty: empty.slice(0, MAX_LISTED),
    carried: carried.slice(0, MAX_LISTED),
    tags: {
      total: sum((p) => p.added.length + p.changed.length + p.unchanged + p.failed.length),
      added: sum((p) => p.added.length),
      changed: sum((p) => p.changed.length),
      unchanged: sum((p) => p.unchanged),
      removed: sum((p) => p.removed.length),
      failed: sum((p) => p.failed.length),
    },
    blobs: {
      referenced: totals?.blobs ?? 0,
      toFetch: plan.blobs.fetch.length,
      fetched: counters?.fetched ?? 0,
      reused: plan.blobs.reuse.length,
    },
    bytes: {
      toFetch: plan.blobs.bytesToFetch,
      fetched: counters?.bytesFetched ?? 0,
      resumed: counters?.bytesResumed ?? 0,
      unique: totals?.uniqueBytes ?? 0,
      referenced: totals?.referencedBytes ?? 0,
      dedupeRatio: dedupeRatio(totals?.uniqueBytes ?? 0, totals?.referencedBytes ?? 0),
    },
    requests: { ...input.stats },
    durationMs: input.durationMs,
    plan: repositories,
    ...failureFields(failures),
  };
}
