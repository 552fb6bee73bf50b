// The build leaves an executable bin with its `#!` line, and `npm install -g` puts a working
// `blobmirror` on PATH (into a temporary prefix here, as the README's command does into npm's).
import { execFile } from 'node:child_process';
import { lstat, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { VERSION } from '../../src/version.js';
import { CLI, CLI_NODE_FLAGS, PACKAGE_ROOT } from '../helpers/cli.js';

const run = promisify(execFile);

describe('install', () => {
  let prefix: string;

  beforeAll(async () => {
    prefix = await mkdtemp(path.join(tmpdir(), 'blobmirror-install-'));
  });
  afterAll(() => rm(prefix, { recursive: true, force: true }));

  it('leaves dist/cli/main.js executable, starting node with its flags', async () => {
    expect((await stat(CLI)).mode & 0o111).toBe(0o111);
    expect(CLI_NODE_FLAGS).toContain('--single-threaded-gc');
    const { stdout } = await run(CLI, ['--version']);
    expect(stdout.trim()).toBe(VERSION);
  });

  it("installs with the README's command into a prefix whose bin/ then has blobmirror", async () => {
    const readme = await readFile(path.join(PACKAGE_ROOT, 'README.md'), 'utf8');
    const install = /npm install -g [^\n`]*\./.exec(readme)?.[0];
    expect(install, 'README install command').toBe('npm install -g --install-links .');
    await run('npm', ['install', '-g', '--install-links', '--prefer-offline', '--no-audit', '--no-fund', '.'], {
      cwd: PACKAGE_ROOT,
      env: { ...process.env, npm_config_prefix: prefix },
    });
    const bin = path.join(prefix, 'bin');
    // Found on PATH by name, as an operator types it.
    const { stdout } = await run('blobmirror', ['--version'], {
      env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
    });
    expect(stdout.trim()).toBe(VERSION);
    const installed = await readFile(path.join(prefix, 'lib/node_modules/blobmirror/dist/cli/main.js'), 'utf8');
    expect(installed.split('\n', 1)[0]).toBe(`#!/usr/bin/env -S node ${CLI_NODE_FLAGS.join(' ')}`);
    // A copy, not a link into the clone.
    expect((await lstat(path.join(prefix, 'lib/node_modules/blobmirror'))).isSymbolicLink()).toBe(false);
  });
});
