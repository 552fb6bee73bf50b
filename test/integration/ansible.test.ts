// The Ansible content in ansible/, run for real with Debian's ansible-core and ansible-lint:
// lint and syntax, deploy.yml into a temporary prefix (twice: changed=0), the rendered config
// and units checked by blobmirror and systemd-analyze, the rsyncd module served by a real rsync
// daemon, sync.yml against a real docker-registry (explicit repos, a fedora-image-uploader
// message, bodhi messages), verify.yml (interim dry-run check), and a bad variable failing the
// play with blobmirror's own error.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, cp, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createHash, randomBytes } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { parseMirrorConfig } from '../../src/mirror-list/mirror-config.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { readRepositoryFile } from '../helpers/published.js';

const run = promisify(execFile);
const REPO = join(dirname(fileURLToPath(import.meta.url)), '../..');
const ANSIBLE_DIR = join(REPO, 'ansible');
const KiB = 1024;
const isRoot = process.getuid?.() === 0;

interface PlaybookRun {
  code: number;
  /** stdout and stderr, as a person would read them; long values are wrapped (YAML results). */
  output: string;
  /** output with every run of whitespace made one space, to find wrapped messages. */
  flat: string;
  recap: { ok: number; changed: number; failed: number; skipped: number } | undefined;
}

let tmp: string;
let env: NodeJS.ProcessEnv;
let registry: RegistryHandle;
let images: GeneratedImages;
let varsFile: string;
let lint: Promise<{ code: number; output: string }>;
let tarball: string;
let tarballServer: Server;
const user = `bmt${process.pid % 100000}`;
const webhookSecret = `hook-${randomBytes(9).toString('base64url')}`;
const outputs: string[] = [];

const paths = () => ({
  prefix: join(tmp, 'prefix'),
  bin: join(tmp, 'prefix/bin/blobmirror'),
  config: join(tmp, 'etc/config.yaml'),
  passwordFile: join(tmp, 'etc/registry-password'),
  webhookSecretFile: join(tmp, 'etc/webhook-secret'),
  tree: join(tmp, 'srv/tree'),
  metadata: join(tmp, 'srv/metadata'),
  state: join(tmp, 'srv/state'),
  units: join(tmp, 'units'),
  cron: join(tmp, 'cron.d/blobmirror'),
  rsyncdConf: join(tmp, 'rsyncd.conf'),
  rsyncdSnippet: join(tmp, 'rsyncd.d/blobmirror.conf'),
});

function spawnCollect(
  command: string,
  args: string[],
  options: { cwd?: string; env?: NodeJS.ProcessEnv; timeoutMs?: number },
): Promise<{ code: number; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 200_000);
    child.once('error', reject);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), output });
    });
  });
}

/** ansible-playbook from ansible/, with the test's config, vars and temp dirs. */
async function playbook(name: string, ...extra: string[]): Promise<PlaybookRun> {
  const args = ['-i', 'localhost,', '-c', 'local', `playbooks/${name}`, '-e', `@${varsFile}`, ...extra];
  const { code, output } = await spawnCollect('ansible-playbook', args, { cwd: ANSIBLE_DIR, env });
  outputs.push(output);
  const match = /localhost\s+:\s+ok=(\d+)\s+changed=(\d+)\s+unreachable=\d+\s+failed=(\d+)\s+skipped=(\d+)/.exec(
    output,
  );
  const recap = match
    ? { ok: Number(match[1]), changed: Number(match[2]), failed: Number(match[3]), skipped: Number(match[4]) }
    : undefined;
  return { code, output, flat: output.replace(/\s+/g, ' '), recap };
}

function expectSuccess(result: PlaybookRun): void {
  if (result.code !== 0) throw new Error(`ansible-playbook exited ${result.code}:\n${result.output.slice(-6000)}`);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function filesUnder(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => relative(root, join(e.parentPath, e.name)))
    .sort();
}

