import { spawn } from 'node:child_process';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

// CPU seconds per thread of a child process, read from /proc/<pid>/task/<tid>/stat while it runs
// (the last reading before it exits: up to one interval short). A CPU profile counts wall time
// while a thread is runnable but preempted, so on a loaded machine it cannot say what a thread
// *used*; the kernel's per-thread utime + stime can.

/** clock ticks per second (`getconf CLK_TCK`; 100 on Linux/x86-64). */
const TICKS = 100;

export interface ThreadCpu {
  wallMs: number;
  /** The main (JavaScript) thread. */
  mainMs: number;
  /** Every other thread by its name (libuv-worker, node's platform threads, worker threads). */
  othersMs: Record<string, number>;
  peakRssBytes: number;
}

export async function threadCpu(file: string, args: readonly string[], intervalMs = 50): Promise<ThreadCpu> {
  const started = performance.now();
  const child = spawn(file, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const threads = new Map<string, { name: string; ms: number }>();
  let peakRssBytes = 0;
  const read = async (pid: number) => {
    const dir = `/proc/${pid}/task`;
    for (const tid of await readdir(dir).catch(() => [])) {
      const [stat, comm] = await Promise.all([
        readFile(path.join(dir, tid, 'stat'), 'utf8').catch(() => ''),
        readFile(path.join(dir, tid, 'comm'), 'utf8').catch(() => '?'),
      ]);
      // Fields after the parenthesised name: utime and stime are the 12th and 13th.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields.length < 13) continue;
      const ms = ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS;
      threads.set(tid, { name: Number(tid) === pid ? 'main' : comm.trim(), ms });
    }
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
    if (hwm) peakRssBytes = Math.max(peakRssBytes, Number(hwm[1]) * 1024);
  };
  let code: number | null | undefined;
  void exited.then((c) => (code = c));
  while (code === undefined) {
    await read(child.pid!);
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
  if (code !== 0) throw new Error(`${args.join(' ')} exited ${code}:\n${stderr.slice(-2000)}`);
  const othersMs: Record<string, number> = {};
  let mainMs = 0;
  for (const { name, ms } of threads.values()) {
    if (name === 'main') mainMs = ms;
    else othersMs[name] = (othersMs[name] ?? 0) + ms;
  }
  return { wallMs: performance.now() - started, mainMs, othersMs, peakRssBytes };
}
