import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { CLI_ARGS } from './cli.js';

// `blobmirror serve` from the built CLI as a child process, the way an operator runs it. It
// listens on a free port (`--listen 127.0.0.1:0`) and says which one with --json.

export interface ServeProcess {
  url: string;
  port: number;
  pid: number;
  /** The JSON log lines written on stderr so far. */
  logLines(): string[];
  /** SIGTERM, then the exit code (0 after a graceful stop). */
  stop(): Promise<number | null>;
}

export async function startServe(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [...CLI_ARGS, 'serve', '--listen', '127.0.0.1:0', '--json', '--log-format', 'json', ...args],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const stderr: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => stderr.push(line));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const ready = await new Promise<{ url: string; port: number }>((resolve, reject) => {
    let stdout = '';
    const timer = setTimeout(() => reject(new Error(`serve did not start:\n${stderr.join('\n')}`)), 15_000);
    child.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      try {
        const parsed = JSON.parse(stdout) as { url: string; port: number };
        clearTimeout(timer);
        resolve(parsed);
      } catch {
        // Not all of the JSON document yet.
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code}:\n${stderr.join('\n')}`));
    });
  });
  return {
    ...ready,
    pid: child.pid!,
    logLines: () => [...stderr],
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      const code = await exited;
      clearTimeout(killer);
      return code;
    },
  };
}
