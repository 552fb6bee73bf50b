// PURE: how a run ended, in the forms the channels need: the result, the run-level error, the
// --json document and the metrics. cli/run-report.ts writes them for every command that reports
// runs (sync, gc, verify, check-mirror, listen; crawl per round), however the run ended.
import { ExitCode, InterruptedError, describeError, errorCode } from '../errors.js';
import type { Failure } from './failure.js';
import type { RunFigures, RunMetrics } from './metrics.js';

export const RUN_COMMANDS = ['sync', 'gc', 'verify', 'check-mirror', 'crawl', 'listen'] as const;
export type RunCommand = (typeof RUN_COMMANDS)[number];

/**
 * ok: did all it was asked; partial: finished, but some of it failed or found problems;
 * failed: a run-level error ended it (or nothing succeeded); interrupted: a signal stopped it.
 */
export type RunResult = 'ok' | 'partial' | 'failed' | 'interrupted';

export interface RunError {
  code: string;
  message: string;
}

/** What a command that finished says about its run. */
export interface CommandReport {
  result: 'ok' | 'partial' | 'failed';
  /** The --json document; `result` and `error` are set from the run's end. */
  json: object;
  /** stdout's text (unless --json or -q). */
  text: string;
  /** One line for `status` and the status page: what the run did. */
  detail: string;
  failures: readonly Failure[];
  /** All failures when `failures` holds only the first ones (a sync's summary caps its list). */
  failureCount?: number;
  /** The command's own figures, kept in its last-run record. */
  facts: Record<string, unknown>;
  /** Its figures for the metrics file, beside success, duration and end time. */
  metrics: RunFigures;
}

export interface RunEnd {
  command: RunCommand;
  startedAt: Date;
  finishedAt: Date;
  /** Absent when the run threw. */
  report?: CommandReport;
  /** What ended it early: what it threw, or the InterruptedError of a signal (then `report` may be set too). */
  error?: unknown;
}

export function runResult(end: RunEnd): RunResult {
  if (end.error instanceof InterruptedError) return 'interrupted';
  if (end.error !== undefined || !end.report) return 'failed';
  return end.report.result;
}

export function runError(end: RunEnd): RunError | null {
  return end.error === undefined ? null : { code: errorCode(end.error), message: describeError(end.error) };
}

export const durationMs = (end: RunEnd): number => end.finishedAt.getTime() - end.startedAt.getTime();

/** The --json document: the command's own, or, when it threw, what is known of the run. */
export function runJson(end: RunEnd): object {
  const ended = { result: runResult(end), error: runError(end) };
  if (end.report) return { ...end.report.json, ...ended };
  return {
    command: end.command,
    ...ended,
    startedAt: end.startedAt.toISOString(),
    finishedAt: end.finishedAt.toISOString(),
    durationMs: durationMs(end),
  };
}

/** The metrics file's values: success only for an ok run; the command's figures when it finished. */
export function runMetrics(end: RunEnd): RunMetrics {
  return {
    ...end.report?.metrics,
    success: runResult(end) === 'ok',
    durationSeconds: durationMs(end) / 1000,
    finishedAt: end.finishedAt,
  };
}

/** 0 for an ok run, 1 for a partial or failed one that did not throw (thrown errors carry their own). */
export const exitStatus = (result: RunResult): number => (result === 'ok' ? ExitCode.ok : ExitCode.partial);
