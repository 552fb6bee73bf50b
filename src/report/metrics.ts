import { readFile } from 'node:fs/promises';
import { writeFileAtomic } from '../store/fs-durable.js';
import type { RunCommand } from './run-end.js';
import type { SyncSummary } from './sync-summary.js';

// `--metrics-file`: the Prometheus text format for node_exporter's textfile collector, one file
// per command (sync, gc, verify, check-mirror), replaced atomically after each run, however it
// ended (cli/run-report.ts), so the collector never reads half a file.

export interface RunMetrics {
  /** The run did all it was asked (sync: every repository; verify: no problem left). */
  success: boolean;
  durationSeconds: number;
  /** Default: now. */
  finishedAt?: Date;
  bytesFetched?: number;
  blobsFetched?: number;
  blobsReused?: number;
  repositoriesFailed?: number;
  /** Bytes of distinct blobs: what the tree holds on disk. */
  treeBytes?: number;
  /** Bytes summed over repositories: what the tree would hold without hardlinks. */
  referencedBytes?: number;
  dedupeRatio?: number;
  problemsFound?: number;
  problemsFixed?: number;
  problemsLeft?: number;
  bytesFreed?: number;
}

type Measured = Exclude<keyof RunMetrics, 'success' | 'finishedAt'>;

/** A command's own figures: success, duration and end time come from how the run ended (run-end.ts). */
export type RunFigures = Omit<RunMetrics, 'success' | 'durationSeconds' | 'finishedAt'>;

const GAUGES: Record<Measured, { name: string; help: string }> = {
  durationSeconds: { name: 'blobmirror_run_duration_seconds', help: 'Wall time of the last run.' },
  bytesFetched: { name: 'blobmirror_fetched_bytes', help: 'Blob bytes downloaded by the last run.' },
  blobsFetched: { name: 'blobmirror_blobs_fetched', help: 'Blobs downloaded by the last run.' },
  blobsReused: { name: 'blobmirror_blobs_reused', help: 'Blobs the last run needed and found in the store.' },
  repositoriesFailed: { name: 'blobmirror_repositories_failed', help: 'Repositories with a failure in the last run.' },
  treeBytes: {
    name: 'blobmirror_tree_bytes',
    help: 'Bytes of the distinct blobs the current generation references (disk use of the tree).',
  },
  referencedBytes: {
    name: 'blobmirror_referenced_bytes',
    help: 'Blob bytes summed over repositories (what copies instead of hardlinks would take).',
  },
  dedupeRatio: { name: 'blobmirror_dedupe_ratio', help: 'Referenced bytes divided by tree bytes.' },
  problemsFound: { name: 'blobmirror_verify_problems_found', help: 'Problems the last verify found.' },
  problemsFixed: { name: 'blobmirror_verify_problems_fixed', help: 'Problems the last verify repaired.' },
  problemsLeft: { name: 'blobmirror_verify_problems_left', help: 'Problems left after the last verify.' },
  bytesFreed: { name: 'blobmirror_gc_freed_bytes', help: 'Bytes the last gc freed.' },
};

const LAST_SUCCESS = 'blobmirror_last_success_timestamp_seconds';

/** The last success recorded in the file we wrote before, so a failed run does not erase it. */
async function previousSuccess(file: string, command: RunCommand): Promise<number | undefined> {
  const text = await readFile(file, 'utf8').catch(() => '');
  const match = new RegExp(`^${LAST_SUCCESS}\\{command="${command}"\\} (\\d+(?:\\.\\d+)?)$`, 'm').exec(text);
  return match ? Number(match[1]) : undefined;
}

/** The file's text (prom-client does the format). */
async function renderMetrics(
  command: RunCommand,
  values: RunMetrics,
  lastSuccess: number | undefined,
): Promise<string> {
  // Loaded here: only runs with --metrics-file need it, and it costs every other run ~10 MB.
  const { Gauge, Registry } = await import('prom-client');
  const registry = new Registry();
  const gauge = (name: string, help: string, value: number) =>
    new Gauge({ name, help, labelNames: ['command'], registers: [registry] }).set({ command }, value);
  const finished = (values.finishedAt ?? new Date()).getTime() / 1000;
  gauge('blobmirror_last_run_timestamp_seconds', 'When the last run ended (Unix time).', finished);
  gauge(
    'blobmirror_last_run_success',
    'Whether the last run did all it was asked (1) or not (0).',
    values.success ? 1 : 0,
  );
  const success = values.success ? finished : lastSuccess;
  if (success !== undefined) gauge(LAST_SUCCESS, 'When the last successful run ended (Unix time).', success);
  for (const [key, { name, help }] of Object.entries(GAUGES) as Array<[Measured, { name: string; help: string }]>) {
    const value = values[key];
    if (value !== undefined && Number.isFinite(value)) gauge(name, help, value);
  }
  return registry.metrics();
}

/** PURE: what a sync's summary contributes beside success, duration and end time. */
export function syncRunMetrics(summary: SyncSummary): RunFigures {
  return {
    bytesFetched: summary.bytes.fetched,
    blobsFetched: summary.blobs.fetched,
    blobsReused: summary.blobs.reused,
    repositoriesFailed: summary.repositories.failed,
    treeBytes: summary.bytes.unique,
    referencedBytes: summary.bytes.referenced,
    dedupeRatio: summary.bytes.dedupeRatio,
  };
}

/** Write `file` atomically with the metrics of a run of `command`; a fresh registry each time. */
export async function writeMetricsFile(file: string, command: RunCommand, values: RunMetrics): Promise<void> {
  await writeFileAtomic(file, await renderMetrics(command, values, await previousSuccess(file, command)));
}
