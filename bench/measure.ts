import { spawn } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';

// GNU time (Debian's `time` package) reports what Node cannot learn about a child: its CPU time
// and peak RSS (getrusage of the waited-for process). Wall time is taken here, spawn to exit, so
// it includes process start as a user sees it.
const TIME_BIN = '/usr/bin/time';

export interface ProcessRun {
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  stdout: string;
  stderr: string;
}

export interface Command {
  file: string;
  args: readonly string[];
  env?: NodeJS.ProcessEnv;
}

let sequence = 0;

/** Runs a command to completion under GNU time; a non-zero exit throws with its stderr. */
export async function timed(command: Command, scratchDir: string): Promise<ProcessRun> {
  const report = path.join(scratchDir, `time-${process.pid}-${++sequence}.txt`);
  const started = performance.now();
  const child = spawn(TIME_BIN, ['-f', '%U %S %M', '-o', report, '--', command.file, ...command.args], {
    env: command.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  const wallMs = performance.now() - started;
  const text = await readFile(report, 'utf8').catch(() => '');
  await rm(report, { force: true });
  if (code !== 0)
    throw new Error(`${path.basename(command.file)} ${command.args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
  // The last line: GNU time first writes "Command exited with non-zero status" lines when there are any.
  const match = /([\d.]+) ([\d.]+) (\d+)\s*$/.exec(text);
  if (!match) throw new Error(`${TIME_BIN} wrote no usage report (${JSON.stringify(text)})`);
  return {
    wallMs,
    cpuMs: (Number(match[1]) + Number(match[2])) * 1000,
    peakRssBytes: Number(match[3]) * 1024,
    stdout,
    stderr,
  };
}

/** Wall time of an in-process step. */
export async function wall<T>(step: () => Promise<T>): Promise<{ wallMs: number; value: T }> {
  const started = performance.now();
  const value = await step();
  return { wallMs: performance.now() - started, value };
}

export interface Stat {
  median: number;
  min: number;
  max: number;
  runs: number[];
}

export function stat(runs: number[]): Stat {
  if (runs.length === 0) throw new Error('no runs to summarize');
  const sorted = [...runs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  const median = sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { median, min: sorted[0]!, max: sorted.at(-1)!, runs };
}

/** The same measurement `count` times, one after another (never overlapping: they share two cores). */
export async function repeat<T>(count: number, once: (run: number) => Promise<T>): Promise<T[]> {
  const results: T[] = [];
  for (let run = 1; run <= count; run++) results.push(await once(run));
  return results;
}
