import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { describeError } from '../errors.js';
import { writeFileAtomic } from '../store/fs-durable.js';
import { lastRunPath, stateLayout } from '../store/paths.js';
import { RUN_COMMANDS, durationMs, runError, runResult, type RunCommand, type RunEnd } from './run-end.js';

// `<state>/last-run/<command>.json`: how the last run of each command ended, for `blobmirror
// status` and the status page (docs/formats.md). One file per command, so commands that do not
// share the tree lock (check-mirror, listen) never overwrite each other's record.

/** A run failing everywhere would otherwise write one entry per tag; the count stays exact. */
const MAX_FAILURES = 50;

const failureSchema = z.object({
  repository: z.string(),
  tag: z.string().optional(),
  digest: z.string().optional(),
  code: z.string(),
  message: z.string(),
});

const runRecordSchema = z.object({
  formatVersion: z.literal(2),
  command: z.enum(RUN_COMMANDS),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  result: z.enum(['ok', 'partial', 'failed', 'interrupted']),
  /** Why the whole run failed or stopped (lock held, registry unreachable, disk full, a signal), or null. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
  /** What the run did, in one line; null when it ended before it could say. */
  detail: z.string().nullable(),
  failureCount: z.number(),
  failures: z.array(failureSchema),
  /** The command's own figures (sync: generation, repositories, blobs...), empty when it threw. */
  facts: z.record(z.string(), z.unknown()),
});

export type RunRecord = z.infer<typeof runRecordSchema>;
export type LastRun = RunRecord | { unreadable: string } | null;

/** PURE */
export function runRecord(end: RunEnd): RunRecord {
  const failures = end.report?.failures ?? [];
  return {
    formatVersion: 2,
    command: end.command,
    startedAt: end.startedAt.toISOString(),
    finishedAt: end.finishedAt.toISOString(),
    durationMs: durationMs(end),
    result: runResult(end),
    error: runError(end),
    detail: end.report?.detail ?? null,
    failureCount: end.report?.failureCount ?? failures.length,
    failures: failures.slice(0, MAX_FAILURES).map((f) => ({ ...f })),
    facts: end.report?.facts ?? {},
  };
}

/** Replace the command's record with how this run ended (failed and interrupted runs too). */
export async function recordRun(stateDir: string, end: RunEnd): Promise<void> {
  await writeFileAtomic(
    lastRunPath(stateLayout(stateDir), end.command),
    `${JSON.stringify(runRecord(end), null, 1)}\n`,
  );
}

/** The last run of `command`; null before the first one. */
export async function readLastRun(stateDir: string, command: RunCommand): Promise<LastRun> {
  let text: string;
  try {
    text = await readFile(lastRunPath(stateLayout(stateDir), command), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    return { unreadable: describeError(error) };
  }
  try {
    return runRecordSchema.parse(JSON.parse(text));
  } catch (error) {
    const issue = error instanceof z.ZodError ? error.issues[0] : undefined;
    return { unreadable: issue ? `${issue.path.join('.')}: ${issue.message}` : describeError(error) };
  }
}

/** Every command's last run, in RUN_COMMANDS order. */
export async function readLastRuns(stateDir: string): Promise<Record<RunCommand, LastRun>> {
  const records = await Promise.all(RUN_COMMANDS.map((command) => readLastRun(stateDir, command)));
  return Object.fromEntries(RUN_COMMANDS.map((command, i) => [command, records[i]!])) as Record<RunCommand, LastRun>;
}
