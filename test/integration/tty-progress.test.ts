// By hand on a terminal, sync shows a progress bar and human log lines; off a terminal (cron) it
// writes JSON lines and no bar. The terminal is a real pseudo-terminal from util-linux `script`.
// Bytes a killed run left in a partial download count toward the bar; a blob that fails is one
// FAILED line naming every repository and tag that needed it, and those tags are failed, not new.
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { generateImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { CLI_ARGS, runCli } from '../helpers/cli.js';

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const quote = (arg: string) => `'${arg.replaceAll("'", "'\\''")}'`;

describe('sync progress', () => {
  let work: string;
  let config: string;
  let blobs: number;
  let generated: Awaited<ReturnType<typeof generateImages>>;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-tty-'));
    generated = await generateImages(
      fixtureSpec({ repos: 2, tagsPerRepo: 2, baseBytes: 512 * 1024, repoBytes: 64 * 1024, tagBytes: 16 * 1024 }),
      path.join(work, 'layout'),
    );
    blobs = new Set(Object.values(generated.repositories).flatMap((repo) => repo.blobs)).size;
    config = path.join(work, 'config.yaml');
    await writeFile(
      config,
      stringify({
        version: 1,
        source: { type: 'oci-layout', path: 'layout' },
        repositories: { include: ['stable/**'] },
        storage: { root: 'mirror' },
      }),
    );
  });

  // Each test syncs into an empty storage root.
  beforeEach(() => rm(path.join(work, 'mirror'), { recursive: true, force: true }));
  afterAll(() => rm(work, { recursive: true, force: true }));

  it('draws a bar on a terminal that ends at 100% with every blob, and logs for people', async () => {
    const command = [process.execPath, ...CLI_ARGS, 'sync', '-c', config].map(quote).join(' ');
    const run = spawnSync('script', ['-qefc', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, TERM: 'xterm', COLUMNS: '120' },
      timeout: 60_000,
    });
    const screen = run.stdout.replace(ANSI, '');
    expect(run.status, screen).toBe(0);
    expect(screen).toContain(`${blobs} blobs to fetch`);
    expect(screen).toMatch(new RegExp(`100% \\| ${blobs}/${blobs} blobs \\| [\\d.]+ [kMG]?B/[\\d.]+ [kMG]?B \\|`));
    expect(screen).not.toMatch(/^\{"level"/m);
  });

  function onTerminal(args: string[]) {
    const command = [process.execPath, ...CLI_ARGS, ...args].map(quote).join(' ');
    const run = spawnSync('script', ['-qefc', command, '/dev/null'], {
      encoding: 'utf8',
      env: { ...process.env, TERM: 'xterm', COLUMNS: '120' },
      timeout: 60_000,
    });
    return { status: run.status, screen: run.stdout.replace(ANSI, '') };
  }

  it('draws no bar for a dry run, which fetches nothing', () => {
    const run = onTerminal(['sync', '-c', config, '--dry-run']);
    expect(run.status, run.screen).toBe(0);
    expect(run.screen).toContain('dry run: nothing was written');
    expect(run.screen).not.toContain('blobs |');
    expect(run.screen).not.toMatch(/\b0% \|/);
  });

  it('with -q prints nothing on success, on a terminal and off it, and only the error on failure', async () => {
    const quiet = onTerminal(['sync', '-c', config, '-q']);
    expect(quiet.status, quiet.screen).toBe(0);
    expect(quiet.screen.trim()).toBe('');
    await rm(path.join(work, 'mirror'), { recursive: true, force: true });
    const cron = await runCli(['sync', '-c', config, '-q']);
    expect([cron.code, cron.stdout, cron.stderr]).toEqual([0, '', '']);
    const broken = await runCli(['sync', '-c', path.join(work, 'missing.yaml'), '-q']);
    expect(broken.code).toBe(2);
    expect(broken.stdout).toBe('');
    expect(broken.stderr).toMatch(/^blobmirror: error CONFIG_INVALID: cannot read config .*missing\.yaml: ENOENT\n$/);
  });

  it("runs the --metrics-file example of verify's --help as pasted (its directory made a temp one)", async () => {
    await runCli(['sync', '-c', config, '-q']);
    const help = await runCli(['verify', '--help']);
    const example = help.stdout
      .split('\n')
      .map((line) => line.trim())
      .find((line) => line.startsWith('blobmirror ') && line.includes('--metrics-file'))!;
    const textfile = path.join(work, 'textfile');
    const pasted = example
      .replace(/^blobmirror /, `${[process.execPath, ...CLI_ARGS].map(quote).join(' ')} `)
      .replace('/var/lib/node_exporter/textfile', textfile);
    expect(pasted).not.toBe(example);
    const run = spawnSync('sh', ['-c', pasted], { cwd: work, encoding: 'utf8' });
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(path.join(textfile, 'blobmirror-verify.prom'), 'utf8')).toMatch(
      /^blobmirror_last_run_success\{command="verify"\} 1$/m,
    );
  });

  it('writes JSON lines and no bar off a terminal', async () => {
    const result = await runCli(['sync', '-c', config]);
    expect(result.code, result.stderr).toBe(0);
    const logs = result.stderr
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { level: number; msg: string });
    expect(logs.filter((log) => log.msg.startsWith(`${blobs} blobs to fetch (`))).toHaveLength(1);
    expect(result.stderr).not.toContain('blobs |');
  });

  it('counts the bytes of a resumed partial download: the bar still ends at 100%', async () => {
    const dir = path.join(work, 'layout/blobs/sha256');
    const largest = [...new Set(Object.values(generated.repositories).flatMap((repo) => repo.blobs))]
      .map((digest) => ({ hex: digest.slice('sha256:'.length), size: statSync(path.join(dir, digest.slice(7))).size }))
      .sort((a, b) => b.size - a.size)[0]!;
    // What a run killed half way through the largest blob leaves behind.
    const partial = path.join(work, 'mirror/state/partial');
    await mkdir(partial, { recursive: true });
    const bytes = await readFile(path.join(dir, largest.hex));
    await writeFile(path.join(partial, `sha256-${largest.hex}`), bytes.subarray(0, Math.floor(bytes.length / 2)));
    const run = onTerminal(['sync', '-c', config]);
    expect(run.status, run.screen).toBe(0);
    expect(run.screen).toContain('resumed after');
    const last = run.screen
      .split(/[\r\n]/)
      .filter((line) => line.includes(' blobs | '))
      .at(-1)!;
    expect(last, run.screen).toMatch(new RegExp(`100% \\| ${blobs}/${blobs} blobs \\| ([\\d.]+ [kMG]?B)/\\1 \\|`));
  });

  it('names every repository and tag a failed shared blob belongs to, and counts those tags failed, not new', async () => {
    const broken = path.join(work, 'broken');
    await rm(broken, { recursive: true, force: true });
    await cp(path.join(work, 'layout'), path.join(broken, 'layout'), { recursive: true });
    const shared = Object.values(generated.repositories)
      .map((repo) => new Set(repo.blobs))
      .reduce((a, b) => new Set([...a].filter((digest) => b.has(digest))));
    const victim = [...shared][0]!;
    const file = path.join(broken, 'layout/blobs/sha256', victim.slice('sha256:'.length));
    const bytes = await readFile(file);
    bytes[100] = bytes[100]! ^ 0xff;
    await writeFile(file, bytes);
    await writeFile(path.join(broken, 'config.yaml'), await readFile(config));
    const run = onTerminal(['sync', '-c', path.join(broken, 'config.yaml')]);
    expect(run.status, run.screen).toBe(1);
    const tags = Object.values(generated.repositories).reduce((n, repo) => n + Object.keys(repo.tags).length, 0);
    expect(run.screen).toContain(
      `0/2 repositories synced, ${tags} tags (0 new, 0 changed, 0 unchanged, 0 removed, ${tags} failed)`,
    );
    const failed = run.screen.split(/[\r\n]+/).filter((line) => line.startsWith('FAILED '));
    expect(failed, run.screen).toHaveLength(1);
    expect(failed[0]).toContain(`FAILED digest ${victim} of `);
    expect(failed[0]).toContain(': DIGEST_MISMATCH: ');
    const named = [...failed[0]!.matchAll(/(stable\/app-\d) tags? (.+?)(?= and stable\/|: DIGEST_MISMATCH)/g)].map(
      ([, repo, list]) => [repo, list!.split(', ').sort()],
    );
    expect(named.sort()).toEqual(
      Object.entries(generated.repositories).map(([repo, { tags }]) => [repo, Object.keys(tags).sort()]),
    );
    for (const repo of Object.keys(generated.repositories))
      expect(run.screen).toMatch(new RegExp(`WARN: ${repo}: \\d+ failures in `));
  });
});
