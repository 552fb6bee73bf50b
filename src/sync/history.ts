// PURE: tag history ("what was :latest on date X"), bounded by the retention settings.
import type { Digest } from '../oci/digest.js';
import type { HistoryEntry } from '../publish/metadata-types.js';

const DAY_MS = 86_400_000;

/**
 * Append an entry for every tag whose digest changed (null when it left the selection), then drop
 * entries older than `historyDays` except the one still in effect at the cutoff.
 */
export function updateHistory(
  previous: Readonly<Record<string, HistoryEntry[]>> | undefined,
  tags: ReadonlyMap<string, Digest>,
  at: string,
  historyDays: number,
): Record<string, HistoryEntry[]> {
  const history = new Map<string, HistoryEntry[]>(
    Object.entries(previous ?? {}).map(([tag, entries]) => [tag, [...entries]]),
  );
  for (const [tag, digest] of tags) {
    const entries = history.get(tag) ?? [];
    if (entries.at(-1)?.digest !== digest) entries.push({ digest, since: at });
    history.set(tag, entries);
  }
  for (const [tag, entries] of history) {
    if (!tags.has(tag) && entries.at(-1)?.digest !== null) entries.push({ digest: null, since: at });
  }
  const cutoff = Date.parse(at) - historyDays * DAY_MS;
  const result: Record<string, HistoryEntry[]> = {};
  for (const [tag, entries] of [...history].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const firstRecent = entries.findIndex((entry) => Date.parse(entry.since) >= cutoff);
    const kept = firstRecent === -1 ? entries.slice(-1) : entries.slice(Math.max(0, firstRecent - 1));
    // A tag gone for longer than the window leaves no trace.
    if (kept.length === 1 && kept[0]!.digest === null && Date.parse(kept[0]!.since) < cutoff) continue;
    result[tag] = kept;
  }
  return result;
}
