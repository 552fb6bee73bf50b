import { describe, expect, it } from 'vitest';
import { renderSyncSummary } from '../../../src/cli/render-sync.js';
import type { SyncSummary } from '../../../src/report/sync-summary.js';

function summary(overrides: Partial<SyncSummary> = {}): SyncSummary {
  return {
    result: 'ok',
    dryRun: false,
    generation: '0000000042',
    published: true,
    repositories: { selected: 3, synced: 3, failed: 0, empty: 0, carried: 0 },
    empty: [],
    carried: [],
    tags: { total: 12, added: 2, changed: 1, unchanged: 8, removed: 1, failed: 0 },
    blobs: { referenced: 40, toFetch: 5, fetched: 5, reused: 35 },
    bytes: {
      toFetch: 5_000_000,
      fetched: 5_000_000,
      resumed: 0,
      unique: 300_000_000,
      referenced: 750_000_000,
      dedupeRatio: 2.5,
    },
    requests: { manifestHeads: 12, manifestGets: 3, blobGets: 5, tagLists: 3, catalogPages: 1, referrers: 0 },
    durationMs: 4200,
    plan: [],
    failures: [],
    failureCount: 0,
    failureCodes: {},
    ...overrides,
  };
}

describe('renderSyncSummary', () => {
  it('summarises a finished sync, one fact per line', () => {
    expect(renderSyncSummary(summary())).toBe(
      [
        '3/3 repositories synced, 12 tags (2 new, 1 changed, 8 unchanged, 1 removed)',
        'blobs: 5 fetched (5.0 MB), 35 reused, 40 in the tree',
        'disk: 300 MB unique for 750 MB referenced (dedupe 2.5x)',
        'published metadata generation 0000000042',
        'done in 4.2 s: ok',
        '',
      ].join('\n'),
    );
  });

  it('mentions resumed bytes only when a download was resumed', () => {
    expect(renderSyncSummary(summary({ bytes: { ...summary().bytes, resumed: 1_500_000 } }))).toContain(
      'blobs: 5 fetched (5.0 MB, resumed after 1.5 MB)',
    );
    expect(renderSyncSummary(summary())).not.toContain('resumed');
  });

  it('says when the metadata did not change, or there is no generation yet', () => {
    expect(renderSyncSummary(summary({ published: false }))).toContain(
      '\nmetadata unchanged (generation 0000000042)\n',
    );
    expect(renderSyncSummary(summary({ published: false, generation: undefined }))).toContain(
      '\nmetadata unchanged (generation none)\n',
    );
  });

  it('lists each failure with where it happened, before the result line', () => {
    const text = renderSyncSummary(
      summary({
        result: 'partial',
        failures: [
          { repository: 'fedora/toolbox', tag: '39', code: 'AUTH_FAILED', message: 'token endpoint answered 401' },
          { repository: 'ubi', digest: 'sha256:abc', code: 'DIGEST_MISMATCH', message: 'bytes do not match' },
          { repository: 'other', code: 'NETWORK', message: 'ECONNRESET' },
        ],
      }),
    );
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(-4)).toEqual([
      'FAILED fedora/toolbox, tag 39: AUTH_FAILED: token endpoint answered 401',
      'FAILED ubi, digest sha256:abc: DIGEST_MISMATCH: bytes do not match',
      'FAILED other: NETWORK: ECONNRESET',
      'done in 4.2 s: partial',
    ]);
  });

  it('counts failed tags apart from new ones', () => {
    const text = renderSyncSummary(
      summary({ result: 'partial', tags: { total: 12, added: 1, changed: 1, unchanged: 8, removed: 1, failed: 2 } }),
    );
    expect(text.split('\n')[0]).toBe(
      '3/3 repositories synced, 12 tags (1 new, 1 changed, 8 unchanged, 1 removed, 2 failed)',
    );
  });

  it('names every repository and tag a failed shared blob belongs to, in one line', () => {
    const blob = { digest: 'sha256:abc', code: 'DIGEST_MISMATCH', message: 'content hashes to sha256:def' };
    const text = renderSyncSummary(
      summary({
        result: 'failed',
        failures: [
          { repository: 'a', tag: '1', ...blob },
          { repository: 'b', tag: '1', ...blob },
          { repository: 'a', tag: '2', ...blob },
          { repository: 'c', tag: '9', digest: 'sha256:abc', code: 'NETWORK', message: 'connection reset' },
        ],
      }),
    );
    expect(text.trimEnd().split('\n').slice(-3, -1)).toEqual([
      'FAILED digest sha256:abc of a tags 1, 2 and b tag 1: DIGEST_MISMATCH: content hashes to sha256:def',
      'FAILED c, tag 9, digest sha256:abc: NETWORK: connection reset',
    ]);
  });

  it('says how many failures were left out of the list, by code', () => {
    const text = renderSyncSummary(
      summary({
        result: 'partial',
        failures: [{ repository: 'big', tag: 't0', code: 'TIMEOUT', message: 'stalled' }],
        failureCount: 120,
        failureCodes: { TIMEOUT: 100, NOT_FOUND: 20 },
      }),
    );
    expect(text).toContain(
      'FAILED big, tag t0: TIMEOUT: stalled\n... and 119 more failures (120 in all: TIMEOUT 100, NOT_FOUND 20)\n',
    );
  });

  it('names empty and carried repositories after the counts', () => {
    const text = renderSyncSummary(
      summary({
        repositories: { selected: 3, synced: 3, failed: 0, empty: 1, carried: 52 },
        empty: ['hostile/tagless'],
        carried: Array.from({ length: 50 }, (_, i) => `late/r${i}`),
      }),
    );
    const lines = text.split('\n');
    expect(lines[1]).toBe('empty (no tags in the source): 1: hostile/tagless');
    expect(lines[2]).toMatch(
      /^carried as published \(not listed by the incomplete catalog\): 52: late\/r0 .* late\/r49 and 2 more$/,
    );
  });
});