/**
 * The release tarball, as `npm run build && npm pack` makes it, built in a staging copy of the
 * package (package.json and its `files`) so that the shared dist/ is left alone. Type errors are
 * `tsc --noEmit`'s business: this only needs the emitted JavaScript.
 */
async function packRelease(staging: string): Promise<string> {
  const manifest = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
  await mkdir(staging, { recursive: true });
  const tsc = await spawnCollect(
    join(REPO, 'node_modules/.bin/tsc'),
    ['-p', join(REPO, 'tsconfig.build.json'), '--outDir', join(staging, 'dist')],
    { cwd: REPO },
  );
  if (!existsSync(join(staging, 'dist/cli/main.js')))
    throw new Error(`tsc emitted no dist/cli/main.js:\n${tsc.output}`);
  await cp(join(REPO, 'package.json'), join(staging, 'package.json'));
  for (const entry of manifest.files.filter((f) => f !== 'dist')) {
    if (existsSync(join(REPO, entry))) await cp(join(REPO, entry), join(staging, entry), { recursive: true });
  }
  const { stdout } = await run('npm', ['pack', '--json', '--pack-destination', tmp], { cwd: staging });
  return join(tmp, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
}

interface Service {
  /** The first JSON document the command printed (--json): where it listens. */
  started: Record<string, unknown>;
  stderr: () => string;
  /** SIGTERM, then the stderr it wrote. */
  stop: () => Promise<string>;
}

/** Starts a unit's ExecStart (plus --json) as the blobmirror user, as systemd would. */
async function startUnit(unitFile: string): Promise<Service> {
  const unit = await readFile(unitFile, 'utf8');
  const execStart = /^ExecStart=(.+)$/m.exec(unit)![1]!.split(' ');
  const child = spawn('runuser', ['-u', user, '--', ...execStart, '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    return stderr;
  };
  let stdout = '';
  for await (const chunk of child.stdout) {
    stdout += (chunk as Buffer).toString();
    if (stdout.trimEnd().endsWith('}')) break;
  }
  try {
    return { started: JSON.parse(stdout) as Record<string, unknown>, stderr: () => stderr, stop };
  } catch {
    await stop();
    throw new Error(`${execStart.join(' ')} did not start: ${stdout}\n${stderr}`);
  }
}

interface IndexJson {
  generation: string;
  repositories: Record<string, { path: string; tags: number }>;
}

async function currentIndex(): Promise<IndexJson> {
  return JSON.parse(await readFile(join(paths().metadata, 'current/index.json'), 'utf8')) as IndexJson;
}

/** Every blob the metadata lists for `repository` is in the tree, owned by the blobmirror user. */
async function expectRepositoryInTree(repository: string): Promise<void> {
  const index = await currentIndex();
  const entry = index.repositories[repository];
  expect(entry, `${repository} in the current generation`).toBeDefined();
  const repo = (await readRepositoryFile(paths().metadata, repository)) as {
    tags: Record<string, { digest: string }>;
    blobs: Record<string, { path: string; size: number }>;
  };
  expect(Object.fromEntries(Object.entries(repo.tags).map(([tag, { digest }]) => [tag, digest]))).toEqual(
    images.repositories[repository]!.tags,
  );
  expect(Object.keys(repo.blobs).sort()).toEqual(images.repositories[repository]!.blobs);
  const { uid } = await stat(paths().tree);
  for (const blob of Object.values(repo.blobs)) {
    const info = await stat(join(paths().tree, blob.path));
    expect([info.size, info.uid]).toEqual([blob.size, uid]);
  }
}

// Each ansible-playbook run costs a few seconds of Python start-up per task; on a loaded 2-core
// machine a test holding two runs needs more than the default timeout.
describe.skipIf(!isRoot)('ansible/ (role blobmirror, playbooks, examples)', { timeout: 240_000 }, () => {
  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'blobmirror-ansible-'));
    if (process.env.BLOBMIRROR_KEEP_TMP) console.log(`ansible test files: ${tmp}`);
    // The blobmirror user reaches its tree, config and binary through this directory.
    await chmod(tmp, 0o755);
    await mkdir(join(tmp, 'ansible-local'));
    await mkdir(join(tmp, 'ansible-remote'));
    await writeFile(
      join(tmp, 'ansible.cfg'),
      [
        '[defaults]',
        `roles_path = ${join(ANSIBLE_DIR, 'roles')}`,
        'retry_files_enabled = false',
        'interpreter_python = auto_silent',
        'callback_result_format = yaml',
        '[connection]',
        'pipelining = true',
        '',
      ].join('\n'),
    );
    env = {
      ...process.env,
      ANSIBLE_CONFIG: join(tmp, 'ansible.cfg'),
      ANSIBLE_NOCOLOR: '1',
      ANSIBLE_FORCE_COLOR: '0',
      ANSIBLE_LOCAL_TEMP: join(tmp, 'ansible-local'),
      ANSIBLE_REMOTE_TEMP: join(tmp, 'ansible-remote'),
      ANSIBLE_HOME: join(tmp, 'ansible-home'),
      XDG_CACHE_HOME: join(tmp, 'cache'),
      NO_COLOR: '1',
    };
    // Lint runs while the tarball, the fixture and the registry are made.
    lint = spawnCollect('ansible-lint', ['--nocolor'], { cwd: ANSIBLE_DIR, env, timeoutMs: 170_000 });

    tarball = await packRelease(join(tmp, 'package'));
    // Deploys install from an http URL (with a checksum); the last one from the path.
    const tarballBytes = await readFile(tarball);
    tarballServer = createHttpServer((request, response) => {
      if (request.url === `/releases/${basename(tarball)}`)
        response.writeHead(200, { 'content-type': 'application/gzip' }).end(tarballBytes);
      else response.writeHead(404).end();
    });
    await new Promise<void>((resolve) => tarballServer.listen(0, '127.0.0.1', resolve));
    const tarballUrl = `http://127.0.0.1:${(tarballServer.address() as AddressInfo).port}/releases/${basename(tarball)}`;

    [images, registry] = await Promise.all([
      generateImages(
        fixtureSpec({
          repos: 3,
          candidateRepos: 1,
          tagsPerRepo: 2,
          baseBytes: 64 * KiB,
          repoBytes: 8 * KiB,
          tagBytes: 2 * KiB,
        }),
        join(tmp, 'layout'),
      ),
      startRegistry({ auth: 'htpasswd' }),
    ]);
    await pushLayout(registry, images.dir);

    const p = paths();
    varsFile = join(tmp, 'vars.json');
    await writeFile(
      varsFile,
      JSON.stringify({
        blobmirror_hosts: 'all',
        blobmirror_become: false,
        blobmirror_install_nodejs: false,
        blobmirror_tarball: tarballUrl,
        blobmirror_tarball_checksum: `sha256:${createHash('sha256').update(tarballBytes).digest('hex')}`,
        blobmirror_prefix: p.prefix,
        blobmirror_npm_install_args: ['--no-audit', '--no-fund', '--prefer-offline'],
        blobmirror_bin_link: '',
        blobmirror_user: user,
        blobmirror_group: user,
        blobmirror_storage_root: join(tmp, 'srv'),
        blobmirror_config_dir: join(tmp, 'etc'),
        blobmirror_registry_url: registry.url,
        blobmirror_registry_insecure: true,
        blobmirror_registry_username: registry.auth!.username,
        // In production this comes from a vault; it must never show in Ansible's output.
        blobmirror_registry_password: registry.auth!.password,
        blobmirror_registry_options: { retries: 1, timeoutSeconds: 10 },
        blobmirror_repositories_include: ['stable/**'],
        // Excludes that would swallow stable/app-3 if sync.yml's glob matching got `.` or `*` wrong.
        blobmirror_repositories_exclude: ['stable/app.3', 'stable/*/private'],
        blobmirror_tags_exclude: ['^nightly-'],
        blobmirror_keep_generations: 3,
        blobmirror_systemd: false,
        blobmirror_systemd_unit_dir: p.units,
        blobmirror_schedule: 'systemd',
        blobmirror_cron_file: p.cron,
        blobmirror_listen: true,
        blobmirror_listen_config: {
          webhook: { address: '127.0.0.1', port: 0, secretFile: p.webhookSecretFile },
          coalesceSeconds: 1,
        },
        blobmirror_listen_webhook_secret: webhookSecret,
        blobmirror_serve: true,
        blobmirror_serve_listen: '127.0.0.1:0',
        blobmirror_mirror_list: {
          version: 1,
          master: 'http://127.0.0.1:9/containers',
          mirrors: [{ url: 'http://mirror.example.net/containers' }],
        },
        blobmirror_rsyncd_snippet_dir: dirname(p.rsyncdSnippet),
        blobmirror_rsyncd_main_conf: p.rsyncdConf,
        blobmirror_rsyncd_lock_file: join(tmp, 'rsyncd.lock'),
        blobmirror_bodhi_repositories: {
          'app-3': 'stable/app-3',
          priv: 'stable/x/private',
          toolbox: ['stable/app-1', 'stable/app-2'],
        },
      }),
    );
    await mkdir(p.units, { recursive: true });
    await mkdir(dirname(p.cron), { recursive: true });
  }, 300_000);

  afterAll(async () => {
    await registry?.stop();
    tarballServer?.close();
    if (tmp && !process.env.BLOBMIRROR_KEEP_TMP) {
      // The role created a system user and group for this run.
      await run('userdel', [user]).catch(() => undefined);
      await run('groupdel', [user]).catch(() => undefined);
      await rm(tmp, { recursive: true, force: true });
    }
  });

  it('passes ansible-lint (production profile, offline) and --syntax-check for every playbook', async () => {
    const playbooks = (await readdir(join(ANSIBLE_DIR, 'playbooks')))
      .filter((f) => f.endsWith('.yml'))
      .map((f) => `playbooks/${f}`);
    expect(playbooks.sort()).toEqual(['playbooks/deploy.yml', 'playbooks/sync.yml', 'playbooks/verify.yml']);
    const loopabull = (await readdir(join(ANSIBLE_DIR, 'examples/loopabull/playbooks'))).map(
      (f) => `examples/loopabull/playbooks/${f}`,
    );
    const syntax = await spawnCollect(
      'ansible-playbook',
      ['-i', 'localhost,', '--syntax-check', ...playbooks, ...loopabull],
      { cwd: ANSIBLE_DIR, env },
    );
    expect(syntax.code, syntax.output).toBe(0);
    const linted = await lint;
    expect(linted.code, linted.output).toBe(0);
    expect(linted.output).toMatch(/Passed with production profile: 0 failure\(s\), 0 warning\(s\)/);
  });

  it('deploys into a temporary prefix (after a --check run that changes nothing), and a second run changes nothing', async () => {
    const check = await playbook('deploy.yml', '--check', '--diff');
    expectSuccess(check);
    expect(check.recap!.changed).toBeGreaterThan(0);
    expect(existsSync(paths().prefix)).toBe(false);

    const first = await playbook('deploy.yml');
    expectSuccess(first);
    expect(first.recap!.changed).toBeGreaterThan(0);
    const p = paths();
    expect((await run(p.bin, ['--version'])).stdout.trim()).toBe(
      JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')).version,
    );

    // -v prints every task's result: the secrets must stay hidden there too.
    const second = await playbook('deploy.yml', '-v');
    expectSuccess(second);
    expect(second.recap).toMatchObject({ changed: 0, failed: 0 });
    expect(second.output).not.toMatch(/Install blobmirror with npm \*+\n(changed|ok)/);

    // Ownership and modes: the user owns the data, root the config; the password is 0600.
    const { uid } = await stat(p.tree);
    expect(uid).not.toBe(0);
    expect((await stat(p.state)).mode & 0o777).toBe(0o750);
    expect((await stat(p.config)).mode & 0o777).toBe(0o640);
    const password = await stat(p.passwordFile);
    expect([password.mode & 0o777, password.uid]).toEqual([0o600, uid]);
    expect(await readFile(p.passwordFile, 'utf8')).toBe(registry.auth!.password);
    const secret = await stat(p.webhookSecretFile);
    expect([secret.mode & 0o777, secret.uid]).toEqual([0o600, uid]);
  });

  it('renders a config blobmirror accepts, with the password only in the password file', async () => {
    const p = paths();
    const { stdout } = await run(p.bin, ['check-config', '-c', p.config, '--json']);
    const checked = JSON.parse(stdout) as {
      valid: boolean;
      source: { url: string; auth: string };
      repositories: unknown;
      tags: unknown;
      storage: unknown;
    };
    expect(checked).toMatchObject({
      valid: true,
      source: { url: registry.url, auth: 'configured' },
      repositories: { include: ['stable/**'], exclude: ['stable/app.3', 'stable/*/private'] },
      tags: { exclude: ['^nightly-'] },
      storage: { tree: p.tree, metadata: p.metadata, state: p.state },
    });
    const text = await readFile(p.config, 'utf8');
    expect(text).toContain(`passwordFile: "${p.passwordFile}"`);
    expect(text).toContain('keepGenerations: 3');
    expect(text).not.toContain(registry.auth!.password);
  });

  it("renders the example inventory's group vars into a config and mirror list blobmirror accepts", async () => {
    const defaults = parseYaml(
      await readFile(join(ANSIBLE_DIR, 'roles/blobmirror/defaults/main.yml'), 'utf8'),
    ) as Record<string, unknown>;
    const inventory = await run(
      'ansible-inventory',
      ['-i', 'examples/inventory/hosts.yml', '--host', 'containers-master01.example.org'],
      { cwd: ANSIBLE_DIR, env },
    );
    const hostVars = JSON.parse(inventory.stdout) as Record<string, unknown>;
    const dest = join(tmp, 'example-config.yaml');
    const merged = join(tmp, 'example-vars.json');
    // Role defaults < the example's group vars; the tarball path is not used by the template.
    await writeFile(merged, JSON.stringify({ ...defaults, ...hostVars }));
    const rendered = await spawnCollect(
      'ansible',
      [
        'localhost',
        '-i',
        'localhost,',
        '-c',
        'local',
        '-m',
        'ansible.builtin.template',
        '-a',
        `src=roles/blobmirror/templates/config.yaml.j2 dest=${dest}`,
        '-e',
        `@${merged}`,
      ],
      { cwd: ANSIBLE_DIR, env },
    );
    expect(rendered.code, rendered.output).toBe(0);
    const { stdout } = await run(paths().bin, ['check-config', '-c', dest, '--json', '--no-machine']);
    expect(JSON.parse(stdout)).toMatchObject({
      valid: true,
      source: { url: 'https://registry.example.org', auth: 'configured' },
      storage: { tree: '/srv/blobmirror/tree' },
    });
    expect(await readFile(dest, 'utf8')).not.toContain('change-me');
    // The mirror list the role renders for `blobmirror serve`, checked by serve's own schema.
    const mirrors = parseMirrorConfig(stringifyYaml(hostVars.blobmirror_mirror_list), 'example mirrors.yaml');
    expect(mirrors.mirrors.map((m) => m.url)).toEqual([
      'https://mirror.example.net/pub/containers',
      'https://mirror.example.com/containers',
    ]);
  });

  it('renders systemd units that systemd-analyze accepts, the listen service restarting on failure', async (ctx) => {
    const p = paths();
    const units = [
      'blobmirror-sync.service',
      'blobmirror-sync.timer',
      'blobmirror-listen.service',
      'blobmirror-serve.service',
    ];
    expect((await readdir(p.units)).sort()).toEqual(units.sort());
    const listen = await readFile(join(p.units, 'blobmirror-listen.service'), 'utf8');
    expect(listen).toContain(`ExecStart=${p.bin} listen -c ${p.config}`);
    expect(listen).toContain('Restart=on-failure');
    expect(listen).toContain(`User=${user}`);
    expect(await readFile(join(p.units, 'blobmirror-sync.timer'), 'utf8')).toContain('OnCalendar=*:0/30');
    // Never a silent pass: without systemd-analyze the test says it did not check the units.
    if (!existsSync('/usr/bin/systemd-analyze')) ctx.skip('systemd-analyze is not installed (Debian package systemd)');
    const verify = await spawnCollect('systemd-analyze', ['verify', ...units.map((u) => join(p.units, u))], {
      env: { ...process.env, SYSTEMD_LOG_COLOR: '0' },
    });
    const complaints = verify.output
      .split('\n')
      .filter((line) => /Unknown|Failed|Invalid|not executable|Missing|bad/i.test(line));
    expect(complaints).toEqual([]);
  });

  it("starts blobmirror listen from the unit's ExecStart as the blobmirror user, reading its webhook secret", async () => {
    const listen = await startUnit(join(paths().units, 'blobmirror-listen.service'));
    try {
      const webhook = listen.started.webhook as string;
      const post = (headers: Record<string, string>) =>
        fetch(webhook, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: '{"events": []}',
        });
      expect((await post({})).status).toBe(401);
      expect((await post({ authorization: `Bearer ${webhookSecret}` })).status).toBe(200);
    } finally {
      // runuser passes SIGTERM on and then ends by the same signal; listen's own word is its log.
      expect(await listen.stop()).toMatch(/"msg":"stopped"/);
    }
  });

  it('syncs the repositories given with -e repos=[...] into the tree and metadata', async () => {
    const result = await playbook('sync.yml', '-e', 'repos=[stable/app-1]');
    expectSuccess(result);
    expect(result.recap!.changed).toBe(1);
    await expectRepositoryInTree('stable/app-1');
    expect(Object.keys((await currentIndex()).repositories)).toEqual(['stable/app-1']);
  });

  it('syncs the repository of a fedora-image-uploader message (loopabull-style msg)', async () => {
    const message = join(tmp, 'uploader.json');
    await writeFile(
      message,
      JSON.stringify({
        msg: {
          architectures: ['x86_64', 'aarch64'],
          compose_id: 'Fedora-41-20241112.0',
          registries: [registry.host],
          release: 41,
          repository: 'stable/app-2',
          tags: ['1.1', 'latest'],
        },
      }),
    );
    const result = await playbook('sync.yml', '-e', `@${message}`);
    expectSuccess(result);
    expect(result.recap!.changed).toBe(1);
    await expectRepositoryInTree('stable/app-2');
    // A targeted sync carries the other repositories over.
    expect(Object.keys((await currentIndex()).repositories).sort()).toEqual(['stable/app-1', 'stable/app-2']);
  });

  it("starts blobmirror serve from the unit's ExecStart: tags from the metadata, blobs redirected to the mirror list", async () => {
    const serve = await startUnit(join(paths().units, 'blobmirror-serve.service'));
    try {
      const base = serve.started.url as string;
      const tags = await fetch(`${base}/v2/stable/app-1/tags/list`);
      expect(tags.status, serve.stderr()).toBe(200);
      expect(((await tags.json()) as { tags: string[] }).tags.sort()).toEqual(
        Object.keys(images.repositories['stable/app-1']!.tags).sort(),
      );
      const blob = images.repositories['stable/app-1']!.blobs[0]!;
      const redirect = await fetch(`${base}/v2/stable/app-1/blobs/${blob}`, { redirect: 'manual' });
      expect(redirect.status).toBe(307);
      expect(redirect.headers.get('location')).toMatch(
        /^http:\/\/(mirror\.example\.net|127\.0\.0\.1:9)\/containers\/stable\/app-1\/_blobs\/sha256\//,
      );
    } finally {
      await serve.stop();
    }
  });

  it('syncs a bodhi container update through the repository map and skips what the config does not select', async () => {
    const message = join(tmp, 'bodhi.json');
    const update = (contentType: string, nvrs: string[]) => ({
      msg: {
        agent: 'bodhi',
        update: {
          alias: `FEDORA-2024-${contentType}`,
          content_type: contentType,
          status: 'stable',
          builds: nvrs.map((nvr) => ({ nvr, type: contentType, signed: true })),
        },
      },
    });
    await writeFile(
      message,
      JSON.stringify(update('container', ['app-3-1.1-1.fc41', 'candidate-thing-2.0-3.fc41', 'priv-1-1.fc41'])),
    );
    const result = await playbook('sync.yml', '-e', `@${message}`);
    expectSuccess(result);
    expect(result.flat).toContain('skipped: candidate-thing, stable/x/private');
    await expectRepositoryInTree('stable/app-3');
    expect(Object.keys((await currentIndex()).repositories).sort()).toEqual([
      'stable/app-1',
      'stable/app-2',
      'stable/app-3',
    ]);

    const generation = (await currentIndex()).generation;
    await writeFile(message, JSON.stringify(update('rpm', ['bash-5.2.26-3.fc41'])));
    const rpm = await playbook('sync.yml', '-e', `@${message}`);
    expectSuccess(rpm);
    expect(rpm.recap!.changed).toBe(0);
    expect(rpm.flat).toContain('not container');
    expect((await currentIndex()).generation).toBe(generation);
  });

  it("refuses a sync with nothing to sync, and an unselected repository with blobmirror's error", async () => {
    const nothing = await playbook('sync.yml');
    expect(nothing.code).not.toBe(0);
    expect(nothing.flat).toContain('Nothing to sync');
    const unselected = await playbook('sync.yml', '-e', '{"repos": ["candidate/app-1"]}');
    expect(unselected.code).not.toBe(0);
    expect(unselected.flat).toContain('is not selected by repositories.include/exclude');
  });

  it('exports the tree read-only through a real rsync daemon, hardlinks intact', async () => {
    const p = paths();
    expect(await readFile(p.rsyncdConf, 'utf8')).toContain(`&include ${dirname(p.rsyncdSnippet)}`);
    const port = await freePort();
    const daemon: ChildProcess = spawn(
      'rsync',
      [
        '--daemon',
        '--no-detach',
        `--config=${p.rsyncdConf}`,
        `--port=${port}`,
        '--address=127.0.0.1',
        `--log-file=${join(tmp, 'rsyncd.log')}`,
      ],
      { stdio: 'ignore' },
    );
    try {
      const url = `rsync://127.0.0.1:${port}/containers/`;
      const pulled = join(tmp, 'pulled');
      for (let attempt = 0; ; attempt++) {
        const pull = await spawnCollect('rsync', ['-aH', url, `${pulled}/`], {});
        if (pull.code === 0) break;
        if (attempt > 40) throw new Error(`rsync pull failed: ${pull.output}`);
        await sleep(100);
      }
      expect(await filesUnder(pulled)).toEqual(await filesUnder(p.tree));
      // The shared base layer is one inode in every repository (all use it), on the mirror too.
      const shared = (await filesUnder(pulled)).filter((f) => f.startsWith('stable/app-1/'));
      const links = await Promise.all(shared.map(async (f) => (await stat(join(pulled, f))).nlink));
      expect(Math.max(...links)).toBe(Object.keys((await currentIndex()).repositories).length);
      await writeFile(join(tmp, 'intruder'), 'x');
      const push = await spawnCollect('rsync', [join(tmp, 'intruder'), url], {});
      expect(push.code).not.toBe(0);
      expect(push.output).toMatch(/read only/);
    } finally {
      daemon.kill('SIGTERM');
    }
  });

  it('verify.yml runs blobmirror verify: clean, a missing tree link fails the play, --repair fixes it', async () => {
    const ok = await playbook('verify.yml');
    expectSuccess(ok);
    expect(ok.flat).toContain('verify clean');

    const tree = paths().tree;
    const victim = (await filesUnder(tree)).find((f) => f.startsWith('stable/app-2/_blobs/'))!;
    await rm(join(tree, victim));
    const broken = await playbook('verify.yml');
    expect(broken.code).not.toBe(0);
    expect(broken.flat).toContain('blobmirror verify exited 1');
    expect(broken.flat).toContain(`missing-link ${join(tree, victim)}`);

    const repaired = await playbook('verify.yml', '-e', '{"blobmirror_verify_args": ["--repair"]}');
    expectSuccess(repaired);
    expect(repaired.recap!.changed).toBe(1);
    expect(existsSync(join(tree, victim))).toBe(true);
  });

  it("verify.yml's interim mode (sync --dry-run) passes, and fails the play when the registry is gone", async () => {
    const ok = await playbook('verify.yml', '-e', 'blobmirror_verify_mode=dry-run');
    expectSuccess(ok);
    expect(ok.flat).toContain('interim check ok (sync --dry-run)');

    await registry.stop();
    const failed = await playbook('verify.yml', '-e', 'blobmirror_verify_mode=dry-run');
    expect(failed.code).not.toBe(0);
    expect(failed.flat).toMatch(/blobmirror sync --dry-run exited [1-9]/);
  });

  it("fails the play with blobmirror's error for a bad variable, keeping the old config", async () => {
    const before = await readFile(paths().config, 'utf8');
    const bad = join(tmp, 'bad.json');
    await writeFile(bad, JSON.stringify({ blobmirror_repositories_include: ['stable/**', 'Bad//Name'] }));
    const result = await playbook('deploy.yml', '-e', `@${bad}`);
    expect(result.code).not.toBe(0);
    expect(result.recap!.failed).toBe(1);
    expect(result.flat).toContain('failed to validate');
    expect(result.flat).toContain('error CONFIG_INVALID');
    expect(result.flat).toContain('repositories.include.1');
    expect(result.flat).toContain('"Bad//Name" is not a repository name or glob');
    expect(await readFile(paths().config, 'utf8')).toBe(before);
  });

  it('switches the schedule to cron, removing the timer; modules per architecture get rsync modules', async () => {
    const changes = join(tmp, 'cron.json');
    await writeFile(
      changes,
      JSON.stringify({
        blobmirror_schedule: 'cron',
        blobmirror_tarball: tarball,
        blobmirror_platforms: ['linux/amd64', 'linux/arm64/v8'],
        blobmirror_modules_per_architecture: true,
        blobmirror_retention_options: { graceDays: 2, gcAfterSync: true },
      }),
    );
    expectSuccess(await playbook('deploy.yml', '-e', `@${changes}`));
    const p = paths();
    const entry = await readFile(p.cron, 'utf8');
    expect(entry).toContain(`*/30 * * * * ${user} ${p.bin} sync -c ${p.config} --quiet --log-format json`);
    expect((await readdir(p.units)).sort()).toEqual(['blobmirror-listen.service', 'blobmirror-serve.service']);
    const config = await readFile(p.config, 'utf8');
    expect(config).toContain('perArchitecture: true');
    expect(config).toContain('gcAfterSync: true');
    const snippet = await readFile(p.rsyncdSnippet, 'utf8');
    expect(snippet).toContain('[containers]');
    expect(snippet).toContain(
      `[containers-amd64]\n    comment = container image blobs (blobmirror tree), amd64 only\n    path = ${p.tree}/amd64\n`,
    );
    expect(snippet).toContain('[containers-arm64]');
  });

  it('never shows the registry password in any output', () => {
    expect(outputs.length).toBeGreaterThan(5);
    for (const output of outputs) {
      expect(output).not.toContain(registry.auth!.password);
      expect(output).not.toContain(webhookSecret);
    }
  });
});
