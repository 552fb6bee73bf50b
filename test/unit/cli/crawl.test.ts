import { describe, expect, it } from 'vitest';
import { crawlRoundReport } from '../../../src/cli/crawl.js';
import { emptyModuleState, type ModuleState } from '../../../src/freshness/mirror-state.js';
import type { RoundResult } from '../../../src/freshness/checker.js';
import type { MasterView } from '../../../src/freshness/master-view.js';

const G = '0000000007';
const state = (over: Partial<ModuleState>): ModuleState => ({ ...emptyModuleState(), ...over });
const round = (mirrors: Record<string, ModuleState[]>): RoundResult => ({
  state: {
    formatVersion: 1,
    updatedAt: '2026-12-04T12:00:00.000Z',
    checker: { pid: 1, host: 'master', startedAt: '2026-12-04T11:00:00.000Z' },
    currentGeneration: G,
    mirrors: Object.fromEntries(
      Object.entries(mirrors).map(([url, modules]) => [
        url,
        { modules: Object.fromEntries(modules.map((m, i) => [`containers-${i}`, m])) },
      ]),
    ),
  },
  master: { current: G } as MasterView,
  requests: 12,
  durationMs: 40,
});

describe('crawlRoundReport', () => {
  it('ok when every check answered, lagging mirrors included; current counts mirrors verified at the master in every module', () => {
    const report = crawlRoundReport(
      round({
        'https://a': [state({ verifiedGeneration: G }), state({ verifiedGeneration: G })],
        'https://b': [state({ verifiedGeneration: G }), state({ verifiedGeneration: '0000000006' })],
      }),
    );
    expect(report).toMatchObject({
      result: 'ok',
      detail: `2 mirrors checked against generation ${G}: 1 verified at it`,
      facts: { generation: G, mirrors: 2, current: 1, failing: [], requests: 12 },
    });
  });

  it('partial when a check failed, naming the first failing mirror and its error', () => {
    const down = state({ consecutiveFailures: 2, lastError: { at: 'x', message: 'connection refused' } });
    const report = crawlRoundReport(round({ 'https://a': [state({ verifiedGeneration: G })], 'https://b': [down] }));
    expect(report).toMatchObject({
      result: 'partial',
      detail: `2 mirrors checked against generation ${G}: 1 verified at it, 1 failing (https://b: connection refused)`,
      facts: { failing: ['https://b'] },
    });
  });
});
