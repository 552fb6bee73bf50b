// check-config on a terminal-less run: text for people, JSON with --json, and on this machine
// everything sync would stop on before its first request (secrets, storage, hardlinks).
import { spawnSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { CLI_ARGS, runCli } from '../helpers/cli.js';

describe('check-config', () => {
  let work: string;
  let shm: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-check-config-'));
    // /dev/shm is a tmpfs; the work dir is on the disk.
    shm = await mkdtemp('/dev/shm/blobmirror-check-config-');
    await writeFile(path.join(work, 'registry-password'), 'secret-Pa55\n');
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await rm(shm, { recursive: true, force: true });
  });

  async function configWith(name: string, changes: { auth?: object; storage?: object }): Promise<string> {
    const file = path.join(work, `${name}.yaml`);
    await writeFile(
      file,
      stringify({
        version: 1,
        source: {
          type: 'registry',
          url: 'https://registry.example.org',
          auth: changes.auth ?? { username: 'mirror', passwordFile: path.join(work, 'registry-password') },
        },
        repositories: { include: ['fedora/**'], exclude: ['fedora/*-candidate'] },
        tags: { exclude: ['-rc\\d*$'], keepNewest: 10 },
        storage: changes.storage ?? { root: path.join(work, name) },
      }),
    );
    return file;
  }

  it('prints text for people and the same facts as JSON with --json', async () => {
    const file = await configWith('good', {});
    const text = await runCli(['check-config', '-c', file]);
    expect(text.code, text.stderr).toBe(0);
    expect(() => JSON.parse(text.stdout) as unknown).toThrow();
    expect(text.stdout).toContain(`${file}: valid\n`);
    expect(text.stdout).toContain('  source        registry https://registry.example.org (auth: configured)\n');
    expect(text.stdout).toContain('  tags          include all; exclude -rc\\d*$; keep the newest 10\n');
    expect(text.stdout).toMatch(/^ {2}ok {4}source\.auth\.passwordFile .*: credentials for mirror$/m);
    expect(text.stdout).toMatch(/\nready for sync\n$/);
    expect(text.stdout).not.toContain('secret-Pa55');

    const json = await runCli(['check-config', '-c', file, '--json']);
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { valid: boolean; ready: boolean; checks: { ok: boolean }[] };
    expect(report).toMatchObject({ valid: true, ready: true, storage: { tree: path.join(work, 'good/tree') } });
    expect(report.checks.length).toBeGreaterThanOrEqual(5);
    expect(report.checks.every((check) => check.ok)).toBe(true);
  });

  it('fails on a missing passwordFile, naming the key and the file', async () => {
    const missing = path.join(work, 'no-such-password');
    const file = await configWith('no-password', { auth: { username: 'mirror', passwordFile: missing } });
    const result = await runCli(['check-config', '-c', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`  FAIL  source.auth.passwordFile ${missing}: cannot read it: ENOENT\n`);
    expect(result.stdout).toMatch(/\nnot ready: sync would stop on this problem\n$/);
    const json = JSON.parse((await runCli(['check-config', '-c', file, '--json'])).stdout) as { ready: boolean };
    expect(json.ready).toBe(false);
  });

  it('fails when tree and state are on different filesystems (no hardlinks)', async () => {
    const file = await configWith('xdev', {
      storage: { tree: path.join(work, 'xdev/tree'), metadata: path.join(work, 'xdev/metadata'), state: shm },
    });
    const result = await runCli(['check-config', '-c', file]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(
      /^ {2}FAIL {2}storage\.tree and storage\.state on one filesystem \(hardlinks\): .* are on different filesystems/m,
    );
  });

  it('fails on storage the user running it cannot write, and --no-machine checks the file alone', async () => {
    const readOnly = path.join(work, 'read-only');
    await mkdir(readOnly, { mode: 0o755 });
    await chmod(work, 0o755);
    const file = await configWith('unwritable', { storage: { root: path.join(readOnly, 'srv') } });
    // As root every directory is writable: run it as nobody, as a sync under its own user would.
    const run = spawnSync(
      'runuser',
      ['-u', 'nobody', '--', process.execPath, ...CLI_ARGS, 'check-config', '-c', file],
      {
        encoding: 'utf8',
      },
    );
    expect(run.status, run.stderr).toBe(2);
    expect(run.stdout).toContain(`  FAIL  storage.state ${readOnly}/srv/state: not writable (EACCES)\n`);
    expect(run.stdout).toMatch(/not ready: sync would stop on these \d problems\n$/);
    const fileOnly = await runCli(['check-config', '-c', file, '--no-machine']);
    expect(fileOnly.code).toBe(0);
    expect(fileOnly.stdout).not.toContain('this machine:');
  });
});
