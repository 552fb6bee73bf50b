import table from 'text-table';
import { formatDuration } from '../format.js';
import type { MirrorFreshness } from '../status/mirror-freshness.js';

/** PURE (given `now`): the mirror freshness section of `blobmirror status`. */
export function renderMirrorFreshness(f: MirrorFreshness | { unreadable: string } | null, now: Date): string[] {
  if (!f) return ['mirrors: no mirror state (run blobmirror crawl to check mirrors)'];
  if ('unreadable' in f) return [`mirrors: state unreadable (${f.unreadable})`];
  const ago = (at: string) => `${formatDuration(Math.max(0, now.getTime() - Date.parse(at)))} ago`;
  const header = [
    `mirrors: checked by pid ${f.checker.pid} on ${f.checker.host}, state written ${ago(f.updatedAt)}; master at ${f.currentGeneration ?? 'none'}`,
  ];
  if (!f.rows.length) return [...header, '  no mirror checked yet'];
  const rows = f.rows.map((r) => [
    r.mirror,
    r.module,
    r.verifiedGeneration ?? 'never',
    r.lagGenerations === null ? '-' : String(r.lagGenerations),
    r.lagSeconds ? formatDuration(r.lagSeconds * 1000) : '0',
    r.lastCheckAt ? ago(r.lastCheckAt) : 'never',
    String(r.consecutiveFailures),
    r.inRotation ? 'in' : 'OUT',
  ]);
  const text = table(
    [['mirror', 'module', 'verified', 'lag', 'lag time', 'last check', 'failures', 'rotation'], ...rows],
    {
      align: ['l', 'l', 'l', 'r', 'r', 'l', 'r', 'l'],
    },
  );
  const errors = f.rows
    .filter((r) => r.lastError && (r.consecutiveFailures > 0 || r.lagGenerations !== 0))
    .map((r) => `  last error ${r.mirror} ${r.module}: ${r.lastError}`);
  return [...header, ...text.split('\n').map((line) => `  ${line.trimEnd()}`), ...errors];
}
