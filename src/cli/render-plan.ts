import type { SyncSummary } from '../report/sync-summary.js';
import type { SyncPlan, TagDecision } from '../sync/plan.js';
import { formatBytes, plural } from '../format.js';
import { failureLines, outcomeLine } from './render-sync.js';

/** PURE: the plan as data for `--dry-run --json` (its Maps and resolved bytes left out). */
export function planView(plan: SyncPlan) {
  return {
    repositories: plan.repositories.map(({ name, tags }) => ({ name, tags })),
    blobs: {
      fetch: plan.blobs.fetch.map(({ digest, size }) => ({ digest, size })),
      reuse: plan.blobs.reuse.map(({ digest, size }) => ({ digest, size })),
      bytesToFetch: plan.blobs.bytesToFetch,
    },
    links: plan.links,
    generation: plan.generation,
  };
}

const ORDER: Array<TagDecision['verdict']> = ['new', 'changed', 'removed', 'failed', 'filtered'];

/** Tags with the same verdict and reason on one line: a repository of 500 filtered tags stays readable. */
function tagLines(tags: readonly TagDecision[]): string[] {
  const groups = new Map<string, string[]>();
  for (const verdict of ORDER)
    for (const t of tags.filter((t) => t.verdict === verdict)) {
      const key = `${verdict} (${t.why})`;
      groups.set(key, [...(groups.get(key) ?? []), t.tag]);
    }
  return [...groups].map(([key, names]) => `    ${key}: ${names.join(' ')}`);
}

/** PURE: a dry run for people: per repository what happens to each tag and why, then blobs, links, generation. */
export function renderPlan(plan: SyncPlan, summary: SyncSummary): string {
  const lines = ['dry run: nothing was written'];
  for (const repo of plan.repositories) {
    const count = (verdict: TagDecision['verdict']) => repo.tags.filter((t) => t.verdict === verdict).length;
    const counts = [...ORDER, 'unchanged' as const]
      .map((verdict) => (count(verdict) ? `${count(verdict)} ${verdict}` : ''))
      .filter(Boolean);
    lines.push(`  ${repo.name}: ${counts.join(', ') || 'no tags'}`, ...tagLines(repo.tags));
  }
  lines.push(
    `would fetch ${plural(plan.blobs.fetch.length, 'blob')} (${formatBytes(plan.blobs.bytesToFetch)}); ` +
      `${plural(plan.blobs.reuse.length, 'blob')} already in the store; ${plural(plan.links.length, 'tree link')} to make`,
  );
  const { generation } = plan;
  lines.push(
    generation.publish
      ? `would publish a new generation (${generation.why})`
      : `would publish no generation (${generation.why})`,
  );
  if (generation.carriedOver.length) lines.push(`carried over as published: ${generation.carriedOver.join(' ')}`);
  lines.push(...failureLines(summary), outcomeLine(summary));
  return `${lines.join('\n')}\n`;
}
