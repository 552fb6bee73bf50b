import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../../../src/report/last-run.js';
import { generationFacts } from '../../../../../src/serve/ui/view/facts.js';
import { overviewModel } from '../../../../../src/serve/ui/view/overview.js';

const now = new Date('2026-11-22T17:30:00.000Z');
const facts = generationFacts({ id: '0000000042', createdAt: '2026-11-22T16:30:00.000Z' }, []);

const failedSync: RunRecord = {
  formatVersion: 1,
  command: 'sync',
  startedAt: '2026-11-22T17:00:00.000Z',
  finishedAt: '2026-11-22T17:00:02.500Z',
  durationMs: 2500,
  result: 'failed',
  generation: '0000000042',
  published: false,
  repositories: null,
  blobs: null,
  bytesFetched: null,
  failureCount: 0,
  failures: [],
  error: { code: 'NETWORK', message: 'GET https://registry.example/v2/: connection refused' },
};

describe('overviewModel', () => {
  it('gives the generation, its age and the dedupe figures', () => {
    const model = overviewModel({ now, facts, lastRun: null, listener: null });
    expect(model.generation).toMatchObject({ id: '0000000042', ageMs: 3_600_000, bytes: { ratio: 1 } });
    expect(model.generationProblem).toBeNull();
  });

  it('a failed sync is an alarm carrying its error and duration', () => {
    const sync = overviewModel({ now, facts, lastRun: failedSync, listener: null }).runs[0]!;
    expect(sync).toMatchObject({ command: 'sync', result: 'failed', alarm: true, durationMs: 2500 });
    expect(sync.error).toEqual(failedSync.error);
  });

  it('a partial sync lists its failures; an ok one is no alarm', () => {
    const partial: RunRecord = {
      ...failedSync,
      result: 'partial',
      error: null,
      repositories: { selected: 3, synced: 2, failed: 1 },
      blobs: { fetched: 4, reused: 1 },
      failureCount: 1,
      failures: [{ repository: 'a/b', tag: '1', code: 'NETWORK', message: 'reset' }],
    };
    const run = overviewModel({ now, facts, lastRun: partial, listener: null }).runs[0]!;
    expect(run.alarm).toBe(true);
    expect(run.failures).toEqual([{ repository: 'a/b', tag: '1', code: 'NETWORK', message: 'reset' }]);
    expect(run.detail).toContain('2 of 3 repositories synced');
    const ok = overviewModel({ now, facts, lastRun: { ...partial, result: 'ok', failures: [] }, listener: null });
    expect(ok.runs[0]!.alarm).toBe(false);
  });

  it('says why there is no generation, and what it cannot know without --state', () => {
    const model = overviewModel({
      now,
      facts: { problem: 'no published generation' },
      lastRun: undefined,
      listener: undefined,
    });
    expect(model.generation).toBeNull();
    expect(model.generationProblem).toBe('no published generation');
    expect(model.runs.map((r) => [r.command, r.result])).toEqual([
      ['sync', 'unknown'],
      ['gc', 'unrecorded'],
      ['verify', 'unrecorded'],
      ['listen', 'unknown'],
    ]);
  });

  it('an unreadable run record is an alarm', () => {
    const run = overviewModel({ now, facts, lastRun: { unreadable: 'result: invalid' }, listener: null }).runs[0]!;
    expect(run).toMatchObject({ result: 'unreadable', alarm: true, detail: 'result: invalid' });
  });
});
