// Issue 15/19: `blobmirror status` shows the mirror checker's freshness table. Two real nginx
// mirrors of a real sync's tree, checked by `blobmirror crawl --once`: A rsynced generation N
// and not N+1 (lag 1, with a lag time), B's nginx is down (failures, then out of rotation).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import type { StatusReport } from '../../src/status/collect.js';
import type { MirrorFreshness } from '../../src/status/mirror-freshness.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { useTestWorld } from '../helpers/test-world.js';

const run = promisify(execFile);
const KiB = 1024;

describe('status: mirror freshness', () => {
  const world = useTestWorld({
    name: 'status-mirrors',
    spec: fixtureSpec({
      seed: 'status-mirrors',
      repos: 1,
      tagsPerRepo: 2,
      baseBytes: 32 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: 4 * KiB,
    }),
    synced: { dir: 'master', config: { tags: { include: ['^1\\.0$'] } } },
  });
  let a: NginxHandle;
  let b: NginxHandle;
  let mirrors: string;

  beforeAll(async () => {
    const tree = path.join(world.config.root, 'tree');
    const copy = path.join(world.work, 'www-a');
    await run('rsync', ['-aH', `${tree}/`, `${copy}/`]);
    a = await startNginx(copy);
    b = await startNginx(copy);
    await b.stop();
    mirrors = await writeMirrorList(world.work, {
      master: 'http://127.0.0.1:9/master',
      mirrors: [
        { url: a.url, weight: 1 },
        { url: b.url, weight: 1 },
      ],
      check: { intervalSeconds: 3600, failuresBeforeOut: 2, timeoutSeconds: 2 },
    });
  });
  afterAll(() => a?.stop());

  const crawl = () =>
    runCli(['crawl', '--once', '--metadata', path.join(world.config.root, 'metadata'), '--mirrors', mirrors]);

  it('lists each mirror and module with verified generation, lag, last check, failures and rotation', async () => {
    const none = jsonOf<StatusReport>(await runCli(['status', '-c', world.config.file, '--json']));
    expect(none.mirrors).toBeNull();
    expect((await runCli(['status', '-c', world.config.file])).stdout).toContain(
      'mirrors: no mirror state (run blobmirror crawl to check mirrors)\n',
    );

    await crawl();
    // Generation N+1: every tag, with blobs N did not have; A does not rsync it.
    const all = await world.writeConfig('master');
    expect(all.file).toBe(world.config.file);
    expect((await runCli(['sync', '-c', all.file])).code).toBe(0);
    await crawl();

    const report = jsonOf<StatusReport>(await runCli(['status', '-c', world.config.file, '--json']));
    const freshness = report.mirrors as MirrorFreshness;
    const gen = (report.generation as { id: string }).id;
    expect(freshness.currentGeneration).toBe(gen);
    const previous = String(Number(gen) - 1).padStart(10, '0');
    expect(freshness.rows).toEqual(
      [
        {
          mirror: a.url,
          module: 'containers',
          verifiedGeneration: previous,
          lagGenerations: 1,
          lagSeconds: expect.any(Number),
          lastCheckAt: expect.any(String),
          consecutiveFailures: 0,
          inRotation: true,
          lastError: null,
        },
        {
          mirror: b.url,
          module: 'containers',
          verifiedGeneration: null,
          lagGenerations: null,
          lagSeconds: expect.any(Number),
          lastCheckAt: expect.any(String),
          consecutiveFailures: 2,
          inRotation: false,
          lastError: `GET /fullfiletimelist-containers at ${new URL(b.url).host} (mirror list mirrors[].url): connection refused`,
        },
      ].sort((x, y) => (x.mirror < y.mirror ? -1 : 1)),
    );

    const text = (await runCli(['status', '-c', world.config.file])).stdout;
    const lines = text.split('\n');
    const at = lines.findIndex((line) => line.startsWith('mirrors: checked by pid '));
    expect(lines[at]).toContain(`; master at ${gen}`);
    expect(lines[at + 1]).toMatch(/^ {2}mirror +module +verified +lag +lag time +last check +failures +rotation$/);
    const row = (url: string) => lines.slice(at + 2, at + 4).find((line) => line.startsWith(`  ${url} `))!;
    expect(row(a.url)).toMatch(
      new RegExp(`^ {2}\\S+ +containers +${previous} +1 +[\\d.]+ m?s +[\\d.]+ m?s ago +0 +in$`),
    );
    expect(row(b.url)).toMatch(/^ {2}\S+ +containers +never +- +[\d.]+ m?s +[\d.]+ m?s ago +2 +OUT$/);
    expect(text).toContain(
      `\n  last error ${b.url} containers: GET /fullfiletimelist-containers at ${new URL(b.url).host} (mirror list mirrors[].url): connection refused\n`,
    );
    expect(text).not.toContain('ECONNREFUSED');
  });

  it('crawl -c CONFIG records each round for status (partial while a mirror fails, naming it); --metadata alone records nothing', async () => {
    // The rounds of the test before ran with --metadata: no state dir, no record.
    expect(jsonOf<StatusReport>(await runCli(['status', '-c', world.config.file, '--json'])).runs.crawl).toBeNull();
    const round = await runCli(['crawl', '--once', '-c', world.config.file, '--mirrors', mirrors]);
    expect(round.code, round.stderr).toBe(1);
    const report = jsonOf<StatusReport>(await runCli(['status', '-c', world.config.file, '--json']));
    const gen = (report.generation as { id: string }).id;
    const refused = `GET /fullfiletimelist-containers at ${new URL(b.url).host} (mirror list mirrors[].url): connection refused`;
    expect(report.runs.crawl).toMatchObject({
      command: 'crawl',
      result: 'partial',
      error: null,
      detail: `2 mirrors checked against generation ${gen}: 0 verified at it, 1 failing (${b.url}: ${refused})`,
      facts: { generation: gen, mirrors: 2, current: 0, failing: [b.url] },
    });
    const text = (await runCli(['status', '-c', world.config.file])).stdout;
    expect(text).toMatch(/^ {2}crawl: partial, ended \S+ \([\d.]+ m?s ago\) after [\d.]+ m?s$/m);

    // $BLOBMIRROR_CONFIG is the config, as for every command: the round is recorded again.
    const record = path.join(world.config.root, 'state/last-run/crawl.json');
    await rm(record);
    const byEnv = await runCli(['crawl', '--once', '--mirrors', mirrors], {
      env: { BLOBMIRROR_CONFIG: world.config.file },
    });
    expect(byEnv.code, byEnv.stderr).toBe(1);
    expect(existsSync(record)).toBe(true);
  });
});
