import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { describeError, errorCode } from '../errors.js';
import { writeFileAtomic } from '../store/fs-durable.js';
import type { Failure } from './failure.js';
import type { SyncSummary } from './sync-summary.js';

// `<state>/last-run.json`: how the last sync ended, for `blobmirror status` (docs/formats.md).

export const LAST_RUN_FILE = 'last-run.json';
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
  formatVersion: z.literal(1),
  command: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  durationMs: z.number(),
  result: z.enum(['ok', 'partial', 'failed']),
  /** The current generation after the run (null before any was published). */
  generation: z.string().nullable(),
  published: z.boolean(),
  repositories: z.object({ selected: z.number(), synced: z.number(), failed: z.number() }).nullable(),
  blobs: z.object({ fetched: z.number(), reused: z.number() }).nullable(),
  bytesFetched: z.number().nullable(),
  failureCount: z.number(),
  failures: z.array(failureSchema),
  /** Why the whole run failed (lock held, registry unreachable, disk full...), or null. */
  error: z.object({ code: z.string(), message: z.string() }).nullable(),
});

export type RunRecord = z.infer<typeof runRecordSchema>;

export interface RunOutcome {
  startedAt: Date;
  finishedAt?: Date;
  /** The run's summary; absent when it threw before summarising. */
  summary?: SyncSummary;
  /** What it threw. */
  error?: unknown;
}

/** PURE */
export function runRecord(command: string, run: RunOutcome): RunRecord {
  const finished = run.finishedAt ?? new Date();
  const s = run.summary;
  const failures: Failure[] = s?.failures ?? [];
  return {
    formatVersion: 1,
    command,
    startedAt: run.startedAt.toISOString(),
    finishedAt: finished.toISOString(),
    durationMs: finished.getTime() - run.startedAt.getTime(),
    result: s && run.error === undefined ? s.result : 'failed',
    generation: s?.generation ?? null,
    published: s?.published ?? false,
    repositories: s ? s.repositories : null,
    blobs: s ? { fetched: s.blobs.fetched, reused: s.blobs.reused } : null,
    bytesFetched: s ? s.bytes.fetched : null,
    failureCount: failures.length,
    failures: failures.slice(0, MAX_FAILURES),
    error: run.error === undefined ? null : { code: errorCode(run.error), message: describeError(run.error) },
  };
}

/** Record how a sync ended (call it for failed runs too, with `error`); dry runs are not recorded. */
export async function recordRun(stateDir: string, run: RunOutcome): Promise<void> {
  await writeFileAtomic(path.join(stateDir, LAST_RUN_FILE), `${JSON.stringify(runRecord('sync', run), null, 1)}\n`);
}

/** The last run's record; null before the first one. */
export async function readLastRun(stateDir: string): Promise<RunRecord | { unreadable: string } | null> {
  let text: string;
  try {
    text = await readFile(path.join(stateDir, LAST_RUN_FILE), 'utf8');
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
