// How a CLI run ended, as the run-report tests read it: the metrics file, the status record, and
// a CLI child process stopped by a signal at a chosen moment (waited for, never slept).
import { spawn } from 'node:child_process';
import { watch, type FSWatcher } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { expect, vi } from 'vitest';
import type { StatusReport } from '../../src/status/collect.js';
import { CLI_ARGS, jsonOf, runCli, type CliResult } from './cli.js';

/** `blobmirror_last_run_success{command="…"}` and friends, as the textfile collector reads them. */
export async function metric(file: string, name: string, command: string): Promise<number | undefined> {
  const text = await readFile(file, 'utf8');
  const match = new RegExp(`^${name}\\{command="${command}"\\} (\\S+)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** `blobmirror status --json` for a config. */
export const status = async (config: string) => jsonOf<StatusReport>(await runCli(['status', '-c', config, '--json']));

/** The CLI as a child process, and how it ends. */
export function startCli(args: string[]) {
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
export async function signalledWhen(
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
export async function firstWriteUnder(dir: string): Promise<{ written: Promise<string>; close(): void }> {
  const subdirs = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isDirectory());
  const watchers: FSWatcher[] = [];
  const written = new Promise<string>((resolve) => {
    for (const watched of [dir, ...subdirs.map((e) => path.join(dir, e.name))])
      watchers.push(watch(watched, (_event, name) => resolve(path.join(watched, String(name)))));
  });
  return { written, close: () => watchers.forEach((w) => w.close()) };
}
