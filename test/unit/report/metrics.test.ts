import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { syncRunMetrics, writeMetricsFile } from '../../../src/report/metrics.js';
import type { SyncSummary } from '../../../src/report/sync-summary.js';

/** name -> value of the sample labelled with `command`, as a Prometheus text parser reads the file. */
async function samples(file: string, command: string): Promise<Record<string, number>> {
  const families = parsePrometheusTextFormat(await readFile(file, 'utf8'));
  const result: Record<string, number> = {};
  for (const family of families) {
    expect(family.type).toBe('GAUGE');
    expect(family.help).not.toBe('');
    for (const metric of family.metrics)
      if (metric.labels?.command === command) result[family.name] = Number(metric.value);
  }
  return result;
}

describe('writeMetricsFile', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-metrics-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('writes the sync samples a Prometheus parser reads back', async () => {
    const file = path.join(dir, 'blobmirror-sync.prom');
    const finishedAt = new Date('2026-11-22T16:30:00Z');
    const summary = {
      result: 'ok',
      durationMs: 12_500,
      repositories: { selected: 3, synced: 3, failed: 0 },
      blobs: { referenced: 40, toFetch: 7, fetched: 7, reused: 30 },
      bytes: {
        toFetch: 1_234_567,
        fetched: 1_234_567,
        resumed: 0,
        unique: 5_000_000,
        referenced: 12_000_000,
        dedupeRatio: 2.4,
      },
    } as SyncSummary;
    await writeMetricsFile(file, 'sync', {
      ...syncRunMetrics(summary),
      success: true,
      durationSeconds: 12.5,
      finishedAt,
    });
    expect(await samples(file, 'sync')).toEqual({
      blobmirror_last_run_timestamp_seconds: finishedAt.getTime() / 1000,
      blobmirror_last_run_success: 1,
      blobmirror_last_success_timestamp_seconds: finishedAt.getTime() / 1000,
      blobmirror_run_duration_seconds: 12.5,
      blobmirror_fetched_bytes: 1_234_567,
      blobmirror_blobs_fetched: 7,
      blobmirror_blobs_reused: 30,
      blobmirror_repositories_failed: 0,
      blobmirror_tree_bytes: 5_000_000,
      blobmirror_referenced_bytes: 12_000_000,
      blobmirror_dedupe_ratio: 2.4,
    });
    expect(await readdir(dir)).toEqual(['blobmirror-sync.prom']);
  });

  it('keeps the last success time through a failed run', async () => {
    const file = path.join(dir, 'blobmirror-verify.prom');
    const good = new Date('2026-11-20T00:00:00Z');
    await writeMetricsFile(file, 'verify', {
      success: true,
      finishedAt: good,
      durationSeconds: 3,
      problemsFound: 2,
      problemsFixed: 2,
      problemsLeft: 0,
    });
    const bad = new Date('2026-11-21T00:00:00Z');
    await writeMetricsFile(file, 'verify', {
      success: false,
      finishedAt: bad,
      durationSeconds: 4,
      problemsFound: 1,
      problemsFixed: 0,
      problemsLeft: 1,
    });
    expect(await samples(file, 'verify')).toMatchObject({
      blobmirror_last_run_success: 0,
      blobmirror_last_run_timestamp_seconds: bad.getTime() / 1000,
      blobmirror_last_success_timestamp_seconds: good.getTime() / 1000,
      blobmirror_verify_problems_left: 1,
    });
    // A command that never succeeded has no success time at all (alert on its absence).
    const gc = path.join(dir, 'blobmirror-gc.prom');
    await writeMetricsFile(gc, 'gc', { success: false, durationSeconds: 1 });
    expect(await samples(gc, 'gc')).not.toHaveProperty('blobmirror_last_success_timestamp_seconds');
  });
});
