// Issue 4: `status` after a real sync: the recorded last run with its failures, the current
// generation's counts and dedupe ratio, the lock holder, and the listener's status file.
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import type { ListenerStatus } from '../../src/listen/state-files.js';
import { syncReport } from '../../src/cli/sync.js';
import { readLastRun, recordRun } from '../../src/report/last-run.js';
import type { StatusReport } from '../../src/status/collect.js';
import { acquireLock } from '../../src/store/lock.js';
import { failureFields, type SyncSummary } from '../../src/report/sync-summary.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { useTestWorld } from '../helpers/test-world.js';

const KiB = 1024;

describe('status', () => {
  const world = useTestWorld({
    name: 'status',
    spec: fixtureSpec({
      seed: 'status',
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 64 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: 4 * KiB,
    }),
  });

  it('shows the last run, the generation with its dedupe, the lock holder and the listener', async () => {
    const { file: config, root } = await world.writeConfig('master');
    const state = path.join(root, 'state');
    const before = jsonOf<StatusReport>(await runCli(['status', '-c', config, '--json']));
    expect(before).toEqual({
      runs: { sync: null, gc: null, verify: null, 'check-mirror': null, crawl: null, listen: null },
      generation: null,
      lock: null,
      listener: null,
      mirrors: null,
    });

    const startedAt = new Date();
    const sync = await runCli(['sync', '-c', config, '--json']);
    const summary = jsonOf<SyncSummary>(sync);
    // The sync recorded itself.
    expect(await readLastRun(state, 'sync')).toMatchObject({
      command: 'sync',
      result: 'ok',
      error: null,
      facts: { generation: summary.generation, published: true },
    });
    // What the sync records at its end; a failure is added to show how failures come through.
    const failed = {
      ...summary,
      result: 'partial' as const,
      ...failureFields([{ repository: 'stable/app-3', tag: '1.1', code: 'NETWORK', message: 'connection reset' }]),
    };
    await recordRun(state, { command: 'sync', startedAt, finishedAt: new Date(), report: syncReport(failed) });
    expect(await readLastRun(state, 'sync')).toMatchObject({
      command: 'sync',
      result: 'partial',
      facts: { generation: summary.generation },
      failureCount: 1,
    });

    const listener: ListenerStatus = {
      formatVersion: 1,
      pid: 4242,
      startedAt: startedAt.toISOString(),
      updatedAt: new Date().toISOString(),
      state: 'idle',
      amqp: {
        queue: 'blobmirror-master',
        connected: true,
        queueDepth: 3,
        depthAt: new Date().toISOString(),
        unacked: 0,
      },
      webhook: null,
      pending: [],
      running: [],
      lastMessage: {
        at: startedAt.toISOString(),
        messageId: 'm-1',
        routingKey: 'org.fedoraproject.prod.bodhi.update.complete.stable',
        outcome: 'trigger',
        detail: 'stable/app-1',
      },
      lastTrigger: {
        repositories: ['stable/app-1'],
        triggeredAt: startedAt.toISOString(),
        finishedAt: new Date().toISOString(),
        result: 'ok',
        generation: summary.generation ?? null,
        latencyMs: 734,
      },
      lastError: null,
    };
    await mkdir(path.join(state, 'listen'), { recursive: true });
    await writeFile(path.join(state, 'listen/status.json'), JSON.stringify(listener));

    const lock = await acquireLock(path.join(state, 'lock'), { command: 'gc' });
    try {
      const report = jsonOf<StatusReport>(await runCli(['status', '-c', config, '--json']));
      expect(report.runs.sync).toMatchObject({
        result: 'partial',
        failures: [{ repository: 'stable/app-3', code: 'NETWORK' }],
        facts: { repositories: summary.repositories },
      });
      expect(report.generation).toMatchObject({
        id: summary.generation,
        modules: ['containers'],
        repositories: 3,
        tags: 9,
        blobs: summary.blobs.referenced,
        bytes: {
          unique: summary.bytes.unique,
          referenced: summary.bytes.referenced,
          dedupeRatio: summary.bytes.dedupeRatio,
        },
      });
      expect((report.generation as { bytes: { dedupeRatio: number } }).bytes.dedupeRatio).toBeGreaterThan(1.5);
      expect(report.lock).toMatchObject({ command: 'gc', pid: process.pid });
      expect(report.listener).toMatchObject({ state: 'idle', amqp: { queueDepth: 3 } });

      const text = (await runCli(['status', '-c', config])).stdout;
      expect(text).toMatch(/^ {2}sync: partial, ended \S+ \(.* ago\) after /m);
      expect(text).toMatch(/^ {4}3\/3 repositories synced; \d+ blobs fetched/m);
      expect(text).toMatch(/^ {4}FAILED stable\/app-3 tag 1\.1: NETWORK: connection reset$/m);
      expect(text).toMatch(/^ {2}gc: none recorded$/m);
      expect(text).toMatch(new RegExp(`^current generation: ${summary.generation}, created `, 'm'));
      expect(text).toMatch(/^ {2}3 repositories, 9 tags, \d+ blobs$/m);
      expect(text).toMatch(/dedupe \d+(\.\d+)?x\)$/m);
      expect(text).toMatch(new RegExp(`^lock: held by gc \\(pid ${process.pid} on `, 'm'));
      expect(text).toMatch(/^ {2}amqp queue blobmirror-master: connected, depth 3, 0 unacked$/m);
      expect(text).toMatch(/^ {2}last trigger: ok in 734 ms from trigger to published/m);
    } finally {
      await lock.release();
    }
  });
});
