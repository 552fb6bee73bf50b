// Issue 4: `check-mirror` against a real nginx serving a copy of a real sync's tree. A copy made
// without two repositories is named out of date for exactly those two (HTTP HEAD, exit 1); the
// complete copy is up to date (exit 0); a truncated file in a local copy is a size mismatch; a
// mirror whose nginx is down is one line naming it and the error, not one error per file; a sync
// publishing while one of several mirrors is checked changes nothing the run compares with.
import { execFile } from 'node:child_process';
import { mkdir, readFile, truncate } from 'node:fs/promises';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { MirrorCheckReport } from '../../src/check-mirror/run.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { parseFileList, writeFileLists } from '../../src/publish/file-list.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { readIndex } from '../helpers/published.js';
import { tagMany } from '../helpers/push.js';
import { startCli } from '../helpers/run-ends.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { useTestWorld } from '../helpers/test-world.js';

const run = promisify(execFile);
const KiB = 1024;

describe('check-mirror', () => {
  const world = useTestWorld({
    name: 'check-mirror',
    spec: fixtureSpec({
      seed: 'check-mirror',
      repos: 4,
      tagsPerRepo: 1,
      baseBytes: 64 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: 4 * KiB,
    }),
    synced: { dir: 'master' },
  });
  let nginx: NginxHandle;
  let config: string;
  let tree: string;
  /** nginx serves `served`; the mirror's copy of the tree is at /pub/containers. */
  let served: string;
  let copy: string;

  beforeAll(async () => {
    config = world.config.file;
    tree = path.join(world.config.root, 'tree');
    const index = JSON.parse(await readFile(path.join(world.config.root, 'metadata/current/index.json'), 'utf8')) as {
      modules?: Record<string, { root: string }>;
    };
    await writeFileLists(tree, index.modules);
    served = path.join(world.work, 'www');
    copy = path.join(served, 'pub/containers');
    await mkdir(copy, { recursive: true });
    nginx = await startNginx(served);
  });

  afterAll(async () => {
    await nginx?.stop();
  });

  const check = async (mirror: string) => {
    const result = await runCli([
      'check-mirror',
      '-c',
      config,
      mirror,
      '--json',
      '--concurrency',
      '4',
      '--timeout',
      '5',
    ]);
    return { code: result.code, report: jsonOf<MirrorCheckReport>(result) };
  };

  it('names exactly the repositories a partial copy lacks, and passes a complete one', async () => {
    await run('rsync', ['-aH', '--exclude=/stable/app-2', '--exclude=/stable/app-4', `${tree}/`, `${copy}/`]);
    const partial = await check(`${nginx.url}/pub/containers`);
    expect(partial.code).toBe(1);
    expect(partial.report.upToDate).toBe(false);
    expect(partial.report.modules).toEqual([
      expect.objectContaining({ module: 'containers', upToDate: false, outdated: ['stable/app-2', 'stable/app-4'] }),
    ]);
    const app2 = partial.report.repositories.find((r) => r.repository === 'stable/app-2')!;
    expect(app2).toMatchObject({ upToDate: false, wrongSize: 0, errors: 0 });
    expect(app2.missing).toBe(app2.files);
    expect(app2.firstProblems[0]).toMatchObject({
      problem: 'missing',
      path: expect.stringMatching(/^stable\/app-2\/_blobs\/sha256\/[0-9a-f]{64}$/),
    });
    expect((await nginx.requests()).every((r) => r.method === 'HEAD')).toBe(true);

    await run('rsync', ['-aH', `${tree}/`, `${copy}/`]);
    const complete = await check(`${nginx.url}/pub/containers`);
    expect(complete.code).toBe(0);
    expect(complete.report.repositories.map((r) => [r.repository, r.upToDate])).toEqual([
      ['stable/app-1', true],
      ['stable/app-2', true],
      ['stable/app-3', true],
      ['stable/app-4', true],
    ]);

    // A local copy (stat) with one file cut short: that repository is out of date by size.
    const local = path.join(world.work, 'local');
    await run('rsync', ['-aH', `${tree}/`, `${local}/`]);
    const victim = complete.report.repositories.find((r) => r.repository === 'stable/app-3')!;
    const list = parseFileList(await readFile(path.join(tree, 'fullfiletimelist-containers'), 'utf8'));
    const file = list.files.find((f) => f.type === 'f' && f.path.startsWith('stable/app-3/_blobs/'))!.path;
    await truncate(path.join(local, file), 10);
    const cut = await check(local);
    expect(cut.code).toBe(1);
    expect(cut.report.modules[0]!.outdated).toEqual([victim.repository]);
    expect(cut.report.repositories.find((r) => r.repository === 'stable/app-3')!.firstProblems).toEqual([
      { path: file, problem: 'size', detail: expect.stringMatching(/^10 bytes, the master has \d+$/) },
    ]);
  });

  it('reports a mirror whose nginx is down in one line, naming it and the error, with the files not checked', async () => {
    const down = await startNginx(served);
    await down.stop();
    const files = parseFileList(await readFile(path.join(tree, 'fullfiletimelist-containers'), 'utf8')).files.filter(
      (f) => f.type.startsWith('f'),
    ).length;
    const mirror = `${down.url}/pub/containers`;
    const text = await runCli(['check-mirror', '-c', config, mirror, '--concurrency', '4']);
    expect(text.code).toBe(1);
    const lines = text.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const [first, done] = lines as [string, string];
    expect(first.startsWith(`${mirror}: UNREACHABLE: HEAD at ${new URL(down.url).host} (`)).toBe(true);
    expect(first).toMatch(
      new RegExp(`: connection refused; ${files} of ${files} files not checked \\(generation \\d+\\)$`),
    );
    expect(done).toMatch(/^done in /);
    expect(text.stdout + text.stderr).not.toContain('ECONNREFUSED');
    const json = await check(mirror);
    expect(json.report.unreachable).toEqual({
      error: expect.stringContaining('connection refused'),
      filesNotChecked: files,
      files,
    });
  });
  it('several mirrors are all compared with the generation current when the run started, whatever sync publishes meanwhile', async () => {
    await run('rsync', ['-aH', '--delete', `${tree}/`, `${copy}/`]);
    const before = (await readIndex(path.join(world.config.root, 'metadata'))).generation;
    // The first mirror: nginx behind a gate that holds every HEAD until the test opens it.
    let open!: () => void;
    const opened = new Promise<void>((resolve) => (open = resolve));
    let held = 0;
    const gate = createServer((req, res) => {
      held++;
      void opened.then(() =>
        request(`${nginx.url}${req.url}`, { method: req.method }, (answer: IncomingMessage) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        }).end(),
      );
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const gated = `http://127.0.0.1:${(gate.address() as AddressInfo).port}/pub/containers`;
    try {
      const cli = startCli(['check-mirror', '-c', config, gated, `${nginx.url}/pub/containers`, '--json']);
      await vi.waitFor(() => expect(held).toBeGreaterThan(0), { timeout: 30_000, interval: 10 });
      // While the first mirror is checked, a new repository is synced and published.
      await tagMany(world.registry, { repository: 'stable/app-1', reference: '1.0' }, 'stable/app-9', ['1.0'], 1);
      const synced = await runCli(['sync', '-c', config, '--json']);
      expect(synced.code, synced.stderr).toBe(0);
      expect(jsonOf(synced)).toMatchObject({ published: true });
      open();
      const result = await cli.ended;
      expect(result.code, result.stderr).toBe(0);
      const report = jsonOf<{ generation: string; mirrors: MirrorCheckReport[] }>(result);
      expect(report.generation).toBe(before);
      expect(report.mirrors.map((m) => [m.generation, m.upToDate])).toEqual([
        [before, true],
        [before, true],
      ]);
      expect(report.mirrors[1]!.repositories.map((r) => r.repository)).not.toContain('stable/app-9');
    } finally {
      open();
      gate.closeAllConnections();
      await new Promise((resolve) => gate.close(resolve));
    }
  });
});
