import { describe, expect, it } from 'vitest';
import { renderMirrorFreshness } from '../../../src/cli/render-mirror-freshness.js';
import { emptyModuleState, type MirrorStateFile } from '../../../src/freshness/mirror-state.js';
import { mirrorFreshness } from '../../../src/status/mirror-freshness.js';

const NOW = Date.parse('2026-06-01T12:00:00Z');
const created = new Map([
  ['0000000004', NOW - 7_200_000],
  ['0000000005', NOW - 600_000],
]);

function state(): MirrorStateFile {
  const at = new Date(NOW - 60_000).toISOString();
  return {
    formatVersion: 1,
    updatedAt: at,
    checker: { pid: 42, host: 'master1', startedAt: at },
    currentGeneration: '0000000004',
    mirrors: {
      'https://b.example/c': {
        modules: {
          containers: {
            ...emptyModuleState(),
            lastCheckAt: at,
            consecutiveFailures: 3,
            inRotation: false,
            lastError: { at, message: 'GET https://b.example/c/fullfiletimelist-containers: HTTP 503' },
          },
        },
      },
      'https://a.example/c': {
        modules: {
          containers: { ...emptyModuleState(), verifiedGeneration: '0000000004', verifiedAt: at, lastCheckAt: at },
        },
      },
    },
  };
}

describe('mirror freshness', () => {
  it('measures lag against the newest kept generation, not the one the checker last saw', () => {
    const f = mirrorFreshness(state(), created, NOW);
    expect(f.currentGeneration).toBe('0000000005');
    expect(f.rows.map((r) => [r.mirror, r.verifiedGeneration, r.lagGenerations, r.lagSeconds, r.inRotation])).toEqual([
      ['https://a.example/c', '0000000004', 1, 600, true],
      ['https://b.example/c', null, null, 7200, false],
    ]);
  });

  it('renders a table, one row per mirror and module, and the errors of lagging or failing ones', () => {
    const lines = renderMirrorFreshness(mirrorFreshness(state(), created, NOW), new Date(NOW));
    expect(lines).toEqual([
      'mirrors: checked by pid 42 on master1, state written 60.0 s ago; master at 0000000005',
      '  mirror               module      verified    lag     lag time  last check  failures  rotation',
      '  https://a.example/c  containers  0000000004    1   10 min 0 s  60.0 s ago         0  in',
      '  https://b.example/c  containers  never         -  120 min 0 s  60.0 s ago         3  OUT',
      '  last error https://b.example/c containers: GET https://b.example/c/fullfiletimelist-containers: HTTP 503',
    ]);
  });

  it('says when no checker wrote a state', () => {
    expect(renderMirrorFreshness(null, new Date(NOW))).toEqual([
      'mirrors: no mirror state (run blobmirror crawl to check mirrors)',
    ]);
  });
});
