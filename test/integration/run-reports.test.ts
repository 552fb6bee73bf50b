// Issue 14 (part A): every run reports how it ended, on every channel asked for (--json, the
// metrics file, the last-run record `status` reads, the exit code), whether it succeeded, failed
// at run level (registry down, lock held) or was stopped by a signal; a stopped run releases the
// lock, and the next run resumes and ends with a consistent tree.
import { execFile, spawn } from 'node:child_process';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile, readdir, readlink, rm, stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import pLimit from 'p-limit';
import { describe, expect, it, vi } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import type { StatusReport } from '../../src/status/collect.js';
import { acquireLock } from '../../src/store/lock.js';
import { CLI_ARGS, jsonOf, runCli, writeTestConfig, type CliResult } from '../helpers/cli.js';
import { startListener } from '../helpers/listen.js';
import { readIndex, repositoryFiles } from '../helpers/published.js';
import { tagMany } from '../helpers/push.js';
import { useTestWorld } from '../helpers/test-world.js';
import { sha256File, tempFiles } from '../helpers/tree-check.js';

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;

/** `blobmirror_last_run_success{command="…"}` and friends, as the textfile collector reads them. */
async function metric(file: string, name: string, command: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8');
  const match = new RegExp(`^${name}\\{command="${command}"\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The CLI as a child process, and how it ends. */
function startCli(args: string[]) {
  const child = spawn(process.execPath, [...CLI_ARGS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const ended = new Promise<CliResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code, killedBy) => resolve({ code, signal: killedBy, stdout, stderr }));
  });
  return { child, ended, stderr: () => stderr };
}

/** Start the CLI; once `ready()` holds (waited for, never slept), send `signal`; resolve with how it ended. */
async function signalledWhen(
  args: string[],
  ready: (pid: number) => boolean | Promise<boolean>,
  signal: NodeJS.Signals,
): Promise<CliResult> {
  const { child, ended, stderr } = startCli(args);
  try {
    await vi.waitFor(async () => expect(await ready(child.pid!)).toBe(true), { timeout: 60_000, interval: 10 });
  } catch (error) {
    child.kill('SIGKILL');
    throw new Error(`${String(error)}; stderr: ${stderr()}`);
  }
  child.kill(signal);
  return ended;
}

/**
 * Resolves once a name appears in `dir` or in one of its subdirectories as they are now (a new
 * subdirectory is a name in `dir`): inotify, so the CLI is stopped within moments of its first
 * write there, never a poll interval later.
 */
async function firstWriteUnder(dir: string): Promise<{ written: Promise<string>; close(): void }> {
  const subdirs = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory());
  const watchers: FSWatcher[] = [];
  const written = new Promise<string>((resolve) => {
    for (const watched of [dir, ...subdirs.map((e) => path.join(dir, e.name))])
      watchers.push(watch(watched, (_event, name) => resolve(path.join(watched, String(name)))));
  });
  return { written, close: () => watchers.forEach((w) => w.close()) };
}

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

const status = async (config: string) => jsonOf<StatusReport>(await runCli(['status', '-c', config, '--json']));

describe('run reports', () => {
  const world = useTestWorld({
    name: 'run-reports',
    proxySeed: 'run-reports',
    spec: fixtureSpec({
      seed: 'run-reports',
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 2 * MiB,
      repoBytes: 256 * KiB,
      tagBytes: 64 * KiB,
    }),
  });

  it('registry down: --json says failed naming the host and source.url, metrics 0, recorded, status shows it', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const { file } = await writeTestConfig(
      { registryUrl: `http://127.0.0.1:${port}`, include: ['stable/**'], extraSource: { retries: 0 } },
      path.join(world.work, 'down'),
    );
    const metrics = path.join(world.work, 'down/blobmirror-sync.prom');
    // A dry run reports on stdout only: it changes nothing, so no record and no metrics.
    const dry = await runCli(['sync', '-c', file, '--dry-run', '--json', '--metrics-file', metrics]);
    expect(dry.code, dry.stderr).toBe(1);
    expect(jsonOf(dry)).toMatchObject({ result: 'failed', error: { code: 'NETWORK' } });
    expect(existsSync(metrics)).toBe(false);
    expect((await status(file)).runs.sync).toBeNull();

    const result = await runCli(['sync', '-c', file, '--json', '--metrics-file', metrics]);
    expect(result.code, result.stderr).toBe(1);
    const json = jsonOf(result);
    expect(json).toMatchObject({ command: 'sync', result: 'failed', error: { code: 'NETWORK' } });
    expect(json.error.message).toContain(`127.0.0.1:${port} (source.url)`);
    expect(await metric(metrics, 'blobmirror_last_run_success', 'sync')).toBe(0);
    expect(await metric(metrics, 'blobmirror_last_run_timestamp_seconds', 'sync')).toBeGreaterThan(0);
    expect(await metric(metrics, 'blobmirror_run_duration_seconds', 'sync')).toBeGreaterThanOrEqual(0);

    const report = await status(file);
    expect(report.runs.sync).toMatchObject({ result: 'failed', error: json.error });
    const text = (await runCli(['status', '-c', file])).stdout;
    expect(text).toMatch(/^ {2}sync: failed, ended /m);
    expect(text).toContain(`    error NETWORK: ${json.error.message}`);
  });

  it('a config that cannot be loaded: --json and the metrics file say failed, exit 2', async () => {
    const metrics = path.join(world.work, 'no-config.prom');
    const result = await runCli([
      'sync',
      '-c',
      path.join(world.work, 'missing.yaml'),
      '--json',
      '--metrics-file',
      metrics,
    ]);
    expect(result.code, result.stderr).toBe(2);
    expect(jsonOf(result)).toMatchObject({ result: 'failed', error: { code: 'CONFIG_INVALID' } });
    expect(await metric(metrics, 'blobmirror_last_run_success', 'sync')).toBe(0);
  });

  it('lock held: failed with LOCKED, exit 3, recorded', async () => {
    const { file, root } = await world.writeConfig('locked');
    const lock = await acquireLock(path.join(root, 'state/lock'), { command: 'gc' });
    try {
      const result = await runCli(['sync', '-c', file, '--json']);
      expect(result.code, result.stderr).toBe(3);
      expect(jsonOf(result)).toMatchObject({ result: 'failed', error: { code: 'LOCKED' } });
      const report = await status(file);
      expect(report.runs.sync).toMatchObject({ result: 'failed', error: { code: 'LOCKED' } });
      expect(report.lock).toMatchObject({ command: 'gc', pid: process.pid });
    } finally {
      await lock.release();
    }
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

  it('gc, verify and check-mirror record how they ended too: status and the metrics file say so', async () => {
    const { file, root } = await world.writeConfig('lifecycle');
    const synced = await runCli(['sync', '-c', file]);
    expect(synced.code, synced.stderr).toBe(0);
    const metrics = (command: string) => path.join(root, '..', `${command}.prom`);

    // gc refused by a held lock: failed, LOCKED, exit 3, on every channel.
    const lock = await acquireLock(path.join(root, 'state/lock'), { command: 'sync' });
    try {
      const gc = await runCli(['gc', '-c', file, '--json', '--metrics-file', metrics('gc')]);
      expect(gc.code, gc.stderr).toBe(3);
      expect(jsonOf(gc)).toMatchObject({ command: 'gc', result: 'failed', error: { code: 'LOCKED' } });
      expect(await metric(metrics('gc'), 'blobmirror_last_run_success', 'gc')).toBe(0);
    } finally {
      await lock.release();
    }
    expect((await status(file)).runs.gc).toMatchObject({ result: 'failed', error: { code: 'LOCKED' } });

    // verify that finds a store object gone: partial, exit 1, problems left in the metrics.
    const objects = path.join(root, 'state/objects/sha256');
    const shard = (await readdir(objects))[0]!;
    const [victim] = await readdir(path.join(objects, shard));
    await rm(path.join(objects, shard, victim!));
    const verify = await runCli(['verify', '-c', file, '--json', '--metrics-file', metrics('verify')]);
    expect(verify.code, verify.stderr).toBe(1);
    expect(jsonOf(verify)).toMatchObject({ result: 'partial', error: null, left: 1 });
    expect(await metric(metrics('verify'), 'blobmirror_last_run_success', 'verify')).toBe(0);
    expect(await metric(metrics('verify'), 'blobmirror_verify_problems_left', 'verify')).toBe(1);

    // check-mirror of the master's own tree (a directory mirror): ok.
    const check = await runCli(['check-mirror', '-c', file, path.join(root, 'tree'), '--json']);
    expect(check.code, check.stderr).toBe(0);
    expect(jsonOf(check)).toMatchObject({ result: 'ok', upToDate: true });

    const report = await status(file);
    expect(report.runs.verify).toMatchObject({ result: 'partial', error: null, facts: { left: 1 } });
    expect(report.runs['check-mirror']).toMatchObject({ result: 'ok', facts: { upToDate: true } });
    const text = (await runCli(['status', '-c', file])).stdout;
    expect(text).toMatch(/^ {2}gc: failed, ended .*\n {4}error LOCKED: tree is locked by sync/m);
    expect(text).toMatch(/^ {2}verify: partial, ended .*\n {4}1 problem left \(1 problem found, 0 repaired/m);
    expect(text).toMatch(/^ {2}check-mirror: ok, ended .*\n {4}\S+\/tree: up to date with generation \d+$/m);

    // Two mirrors in one run, one of them not answering: one record covering both.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const down = `http://127.0.0.1:${(closed.address() as AddressInfo).port}/containers`;
    await new Promise((resolve) => closed.close(resolve));
    const both = await runCli(['check-mirror', '-c', file, path.join(root, 'tree'), down, '--json', '--timeout', '2']);
    expect(both.code, both.stderr).toBe(1);
    const bothJson = jsonOf<{
      generation: string;
      mirrors: Array<{ mirror: string; generation: string; upToDate: boolean; unreachable?: object }>;
    }>(both);
    const generation = jsonOf<{ generation: string }>(check).generation;
    expect(bothJson).toMatchObject({ result: 'partial', error: null, generation });
    expect(bothJson.mirrors.map((m) => m.generation)).toEqual([generation, generation]);
    expect(bothJson.mirrors.map((m) => [m.mirror, m.upToDate, m.unreachable !== undefined])).toEqual([
      [path.join(root, 'tree'), true, false],
      [down, false, true],
    ]);
    const record = (await status(file)).runs['check-mirror'];
    expect(record).toMatchObject({
      result: 'partial',
      detail: expect.stringMatching(
        new RegExp(
          `^2 mirrors with generation ${generation}: 1 up to date, 0 behind, 1 unreachable; ${down}: unreachable: .*connection refused`,
        ),
      ),
      facts: {
        generation,
        upToDate: false,
        mirrors: [
          { mirror: path.join(root, 'tree'), result: 'ok', unreachable: null },
          { mirror: down, result: 'failed', unreachable: expect.stringContaining('connection refused') },
        ],
      },
    });
    expect((await runCli(['status', '-c', file])).stdout).toMatch(
      /^ {2}check-mirror: partial, ended .*\n {4}2 mirrors with generation \d+: 1 up to date, 0 behind, 1 unreachable; /m,
    );

    // --repair fixes it and the record says so.
    const repair = await runCli(['verify', '-c', file, '--repair', '--json']);
    expect(repair.code, repair.stderr).toBe(0);
    expect((await status(file)).runs.verify).toMatchObject({ result: 'ok', facts: { left: 0, repaired: 1 } });
  });

  it('listen records how it ended: a start that fails, and a stop on SIGTERM', async () => {
    const plain = await world.writeConfig('listen-none');
    const refused = await runCli(['listen', '-c', plain.file, '--json']);
    expect(refused.code, refused.stderr).toBe(2);
    expect(jsonOf(refused)).toMatchObject({ command: 'listen', result: 'failed', error: { code: 'USAGE' } });
    expect((await status(plain.file)).runs.listen).toMatchObject({ result: 'failed', error: { code: 'USAGE' } });

    const { file } = await world.writeConfig('listen', {
      extra: { listen: { webhook: { port: 0, secretEnv: 'RUN_REPORTS_SECRET' } } },
    });
    const listener = await startListener(file, { RUN_REPORTS_SECRET: 'secret' });
    expect(await listener.stop()).toBe(0);
    expect((await status(file)).runs.listen).toMatchObject({ result: 'ok', error: null, detail: 'stopped by SIGTERM' });
  });

  it('a read-only storage root: failed naming EROFS and the path; metrics 0; the record it cannot write is a warning', async (ctx) => {
    const { file, root } = await world.writeConfig('read-only', { include: ['stable/app-1'] });
    await mkdir(root, { recursive: true });
    const mounted = await run('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', root]).then(
      () => true,
      () => false,
    );
    if (!mounted) ctx.skip('cannot mount a tmpfs here (not root?)');
    try {
      const first = await runCli(['sync', '-c', file]);
      expect(first.code, first.stderr).toBe(0);
      await run('mount', ['-o', 'remount,ro', root]);
      const metrics = path.join(world.work, 'read-only.prom');
      const result = await runCli(['sync', '-c', file, '--json', '--metrics-file', metrics, '--log-format', 'text']);
      expect(result.code, result.stderr).toBe(1);
      const json = jsonOf(result);
      expect(json).toMatchObject({ result: 'failed', error: { code: 'STORE_ERROR' } });
      expect(json.error.message).toMatch(new RegExp(`^read-only file system while writing .*${root}/state/`));
      expect(await metric(metrics, 'blobmirror_last_run_success', 'sync')).toBe(0);
      expect(result.stderr).toContain('cannot write the sync run record for blobmirror status');
      // status still shows the run before, which it could record.
      expect((await status(file)).runs.sync).toMatchObject({ result: 'ok' });
    } finally {
      await run('umount', [root]);
    }
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
