// The README, followed as a new operator would on a fresh machine: a fresh clone, the README's
// install command (into a temporary npm prefix), `blobmirror` found on PATH by name, then the
// production section's config (its registry URL, user and paths pointed at a local
// docker-registry with htpasswd and a temp dir) through the README's commands, and `status`.
// Each output is checked against what the README says it shows.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import { PACKAGE_ROOT } from '../helpers/cli.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';

const run = promisify(execFile);
const KiB = 1024;

/** The first fenced block of `lang` after the heading `## <heading>`. */
function block(readme: string, heading: string, lang: string): string {
  const section = readme.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  const match = section && new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section);
  if (!match) throw new Error(`README: no ${lang} block under "## ${heading}"`);
  return match[1]!;
}

/** `text` with `from` replaced by `to`, failing when the README no longer says `from`. */
function substitute(text: string, from: string | RegExp, to: string): string {
  const replaced = text.replace(from, to);
  if (replaced === text) throw new Error(`README's production config no longer has ${String(from)}`);
  return replaced;
}

describe('the README, followed on a fresh clone', () => {
  let work: string;
  let clone: string;
  let prefix: string;
  let registry: RegistryHandle;
  let readme: string;
  let env: NodeJS.ProcessEnv;
  let config: string;
  let root: string;

  const sh = async (command: string, cwd = work) => {
    try {
      const { stdout, stderr } = await run('sh', ['-c', command], { cwd, env, maxBuffer: 64 * 1024 * 1024 });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code?: number; stdout?: string; stderr?: string };
      return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
    }
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-readme-'));
    clone = path.join(work, 'blobmirror');
    prefix = path.join(work, 'prefix');
    // Only the npm prefix's bin/ is added: a `blobmirror` found must be the one just installed.
    env = {
      ...process.env,
      npm_config_prefix: prefix,
      npm_config_prefer_offline: 'true',
      PATH: `${path.join(prefix, 'bin')}:${process.env.PATH}`,
    };
    registry = await startRegistry({ auth: 'htpasswd' });
    // Repositories and tags the production example's filters have something to say about.
    const spec = fixtureSpec({
      seed: 'readme',
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 64 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: 4 * KiB,
    });
    const names = ['fedora/toolbox', 'fedora/fedora', 'fedora/toolbox-candidate'];
    spec.repositories.forEach((repo, i) => (repo.name = names[i]!));
    spec.repositories[0]!.tags.push({ tag: '2.0-rc1', unique: [4 * KiB] });
    await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
  }, 120_000);

  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it("installs from a fresh clone with the README's command, and blobmirror is on PATH", async () => {
    expect((await sh(`git clone --quiet ${PACKAGE_ROOT} ${clone}`)).code).toBe(0);
    const install = block(readme, 'Install', 'sh').trim();
    expect(install.split('\n')).toHaveLength(1);
    const installed = await sh(install, clone);
    expect(installed.code, installed.stderr).toBe(0);
    expect((await sh('command -v blobmirror')).stdout.trim()).toBe(path.join(prefix, 'bin', 'blobmirror'));
    const version = JSON.parse(await readFile(path.join(clone, 'package.json'), 'utf8')).version as string;
    const shown = await sh('blobmirror --version');
    expect([shown.code, shown.stdout]).toEqual([0, `${version}\n`]);
  }, 300_000);

  it("runs the production section's commands on its config, then status", async () => {
    const yaml = block(readme, 'A production mirror', 'yaml');
    const where = /^# (\/\S+\.yaml)\n/.exec(yaml)?.[1];
    expect(where).toBe('/etc/blobmirror/config.yaml');
    root = path.join(work, 'srv-containers');
    const passwordFile = path.join(work, 'registry-password');
    await writeFile(passwordFile, `${registry.auth!.password}\n`, { mode: 0o600 });
    // The local registry speaks plain HTTP, which the config must allow in so many words.
    let text = substitute(
      yaml,
      /^( +)url: https:\/\/registry\.fedoraproject\.org$/m,
      `$1url: ${registry.url}\n$1insecure: true`,
    );
    text = substitute(text, 'username: mirror', `username: ${registry.auth!.username}`);
    text = substitute(text, '/etc/blobmirror/registry-password', passwordFile);
    text = substitute(text, /root: \/srv\/containers\b/, `root: ${root}`);
    config = path.join(work, 'etc', 'config.yaml');
    await mkdir(path.dirname(config), { recursive: true });
    await writeFile(config, text);

    const commands = block(readme, 'A production mirror', 'sh')
      .trim()
      .split('\n')
      .map((line) => line.replaceAll(where!, config));
    expect(commands.map((c) => c.split(' ').slice(0, 2).join(' '))).toEqual([
      'blobmirror check-config',
      'blobmirror sync',
      'blobmirror sync',
    ]);
    const [checkConfig, dryRun, sync] = commands.map((line) => line.replace(/\s+#.*$/, '')) as [string, string, string];

    // "validate, check this machine, show the filters"
    expect(commands[0]).toMatch(/ # validate, check this machine, show the filters$/);
    const checked = await sh(checkConfig);
    expect(checked.code, checked.stdout + checked.stderr).toBe(0);
    expect(checked.stdout.startsWith(`${config}: valid\n`)).toBe(true);
    expect(checked.stdout).toContain('\n  repositories  include fedora/**; exclude fedora/*-candidate\n');
    expect(checked.stdout).toContain('\n  tags          include all; exclude -rc\\d*$; keep the newest 10\n');
    expect(checked.stdout).toMatch(/\nthis machine:\n( {2}ok .*\n)+ready for sync\n$/);

    // "the plan: tags new/changed/removed, bytes to fetch"
    expect(commands[1]).toMatch(/ # the plan: tags new\/changed\/removed, bytes to fetch$/);
    const planned = await sh(dryRun);
    expect(planned.code, planned.stderr).toBe(0);
    expect(planned.stdout).toMatch(/^dry run: nothing was written\n/);
    expect(planned.stdout).toContain('\n  fedora/toolbox: 3 new, 1 filtered\n');
    expect(planned.stdout).toContain('\n    filtered (tags.exclude -rc\\d*$): 2.0-rc1\n');
    expect(planned.stdout).toMatch(/\nwould fetch \d+ blobs \([\d.]+ kB\)/);
    expect(planned.stdout).not.toContain('candidate');

    // "cron / systemd timer": off a terminal, JSON log lines on stderr, the summary on stdout.
    const synced = await sh(sync);
    expect(synced.code, synced.stderr).toBe(0);
    expect(synced.stdout).toMatch(/^2\/2 repositories synced, 6 tags \(6 new, 0 changed, 0 unchanged, 0 removed\)\n/);
    expect(synced.stdout).toContain('\npublished metadata generation 0000000001\n');
    expect(synced.stdout).toMatch(/\ndone in .*: ok\n$/);
    for (const line of synced.stderr.trim().split('\n')) expect(() => JSON.parse(line), line).not.toThrow();

    // "tree/ (rsync this), metadata/, state/"
    for (const dir of ['tree', 'metadata', 'state'])
      expect((await stat(path.join(root, dir))).isDirectory()).toBe(true);

    // The Commands table: "last run of each command, published generation, dedupe, ..."
    expect(readme).toMatch(
      /^\| `status` \| last run of each command, published generation, dedupe, failures, lock holder, listener, mirror freshness \|$/m,
    );
    const status = await sh(`blobmirror status -c ${config}`);
    expect(status.code, status.stderr).toBe(0);
    expect(status.stdout).toMatch(/^last runs:\n {2}sync: ok, ended /);
    expect(status.stdout).toContain('\n  gc: none recorded\n');
    expect(status.stdout).toContain('\ncurrent generation: 0000000001, created ');
    expect(status.stdout).toMatch(/\n {2}disk: [\d.]+ kB unique for [\d.]+ kB referenced \(dedupe [\d.]+x\)\n/);
    expect(status.stdout).toContain('\nlock: free\n');
    expect(status.stdout).toContain('\nmirrors: no mirror state (run blobmirror crawl to check mirrors)\n');
  }, 300_000);
});
