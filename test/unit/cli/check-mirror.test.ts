import { describe, expect, it } from 'vitest';
import type { RepositoryCheck } from '../../../src/check-mirror/compare.js';
import type { MirrorCheckReport } from '../../../src/check-mirror/run.js';
import { mirrorsCheckReport } from '../../../src/cli/check-mirror.js';

const G = '0000000003';
const mirror = (url: string, over: Partial<MirrorCheckReport> = {}): MirrorCheckReport => ({
  mirror: url,
  upToDate: true,
  generation: G,
  modules: [{ module: 'containers', root: '.', upToDate: true, files: 4, outdated: [] }],
  repositories: [],
  durationMs: 5,
  ...over,
});
const repository = (name: string, over: Partial<RepositoryCheck>): RepositoryCheck => ({
  module: 'containers',
  repository: name,
  upToDate: true,
  files: 2,
  missing: 0,
  wrongSize: 0,
  errors: 0,
  notChecked: 0,
  firstProblems: [],
  ...over,
});
const behind = (url: string) =>
  mirror(url, {
    upToDate: false,
    modules: [{ module: 'containers', root: '.', upToDate: false, files: 4, outdated: ['stable/a'] }],
    repositories: [
      repository('stable/a', { upToDate: false, missing: 1, firstProblems: [] }),
      repository('stable/b', {}),
    ],
  });
const unreachable = (url: string) =>
  mirror(url, { upToDate: false, unreachable: { error: 'connection refused', filesNotChecked: 4, files: 4 } });

describe('mirrorsCheckReport', () => {
  it('one mirror: its own document and verdict, as before several could be given', () => {
    expect(mirrorsCheckReport(G, [behind('https://a')])).toMatchObject({
      result: 'partial',
      json: { mirror: 'https://a' },
      detail: `https://a: 1 of 2 repositories not up to date with generation ${G}`,
      facts: { mirror: 'https://a', generation: G, upToDate: false, outdated: 1 },
    });
    expect(mirrorsCheckReport(G, [unreachable('https://a')])).toMatchObject({
      result: 'failed',
      detail: 'https://a: unreachable: connection refused',
      facts: { mirror: 'https://a', generation: G },
    });
  });

  it('several: ok only when all are up to date, failed only when none answered, partial otherwise', () => {
    const ok = mirrorsCheckReport(G, [mirror('https://a'), mirror('https://b')]);
    expect(ok).toMatchObject({
      result: 'ok',
      json: { generation: G },
      detail: `2 mirrors with generation ${G}: 2 up to date, 0 behind, 0 unreachable`,
      facts: { generation: G, upToDate: true },
    });
    expect(mirrorsCheckReport(G, [unreachable('https://a'), unreachable('https://b')]).result).toBe('failed');
    const mixed = mirrorsCheckReport(G, [mirror('https://a'), behind('https://b'), unreachable('https://c')]);
    expect(mixed).toMatchObject({
      result: 'partial',
      detail: `3 mirrors with generation ${G}: 1 up to date, 1 behind, 1 unreachable; https://b: 1 of 2 repositories not up to date`,
      facts: {
        generation: G,
        upToDate: false,
        mirrors: [
          { mirror: 'https://a', result: 'ok', outdated: 0, unreachable: null },
          { mirror: 'https://b', result: 'partial', outdated: 1, unreachable: null },
          { mirror: 'https://c', result: 'failed', outdated: 0, unreachable: 'connection refused' },
        ],
      },
    });
    expect((mixed.json as { mirrors: unknown[] }).mirrors).toHaveLength(3);
  });
});
