import { selfTimes, type CpuProfile } from './profile-parts.js';
import type { ThreadCpu } from './thread-cpu.js';

export interface BuildProfile {
  cli: string;
  runs: Array<ThreadCpu & { load: number }>;
  main: CpuProfile[];
  workers: CpuProfile[];
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const range = (values: number[]) => `${seconds(Math.min(...values))}-${seconds(Math.max(...values))}`;

/** Markdown: per build, the kernel's CPU per thread, then the main thread's profile. */
export function renderProfile(size: string, builds: readonly BuildProfile[]): string {
  const out: string[] = [];
  for (const build of builds) {
    const n = build.runs.length;
    const loads = build.runs.map((r) => r.load.toFixed(1)).join(', ');
    out.push(`### full sync, ${size} fixture, ${build.cli}: ${n} runs (load ${loads})`, '');
    out.push('| CPU by thread (kernel utime + stime) | Median | Min-max |', '|---|---|---|');
    const row = (name: string, values: number[]) =>
      out.push(`| ${name} | ${seconds(median(values))} | ${range(values)} |`);
    row(
      'wall',
      build.runs.map((r) => r.wallMs),
    );
    row(
      'main thread',
      build.runs.map((r) => r.mainMs),
    );
    const names = [...new Set(build.runs.flatMap((r) => Object.keys(r.othersMs)))].sort();
    for (const name of names)
      row(
        `threads named ${name}`,
        build.runs.map((r) => r.othersMs[name] ?? 0),
      );
    out.push(`| peak RSS | ${(median(build.runs.map((r) => r.peakRssBytes)) / 2 ** 20).toFixed(0)} MB | |`);
    const { parts, functions, totalMs } = selfTimes(build.main);
    const line = (name: string, ms: number) =>
      `| ${name.replace(/\|/g, '\\|')} | ${(ms / n).toFixed(0)} ms | ${((100 * ms) / totalMs).toFixed(1)} % |`;
    out.push('', 'Main thread, self time per run by CPU profile (it counts time preempted, too):', '');
    out.push('| Part | Per run | Share |', '|---|---|---|');
    for (const [name, ms] of parts.filter(([, ms]) => ms / n >= 5)) out.push(line(name, ms));
    out.push('', '| Function <- caller (heaviest 20) | Per run | Share |', '|---|---|---|');
    for (const [name, ms] of functions.slice(0, 20)) out.push(line(name, ms));
    if (build.workers.length) out.push('', `Other JavaScript threads (profiled): ${build.workers.length / n} per run.`);
    out.push('');
  }
  return out.join('\n');
}
