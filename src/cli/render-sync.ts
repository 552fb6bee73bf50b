import type { Failure } from '../report/failure.js';
import type { SyncSummary } from '../report/sync-summary.js';
import { formatBytes, formatDuration, plural } from '../format.js';

/** PURE: the human summary of a sync, one fact per line (a dry run's plan: render-plan.ts). */
export function renderSyncSummary(s: SyncSummary): string {
  const lines: string[] = [];
  lines.push(
    `${s.repositories.synced}/${s.repositories.selected} repositories synced, ${plural(s.tags.total, 'tag')} (${s.tags.added} new, ${s.tags.changed} changed, ${s.tags.unchanged} unchanged, ${s.tags.removed} removed${s.tags.failed ? `, ${s.tags.failed} failed` : ''})`,
  );
  if (s.repositories.empty) lines.push(`empty (no tags in the source): ${namesLine(s.empty, s.repositories.empty)}`);
  if (s.repositories.carried)
    lines.push(
      `carried as published (not listed by the incomplete catalog): ${namesLine(s.carried, s.repositories.carried)}`,
    );
  lines.push(
    `blobs: ${s.blobs.fetched} fetched (${formatBytes(s.bytes.fetched)}${s.bytes.resumed ? `, resumed after ${formatBytes(s.bytes.resumed)}` : ''}), ${s.blobs.reused} reused, ${s.blobs.referenced} in the tree`,
  );
  lines.push(
    `disk: ${formatBytes(s.bytes.unique)} unique for ${formatBytes(s.bytes.referenced)} referenced (dedupe ${s.bytes.dedupeRatio}x)`,
  );
  lines.push(
    s.published
      ? `published metadata generation ${s.generation}`
      : `metadata unchanged (generation ${s.generation ?? 'none'})`,
  );
  lines.push(...failureLines(s), outcomeLine(s));
  return `${lines.join('\n')}\n`;
}

const namesLine = (names: readonly string[], count: number) =>
  `${count}: ${names.join(' ')}${count > names.length ? ` and ${count - names.length} more` : ''}`;

/** PURE: one line for `status` and the status page. */
export function syncDetail(s: SyncSummary): string {
  return (
    `${s.repositories.synced}/${s.repositories.selected} repositories synced; ${s.blobs.fetched} blobs fetched ` +
    `(${formatBytes(s.bytes.fetched)}), ${s.blobs.reused} reused; ` +
    (s.published ? `published generation ${s.generation}` : `generation ${s.generation ?? 'none'} unchanged`)
  );
}

/**
 * One FAILED line per failure, except that a blob failing every tag that needs it (a shared layer
 * fetched once) is one line naming each repository and tag it belongs to.
 */
export function failureLines(s: SyncSummary): string[] {
  const groups = new Map<string, Failure[]>();
  s.failures.forEach((f, i) => {
    const key = f.digest ? `${f.digest} ${f.code} ${f.message}` : `#${i}`;
    groups.set(key, [...(groups.get(key) ?? []), f]);
  });
  const lines = [...groups.values()].map((group) => {
    const f = group[0]!;
    const where =
      group.length === 1
        ? [f.repository, f.tag ? `tag ${f.tag}` : '', f.digest ? `digest ${f.digest}` : ''].filter(Boolean).join(', ')
        : `digest ${f.digest} of ${tagsByRepository(group)}`;
    return `FAILED ${where}: ${f.code}: ${f.message}`;
  });
  if (s.failureCount > s.failures.length) {
    const codes = Object.entries(s.failureCodes).map(([code, n]) => `${code} ${n}`);
    lines.push(
      `... and ${s.failureCount - s.failures.length} more failures (${s.failureCount} in all: ${codes.join(', ')})`,
    );
  }
  return lines;
}

/** `a tags 1, 2 and b tag 3`, in the order they were reported. */
function tagsByRepository(failures: readonly Failure[]): string {
  const tags = new Map<string, string[]>();
  for (const f of failures) tags.set(f.repository, [...(tags.get(f.repository) ?? []), ...(f.tag ? [f.tag] : [])]);
  const parts = [...tags].map(([repository, names]) =>
    names.length ? `${repository} ${names.length === 1 ? 'tag' : 'tags'} ${names.join(', ')}` : repository,
  );
  return parts.length > 1 ? `${parts.slice(0, -1).join(', ')} and ${parts.at(-1)}` : parts[0]!;
}

export const outcomeLine = (s: SyncSummary): string => `done in ${formatDuration(s.durationMs)}: ${s.result}`;
