import type { SyncSummary } from '../report/sync-summary.js';
import { formatBytes, formatDuration, plural } from '../format.js';

/** PURE: the human summary of a sync, one fact per line (a dry run's plan: render-plan.ts). */
export function renderSyncSummary(s: SyncSummary): string {
  const lines: string[] = [];
  lines.push(
    `${s.repositories.synced}/${s.repositories.selected} repositories synced, ${plural(s.tags.total, 'tag')} (${s.tags.added} new, ${s.tags.changed} changed, ${s.tags.unchanged} unchanged, ${s.tags.removed} removed)`,
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

export function failureLines(s: SyncSummary): string[] {
  return s.failures.map((f) => {
    const where = [f.repository, f.tag ? `tag ${f.tag}` : '', f.digest ? `digest ${f.digest}` : '']
      .filter(Boolean)
      .join(', ');
    return `FAILED ${where}: ${f.code}: ${f.message}`;
  });
}

export const outcomeLine = (s: SyncSummary): string => `done in ${formatDuration(s.durationMs)}: ${s.result}`;
