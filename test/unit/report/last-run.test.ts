import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockedError } from '../../../src/errors.js';
import { readLastRun, readLastRuns, recordRun, runRecord } from '../../../src/report/last-run.js';
import type { CommandReport, RunEnd } from '../../../src/report/run-end.js';

const startedAt = new Date('2026-11-22T16:00:00Z');
const finishedAt = new Date('2026-11-22T16:00:05Z');

const report = (overrides: Partial<CommandReport> = {}): CommandReport => ({
  result: 'ok',
  json: {},
  text: '',
  detail: '3/3 repositories synced',
  failures: [],
  facts: { generation: '0000000002' },
  metrics: {},
  ...overrides,
});

describe('last run record', () => {
  it('records a run that threw as failed, with its error and nothing the run did not say', () => {
    const record = runRecord({
      command: 'sync',
      startedAt,
      finishedAt,
      error: new LockedError('tree is locked by gc'),
    });
    expect(record).toEqual({
      formatVersion: 2,
      command: 'sync',
      startedAt: startedAt.toISOString(),
      finishedAt: finishedAt.toISOString(),
      durationMs: 5000,
      result: 'failed',
      error: { code: 'LOCKED', message: 'tree is locked by gc' },
      detail: null,
      failureCount: 0,
      failures: [],
      facts: {},
    });
  });

  it('keeps the first 50 failures and the exact count, and the figures the command gave', () => {
    const failures = Array.from({ length: 120 }, (_, i) => ({
      repository: `r/${i}`,
      code: 'NETWORK',
      message: 'reset',
    }));
    const record = runRecord({
      command: 'sync',
      startedAt,
      finishedAt,
      report: report({ result: 'failed', failures }),
    });
    expect(record.failureCount).toBe(120);
    expect(record.failures).toHaveLength(50);
    expect(record).toMatchObject({ result: 'failed', error: null, facts: { generation: '0000000002' } });
    // A command that lists only its first failures gives the whole count.
    const capped = runRecord({
      command: 'sync',
      startedAt,
      finishedAt,
      report: report({ failures, failureCount: 80_000 }),
    });
    expect([capped.failureCount, capped.failures.length]).toEqual([80_000, 50]);
  });

  it("a report whose failures are already capped (a sync's summary) gives its own total", () => {
    const failures = [{ repository: 'big/repo', tag: 't0', code: 'TIMEOUT', message: 'stalled' }];
    const record = runRecord({
      command: 'sync',
      startedAt,
      finishedAt,
      report: report({ result: 'partial', failures, failureCount: 80_038 }),
    });
    expect(record).toMatchObject({ failureCount: 80_038, failures });
  });

  it('reads back each command apart, and says when a file is unreadable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-last-run-'));
    try {
      expect(await readLastRun(dir, 'gc')).toBeNull();
      const gc: RunEnd = { command: 'gc', startedAt, finishedAt, error: new Error('boom') };
      const sync: RunEnd = { command: 'sync', startedAt, finishedAt, report: report() };
      await recordRun(dir, gc);
      await recordRun(dir, sync);
      expect(await readLastRuns(dir)).toEqual({
        sync: runRecord(sync),
        gc: runRecord(gc),
        verify: null,
        'check-mirror': null,
        crawl: null,
        listen: null,
      });
      await writeFile(path.join(dir, 'last-run/verify.json'), '{"formatVersion": 2}');
      expect(await readLastRun(dir, 'verify')).toEqual({ unreadable: expect.stringContaining('command') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
