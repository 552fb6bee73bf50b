import { describe, expect, it } from 'vitest';
import { planView, renderPlan } from '../../../src/cli/render-plan.js';
import type { Digest } from '../../../src/oci/digest.js';
import type { SyncSummary } from '../../../src/report/sync-summary.js';
import type { RepositoryPlan, SyncPlan, TagDecision } from '../../../src/sync/plan.js';
import type { RepositoryResolution } from '../../../src/sync/resolve-repository.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;

function repository(name: string, tags: TagDecision[]): RepositoryPlan {
  // The renderers never look at the resolution (what apply works from).
  return { name, tags, resolution: {} as RepositoryResolution };
}

const plan: SyncPlan = {
  repositories: [
    repository('a', [
      { tag: '0.9', verdict: 'removed', previous: d('9'), why: 'no longer in the source' },
      { tag: '1.0', verdict: 'new', digest: d('1'), why: 'not published before' },
      { tag: '1.1', verdict: 'new', digest: d('2'), why: 'not published before' },
      { tag: 'latest', verdict: 'changed', digest: d('2'), previous: d('1'), why: `moved from ${d('1')}` },
      { tag: 'nightly', verdict: 'filtered', why: 'tags.exclude ^nightly$' },
      { tag: 'x', verdict: 'unchanged', digest: d('3'), previous: d('3'), why: 'same digest' },
    ]),
    repository('b', []),
  ],
  catalogFailures: [],
  blobs: {
    fetch: [{ digest: d('4'), size: 1234, mediaType: 'application/octet-stream' } as never],
    reuse: [
      { digest: d('5'), size: 1 },
      { digest: d('6'), size: 2 },
    ],
    bytesToFetch: 1234,
  },
  links: [{ repository: 'a', digest: d('4'), path: `a/_blobs/sha256/${'4'.repeat(64)}` }],
  generation: {
    base: '0000000007',
    targeted: true,
    rewrite: false,
    carried: [
      { name: 'c', why: 'not in --repo: kept as published' },
      { name: 'e', why: 'not in --repo: kept as published' },
    ],
    dropped: [],
    publish: true,
    why: '4 tag change(s)',
  },
};

const summary = { failures: [], durationMs: 150_000, result: 'ok' } as unknown as SyncSummary;

describe('renderPlan', () => {
  it('shows each repository with its tags grouped by verdict and reason, then blobs, links and the generation', () => {
    expect(renderPlan(plan, summary)).toBe(
      [
        'dry run: nothing was written',
        '  a: 2 new, 1 changed, 1 removed, 1 filtered, 1 unchanged',
        '    new (not published before): 1.0 1.1',
        `    changed (moved from ${d('1')}): latest`,
        '    removed (no longer in the source): 0.9',
        '    filtered (tags.exclude ^nightly$): nightly',
        '  b: no tags',
        'would fetch 1 blob (1.2 kB); 2 blobs already in the store; 1 tree link to make',
        'would publish a new generation (4 tag change(s))',
        'carried (not in --repo: kept as published): c e',
        'done in 2 min 30 s: ok',
        '',
      ].join('\n'),
    );
  });

  it('says when no generation would be published', () => {
    const quiet = {
      ...plan,
      generation: { ...plan.generation, publish: false, why: 'nothing changed since generation 0000000007' },
    };
    expect(renderPlan(quiet, summary)).toContain(
      'would publish no generation (nothing changed since generation 0000000007)\n',
    );
  });
});

describe('planView', () => {
  it('keeps decisions, blobs (digest and size), links and the generation; drops what apply works from', () => {
    const view = planView(plan);
    expect(view.repositories[0]).toEqual({ name: 'a', tags: plan.repositories[0]!.tags });
    expect(view.repositories[0]).not.toHaveProperty('resolution');
    expect(view.blobs.fetch).toEqual([{ digest: d('4'), size: 1234 }]);
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});
