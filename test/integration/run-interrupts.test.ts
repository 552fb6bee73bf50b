// Issue 14 (part A), signals: a run stopped by SIGTERM or SIGINT wherever it is (listing, inside
// a blob download, publishing, waiting for the lock) exits 143/130, reports interrupted on every
// channel, releases the lock and leaves a tree the next run resumes to a consistent end.
import { existsSync } from 'node:fs';
import { readdir, readlink, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { acquireLock } from '../../src/store/lock.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { readIndex, repositoryFiles } from '../helpers/published.js';
import { tagMany } from '../helpers/push.js';
import { firstWriteUnder, metric, signalledWhen, startCli, status } from '../helpers/run-ends.js';
import { useTestWorld } from '../helpers/test-world.js';
import { sha256File, tempFiles } from '../helpers/tree-check.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** The largest partial download's size: a small blob's partial is renamed away once complete. */
async function largestPartial(root: string): Promise<number> {
  const dir = path.join(root, 'state/partial');
  const files = await readdir(dir).catch(() => [] as string[]);
  const sizes = await Promise.all(
    files.map((f) =>
      stat(path.join(dir, f)).then(
        (s) => s.size,
        () => 0,
      ),
    ),
  );
  return Math.max(0, ...sizes);
}

describe('run interrupts', () => {
  const world = useTestWorld({
    name: 'run-interrupts',
    proxySeed: 'run-interrupts',
    spec: fixtureSpec({
      seed: 'run-interrupts',
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 2 * MiB,
      repoBytes: 256 * KiB,
      tagBytes: 64 * KiB,
    }),
  });

  /** After an interrupted run: no lock, `status` shows it, the next sync completes and verify --full is clean. */
  async function expectResumable(file: string, root: string, signal: 'SIGINT' | 'SIGTERM'): Promise<void> {
    expect(existsSync(path.join(root, 'state/lock'))).toBe(false);
    const report = await status(file);
    expect(report.lock).toBeNull();
    expect(report.runs.sync).toMatchObject({ result: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(report.runs.sync && 'error' in report.runs.sync && report.runs.sync.error?.message).toContain(signal);
    world.proxy.setRules([]);
    const next = await runCli(['sync', '-c', file, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(jsonOf(next)).toMatchObject({ result: 'ok', published: true, repositories: { failed: 0 } });
    const verify = await runCli(['verify', '-c', file, '--full', '--json']);
    expect(verify.code, verify.stdout).toBe(0);
    expect(jsonOf(verify)).toMatchObject({ problems: [], left: 0 });
    expect((await status(file)).runs.sync).toMatchObject({ result: 'ok' });
  }

  it('SIGTERM while listing: exit 143, interrupted on every channel, the lock released; the next sync completes', async () => {
    const { file, root } = await world.writeConfig('sigterm-listing', { registryUrl: world.proxy.url });
    const metrics = path.join(root, '..', 'sync.prom');
    world.proxy.reset();
    world.proxy.setRules([
      { method: 'GET', path: /\/tags\/list/, fault: { kind: 'stall', ms: 60_000, afterBytes: -1 } },
    ]);
    const result = await signalledWhen(
      ['sync', '-c', file, '--json', '--metrics-file', metrics],
      () => world.proxy.requests.some((r) => r.path.includes('/tags/list')),
      'SIGTERM',
    );
    expect(result.code, result.stderr).toBe(143);
    expect(jsonOf(result)).toMatchObject({ result: 'interrupted', error: { code: 'INTERRUPTED' } });
    expect(result.stderr).toMatch(/^blobmirror: error INTERRUPTED: SIGTERM received/m);
    expect(await metric(metrics, 'blobmirror_last_run_success', 'sync')).toBe(0);
    await expectResumable(file, root, 'SIGTERM');
  });

  it('SIGTERM while a blob streams: the partial stays, the next sync resumes it with Range', async () => {
    const { file, root } = await world.writeConfig('sigterm-blob', { registryUrl: world.proxy.url });
    world.proxy.reset();
    // Blobs above 32 KiB send that much, then nothing: the sync is inside a download.
    world.proxy.setRules([
      { method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'stall', ms: 60_000, afterBytes: 32 * KiB } },
    ]);
    const result = await signalledWhen(
      ['sync', '-c', file, '--json'],
      // A stalled blob's first 32 KiB are on disk (a small blob's partial would be renamed away).
      async () => (await largestPartial(root)) >= 32 * KiB,
      'SIGTERM',
    );
    expect(result.code, result.stderr).toBe(143);
    expect(jsonOf(result)).toMatchObject({ result: 'interrupted' });
    expect(await largestPartial(root)).toBeGreaterThanOrEqual(32 * KiB);
    world.proxy.reset();
    await expectResumable(file, root, 'SIGTERM');
    expect(world.proxy.requests.some((r) => r.path.includes('/blobs/') && r.headers.range)).toBe(true);
  });

  it('SIGINT: exit 130, recorded as interrupted', async () => {
    const { file, root } = await world.writeConfig('sigint', { registryUrl: world.proxy.url });
    world.proxy.reset();
    world.proxy.setRules([
      { method: 'GET', path: /\/tags\/list/, fault: { kind: 'stall', ms: 60_000, afterBytes: -1 } },
    ]);
    const result = await signalledWhen(
      ['sync', '-c', file, '-q'],
      () => world.proxy.requests.some((r) => r.path.includes('/tags/list')),
      'SIGINT',
    );
    expect(result.code, result.stderr).toBe(130);
    await expectResumable(file, root, 'SIGINT');
  });

  it('SIGTERM while gc and verify wait for the lock: 143 at once, recorded interrupted, the holder untouched', async () => {
    const { file, root } = await world.writeConfig('lifecycle-signal', { include: ['stable/app-1'] });
    const synced = await runCli(['sync', '-c', file]);
    expect(synced.code, synced.stderr).toBe(0);
    const lockFile = path.join(root, 'state/lock');
    const lock = await acquireLock(lockFile, { command: 'sync' });
    try {
      for (const command of ['gc', 'verify'] as const) {
        // The waiter's candidate lock file (lock.<pid>) exists while it waits.
        const result = await signalledWhen(
          [command, '-c', file, '--wait-lock', '600', '--json'],
          (pid) => existsSync(`${lockFile}.${pid}`),
          'SIGTERM',
        );
        expect(result.code, result.stderr).toBe(143);
        expect(jsonOf(result)).toMatchObject({ command, result: 'interrupted', error: { code: 'INTERRUPTED' } });
        expect((await status(file)).runs[command]).toMatchObject({ result: 'interrupted' });
      }
      expect((await status(file)).lock).toMatchObject({ pid: process.pid, command: 'sync' });
    } finally {
      await lock.release();
    }
  });

  it('SIGTERM while publishing: exit 143, the new generation whole (a publish under way completes), the next sync has nothing to publish', async () => {
    const { file, root } = await world.writeConfig('sigterm-publish', { include: ['stable/**', 'many/**'] });
    const first = await runCli(['sync', '-c', file]);
    expect(first.code, first.stderr).toBe(0);
    const metadata = path.join(root, 'metadata');
    const before = await readIndex(metadata);
    const currentBefore = await readlink(path.join(metadata, 'current'));
    const filesBefore = new Set(await repositoryFiles(metadata));
    // 300 new repositories naming one image: the next sync writes 300 repository files (each
    // fsynced) before its index, so publishing lasts long enough to stop the CLI inside it.
    const NEW = 300;
    const limit = pLimit(8);
    await Promise.all(
      Array.from({ length: NEW }, (_, i) =>
        limit(() =>
          tagMany(world.registry, { repository: 'stable/app-1', reference: '1.0' }, `many/r${i}`, ['1.0'], 1),
        ),
      ),
    );

    // Only publishing writes under metadata/repositories/: its first write there is the condition.
    const watcher = await firstWriteUnder(path.join(metadata, 'repositories/sha256'));
    const metrics = path.join(root, '..', 'publish.prom');
    const cli = startCli(['sync', '-c', file, '--json', '--metrics-file', metrics]);
    let written: string;
    try {
      written = await Promise.race([
        watcher.written,
        cli.ended.then((r) => Promise.reject(new Error(`sync ended (${r.code}) before publishing: ${r.stderr}`))),
      ]);
    } finally {
      watcher.close();
    }
    // Stopped (SIGSTOP cannot be caught) where it is, the state on disk is the one the signal meets.
    cli.child.kill('SIGSTOP');
    const newFiles = (await repositoryFiles(metadata)).filter((f) => !filesBefore.has(f) && f.endsWith('.json'));
    console.log(`stopped with ${newFiles.length} of ${NEW} repository files written (first: ${written})`);
    expect(await readlink(path.join(metadata, 'current'))).toBe(currentBefore);
    expect(newFiles.length).toBeLessThan(NEW);
    cli.child.kill('SIGTERM');
    cli.child.kill('SIGCONT');
    const result = await cli.ended;

    expect(result.code, result.stderr).toBe(143);
    const json = jsonOf(result);
    expect(json).toMatchObject({ result: 'interrupted', error: { code: 'INTERRUPTED' }, published: true });
    expect(await metric(metrics, 'blobmirror_last_run_success', 'sync')).toBe(0);
    // Never a partial generation: `current` is the new one, and every file its index names is there, whole.
    const after = await readIndex(metadata);
    expect(after.generation).toBe(json.generation);
    expect(after.generation).not.toBe(before.generation);
    expect(Object.keys(after.repositories)).toHaveLength(Object.keys(before.repositories).length + NEW);
    for (const [name, ref] of Object.entries(after.repositories))
      expect(`sha256:${await sha256File(path.join(metadata, ref.path))}`, name).toBe(ref.digest);
    expect(await tempFiles(root)).toEqual([]);

    expect(existsSync(path.join(root, 'state/lock'))).toBe(false);
    const report = await status(file);
    expect(report.lock).toBeNull();
    expect(report.runs.sync).toMatchObject({ result: 'interrupted', error: { code: 'INTERRUPTED' } });
    const next = await runCli(['sync', '-c', file, '--json']);
    expect(next.code, next.stderr).toBe(0);
    expect(jsonOf(next)).toMatchObject({ result: 'ok', published: false, generation: after.generation });
    const verify = await runCli(['verify', '-c', file, '--full', '--json']);
    expect(verify.code, verify.stdout).toBe(0);
    expect(jsonOf(verify)).toMatchObject({ problems: [], left: 0 });
  }, 300_000);
});
