import type { SyncSummary } from '../report/sync-summary.js';
import type { RepositoryVerdict, SyncPlan, TagDecision } from '../sync/plan.js';
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

const ORDER: Array<TagDecision['verdict']> = ['new', 'changed', 'removed', 'failed', 'carried', 'filtered'];

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

/** Published repositories not synced, grouped by why: a --repo run over 1,000 repositories stays one line. */
function repositoryLines(label: string, verdicts: readonly RepositoryVerdict[]): string[] {
  const groups = new Map<string, string[]>();
  for (const { name, why } of verdicts) groups.set(why, [...(groups.get(why) ?? []), name]);
  return [...groups].map(([why, names]) => `${label} (${why}): ${names.join(' ')}`);
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
  lines.push(...repositoryLines('carried', generation.carried), ...repositoryLines('dropped', generation.dropped));
  lines.push(...failureLines(summary), outcomeLine(summary));
  return `${lines.join('\n')}\n`;
}
