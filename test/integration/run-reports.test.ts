// Issue 14 (part A): every run reports how it ended, on every channel asked for (--json, the
// metrics file, the last-run record `status` reads, the exit code), whether it succeeded or
// failed at run level (registry down, config, lock held, read-only storage); gc, verify,
// check-mirror and listen record theirs too. Runs stopped by a signal: run-interrupts.test.ts.
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { acquireLock } from '../../src/store/lock.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { startListener } from '../helpers/listen.js';
import { metric, status } from '../helpers/run-ends.js';
import { useTestWorld } from '../helpers/test-world.js';

const run = promisify(execFile);
const KiB = 1024;
const MiB = 1024 * KiB;

describe('run reports', () => {
  const world = useTestWorld({
    name: 'run-reports',
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
});
