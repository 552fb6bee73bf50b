import type { SyncSummary } from '../report/sync-summary.js';
import { formatBytes, formatDuration, plural } from './format.js';

/** PURE: the human summary of a sync (or of a dry run's plan), one fact per line. */
export function renderSyncSummary(s: SyncSummary): string {
  const lines: string[] = [];
  if (s.dryRun) {
    lines.push('dry run: nothing was written');
    for (const repo of s.plan) {
      const parts = [
        repo.added.length ? `new ${repo.added.join(' ')}` : '',
        repo.changed.length ? `changed ${repo.changed.join(' ')}` : '',
        repo.removed.length ? `removed ${repo.removed.join(' ')}` : '',
        repo.unchanged ? `${repo.unchanged} unchanged` : '',
      ].filter(Boolean);
      lines.push(`  ${repo.name}: ${parts.join('; ') || 'no tags'}`);
    }
    lines.push(
      `would fetch ${plural(s.blobs.toFetch, 'blob')} (${formatBytes(s.bytes.toFetch)}); ${plural(s.blobs.reused, 'blob')} already in the store`,
    );
  } else {
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
  }
  for (const f of s.failures) {
    const where = [f.repository, f.tag ? `tag ${f.tag}` : '', f.digest ? `digest ${f.digest}` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`FAILED ${where}: ${f.code}: ${f.message}`);
  }
  lines.push(`done in ${formatDuration(s.durationMs)}: ${s.result}`);
  return `${lines.join('\n')}\n`;
}
