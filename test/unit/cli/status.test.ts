import { describe, expect, it } from 'vitest';
import { renderStatus } from '../../../src/cli/status.js';
import type { RunRecord } from '../../../src/report/last-run.js';
import type { StatusReport } from '../../../src/status/collect.js';

const now = new Date('2026-11-22T17:00:00Z');

const record = (overrides: Partial<RunRecord>): RunRecord => ({
  formatVersion: 2,
  command: 'sync',
  startedAt: '2026-11-22T16:00:00.000Z',
  finishedAt: '2026-11-22T16:00:20.000Z',
  durationMs: 20_000,
  result: 'ok',
  error: null,
  detail: null,
  failureCount: 0,
  failures: [],
  facts: {},
  ...overrides,
});

const report = (runs: Partial<StatusReport['runs']>): StatusReport => ({
  runs: { sync: null, gc: null, verify: null, 'check-mirror': null, crawl: null, listen: null, ...runs },
  generation: null,
  lock: { pid: 4242, host: 'master', command: 'sync', since: '2026-11-22T16:59:00.000Z' },
  listener: null,
  mirrors: null,
});

describe('renderStatus', () => {
  it('shows each command last run: result, end, duration, what it did, and the error of a stopped one', () => {
    const text = renderStatus(
      report({
        sync: record({
          result: 'interrupted',
          error: { code: 'INTERRUPTED', message: 'SIGTERM received: stopped before starting new work' },
        }),
        gc: record({ command: 'gc', detail: 'removed 3 links; freed 1 MB', durationMs: 1500 }),
        verify: { unreadable: 'result: invalid option' },
      }),
      now,
    );
    expect(text).toContain(
      [
        'last runs:',
        '  sync: interrupted, ended 2026-11-22T16:00:20.000Z (59 min 40 s ago) after 20.0 s',
        '    error INTERRUPTED: SIGTERM received: stopped before starting new work',
        '  gc: ok, ended 2026-11-22T16:00:20.000Z (59 min 40 s ago) after 1.5 s',
        '    removed 3 links; freed 1 MB',
        '  verify: record unreadable (result: invalid option)',
        '  check-mirror: none recorded',
        '  crawl: none recorded',
        '  listen: none recorded',
      ].join('\n'),
    );
    expect(text).toMatch(/^lock: held by sync \(pid 4242 on master, since 2026-11-22T16:59:00.000Z\)$/m);
  });

  it('lists the recorded failures and says how many more there were', () => {
    const text = renderStatus(
      report({
        sync: record({
          result: 'partial',
          failureCount: 3,
          failures: [{ repository: 'a/b', tag: '1', code: 'NETWORK', message: 'reset' }],
        }),
      }),
      now,
    );
    expect(text).toContain('    FAILED a/b tag 1: NETWORK: reset\n    ... and 2 more failures\n');
  });
});
