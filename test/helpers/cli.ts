import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';

/**
 * The directory with package.json above this file. Found by walking up, not as a fixed `../..`,
 * because the helpers also run compiled into bench/build/ (`npm run bench`).
 */
export const PACKAGE_ROOT = packageRoot(import.meta.dirname);
export const CLI = path.join(PACKAGE_ROOT, 'dist/cli/main.js');
/**
 * `process.execPath` arguments that run the CLI as its installed `blobmirror` command does: the
 * node flags of its `#!/usr/bin/env -S node …` line, then the script.
 */
export const CLI_NODE_FLAGS: readonly string[] = shebangFlags(CLI);
export const CLI_ARGS: readonly string[] = [...CLI_NODE_FLAGS, CLI];

function shebangFlags(script: string): string[] {
  const first = readFileSync(script, 'utf8').split('\n', 1)[0]!;
  const match = /^#!\/usr\/bin\/env (?:-S )?node((?: --[\w-]+(?:=\S+)?)*)$/.exec(first);
  if (!match) throw new Error(`${script}: unexpected first line ${JSON.stringify(first)} (run npm run build)`);
  return match[1]!.split(' ').filter(Boolean);
}

function packageRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (existsSync(path.join(dir, 'package.json'))) return dir;
    if (dir === path.dirname(dir)) throw new Error(`no package.json above ${from}`);
  }
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Run the built CLI as a user would (a child process, no TTY), collecting its output. */
export function runCli(
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...CLI_ARGS, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** `--json` output of a command, with a readable failure when it is not JSON. */
export function jsonOf<T = Record<string, any>>(result: CliResult): T {
  try {
    return JSON.parse(result.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${result.code}):\nstdout: ${result.stdout}\nstderr: ${result.stderr}`);
  }
}

export interface TestConfig {
  registryUrl: string;
  include: string[];
  exclude?: string[];
  auth?: Record<string, unknown>;
  platforms?: string[];
  tags?: Record<string, unknown>;
  extraSource?: Record<string, unknown>;
  /** More top-level keys (modules, retention, metadata, ...). */
  extra?: Record<string, unknown>;
}

/** A config file for a registry source with storage under a fresh temp root. */
export async function writeTestConfig(config: TestConfig, root?: string): Promise<{ file: string; root: string }> {
  const dir = root ?? (await mkdtemp(path.join(tmpdir(), 'blobmirror-sync-')));
  await mkdir(dir, { recursive: true });
  const file = path.join(dir, 'config.yaml');
  const body = {
    version: 1,
    source: {
      type: 'registry',
      url: config.registryUrl,
      insecure: true,
      retries: 2,
      ...(config.auth ? { auth: config.auth } : {}),
      ...config.extraSource,
    },
    repositories: { include: config.include, ...(config.exclude ? { exclude: config.exclude } : {}) },
    ...(config.tags ? { tags: config.tags } : {}),
    ...(config.platforms ? { platforms: config.platforms } : {}),
    storage: { root: path.join(dir, 'mirror') },
    ...config.extra,
  };
  await writeFile(file, stringify(body));
  return { file, root: path.join(dir, 'mirror') };
}
