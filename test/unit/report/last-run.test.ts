import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { LockedError } from '../../../src/errors.js';
import { readLastRun, recordRun, runRecord } from '../../../src/report/last-run.js';
import type { SyncSummary } from '../../../src/report/sync-summary.js';

const startedAt = new Date('2026-11-22T16:00:00Z');
const finishedAt = new Date('2026-11-22T16:00:05Z');

describe('last run record', () => {
  it('records a run that threw as failed, with its error', () => {
    const record = runRecord('sync', { startedAt, finishedAt, error: new LockedError('tree is locked by gc') });
    expect(record).toMatchObject({
      result: 'failed',
      durationMs: 5000,
      generation: null,
      repositories: null,
      failureCount: 0,
      error: { code: 'LOCKED', message: 'tree is locked by gc' },
    });
  });

  it('keeps the first 50 failures and the exact count', () => {
    const failures = Array.from({ length: 120 }, (_, i) => ({
      repository: `r/${i}`,
      code: 'NETWORK',
      message: 'reset',
    }));
    const summary = {
      result: 'failed',
      generation: '0000000002',
      published: false,
      failures,
      repositories: { selected: 120, synced: 0, failed: 120 },
      blobs: { fetched: 0, reused: 0 },
      bytes: { fetched: 0 },
    } as unknown as SyncSummary;
    const record = runRecord('sync', { startedAt, finishedAt, summary });
    expect(record.failureCount).toBe(120);
    expect(record.failures).toHaveLength(50);
    expect(record.generation).toBe('0000000002');
  });

  it('reads back what it wrote, and says when the file is unreadable', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-last-run-'));
    try {
      expect(await readLastRun(dir)).toBeNull();
      await recordRun(dir, { startedAt, finishedAt, error: new Error('boom') });
      expect(await readLastRun(dir)).toEqual(runRecord('sync', { startedAt, finishedAt, error: new Error('boom') }));
      await writeFile(path.join(dir, 'last-run.json'), '{"formatVersion": 1}');
      expect(await readLastRun(dir)).toEqual({ unreadable: expect.stringContaining('command') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
