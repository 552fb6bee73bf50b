import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../../../src/report/last-run.js';
import { generationFacts } from '../../../../../src/serve/ui/view/facts.js';
import { overviewModel } from '../../../../../src/serve/ui/view/overview.js';

const now = new Date('2026-11-22T17:30:00.000Z');
const facts = generationFacts({ id: '0000000042', createdAt: '2026-11-22T16:30:00.000Z' }, []);

const failedSync: RunRecord = {
  formatVersion: 2,
  command: 'sync',
  startedAt: '2026-11-22T17:00:00.000Z',
  finishedAt: '2026-11-22T17:00:02.500Z',
  durationMs: 2500,
  result: 'failed',
  error: { code: 'NETWORK', message: 'GET https://registry.example/v2/: connection refused' },
  detail: null,
  failureCount: 0,
  failures: [],
  facts: {},
};

const none = { sync: null, gc: null, verify: null, 'check-mirror': null, crawl: null, listen: null };
const runs = (sync: RunRecord | { unreadable: string }) => ({ ...none, sync });

describe('overviewModel', () => {
  it('gives the generation, its age and the dedupe figures', () => {
    const model = overviewModel({ now, facts, runs: none, listener: null });
    expect(model.generation).toMatchObject({ id: '0000000042', ageMs: 3_600_000, bytes: { ratio: 1 } });
    expect(model.generationProblem).toBeNull();
  });

  it('a failed sync is an alarm carrying its error and duration', () => {
    const sync = overviewModel({ now, facts, runs: runs(failedSync), listener: null }).runs[0]!;
    expect(sync).toMatchObject({ command: 'sync', result: 'failed', alarm: true, durationMs: 2500 });
    expect(sync.error).toEqual(failedSync.error);
  });

  it('a partial sync lists its failures; an ok one is no alarm', () => {
    const partial: RunRecord = {
      ...failedSync,
      result: 'partial',
      error: null,
      detail: '2/3 repositories synced; 4 blobs fetched (1 MB), 1 reused; published generation 0000000042',
      failureCount: 1,
      failures: [{ repository: 'a/b', tag: '1', code: 'NETWORK', message: 'reset' }],
    };
    const run = overviewModel({ now, facts, runs: runs(partial), listener: null }).runs[0]!;
    expect(run.alarm).toBe(true);
    expect(run.failures).toEqual([{ repository: 'a/b', tag: '1', code: 'NETWORK', message: 'reset' }]);
    expect(run.detail).toContain('2/3 repositories synced');
    const ok = overviewModel({ now, facts, runs: runs({ ...partial, result: 'ok', failures: [] }), listener: null });
    expect(ok.runs[0]!.alarm).toBe(false);
  });

  it('says why there is no generation, and what it cannot know without --state', () => {
    const model = overviewModel({
      now,
      facts: { problem: 'no published generation' },
      runs: undefined,
      listener: undefined,
    });
    expect(model.generation).toBeNull();
    expect(model.generationProblem).toBe('no published generation');
    expect(model.runs.map((r) => [r.command, r.result])).toEqual([
      ['sync', 'unknown'],
      ['gc', 'unknown'],
      ['verify', 'unknown'],
      ['check-mirror', 'unknown'],
      ['crawl', 'unknown'],
      ['listen', 'unknown'],
    ]);
  });

  it('gc, verify and check-mirror show their own records: an interrupted verify is an alarm with its error', () => {
    const verify: RunRecord = {
      ...failedSync,
      command: 'verify',
      result: 'interrupted',
      error: { code: 'INTERRUPTED', message: 'SIGTERM received' },
    };
    const model = overviewModel({ now, facts, runs: { ...none, verify }, listener: null });
    expect(model.runs.map((r) => [r.command, r.result, r.alarm])).toEqual([
      ['sync', 'none', false],
      ['gc', 'none', false],
      ['verify', 'interrupted', true],
      ['check-mirror', 'none', false],
      ['crawl', 'none', false],
      ['listen', 'none', false],
    ]);
    expect(model.runs[2]!.error).toEqual(verify.error);
  });

  it('an unreadable run record is an alarm', () => {
    const run = overviewModel({ now, facts, runs: runs({ unreadable: 'result: invalid' }), listener: null }).runs[0]!;
    expect(run).toMatchObject({ result: 'unreadable', alarm: true, detail: 'result: invalid' });
  });
});
