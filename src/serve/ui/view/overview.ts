import type { ListenerStatus } from '../../../listen/state-files.js';
import type { LastRun } from '../../../report/last-run.js';
import type { RunCommand } from '../../../report/run-end.js';
import type { ByteTotals, GenerationFacts } from './facts.js';

// PURE: the overview page's data, also served as /api/overview.

type Unreadable = { unreadable: string };

export interface RunView {
  command: RunCommand;
  /** ok, partial, failed, interrupted (a run's result); a listener state; none; unknown; unreadable. */
  result: string;
  /** True when an operator should look: a failed or partial run, an unreadable record. */
  alarm: boolean;
  finishedAt: string | null;
  durationMs: number | null;
  /** Why the run failed as a whole, or the listener's last error. */
  error: { code: string; message: string } | null;
  failures: Array<{ repository: string; tag?: string; code: string; message: string }>;
  failureCount: number;
  detail: string | null;
}

export interface OverviewModel {
  now: string;
  generation: {
    id: string;
    createdAt: string;
    ageMs: number;
    repositories: number;
    tags: number;
    blobs: number;
    bytes: ByteTotals;
  } | null;
  /** Said when no generation is published yet or the metadata cannot be read. */
  generationProblem: string | null;
  runs: RunView[];
}

export interface OverviewInput {
  now: Date;
  facts: GenerationFacts | { problem: string };
  /** Each command's last run; undefined: serve was not given a state directory. */
  runs: Record<RunCommand, LastRun> | undefined;
  listener: ListenerStatus | Unreadable | null | undefined;
}

const SHOWN_FAILURES = 10;

function noRecord(command: RunView['command'], result: string, detail: string | null, alarm = false): RunView {
  return {
    command,
    result,
    alarm,
    finishedAt: null,
    durationMs: null,
    error: null,
    failures: [],
    failureCount: 0,
    detail,
  };
}

function recordedRun(command: RunCommand, record: LastRun | undefined): RunView {
  if (record === undefined) return noRecord(command, 'unknown', 'serve runs without --state');
  if (record === null) return noRecord(command, 'none', `no ${command} recorded yet`);
  if ('unreadable' in record) return noRecord(command, 'unreadable', record.unreadable, true);
  return {
    command,
    result: record.result,
    alarm: record.result !== 'ok',
    finishedAt: record.finishedAt,
    durationMs: record.durationMs,
    error: record.error,
    failures: record.failures.slice(0, SHOWN_FAILURES).map((f) => ({
      repository: f.repository,
      ...(f.tag === undefined ? {} : { tag: f.tag }),
      code: f.code,
      message: f.message,
    })),
    failureCount: record.failureCount,
    detail: record.detail,
  };
}

/** The listener's own state when it has a status file; else its last recorded run (a start that failed). */
function listenRun(status: OverviewInput['listener'], record: LastRun | undefined, now: Date): RunView {
  if (status === undefined || status === null) return recordedRun('listen', record);
  if ('unreadable' in status) return noRecord('listen', 'unreadable', status.unreadable, true);
  const trigger = status.lastTrigger;
  const failed = trigger !== null && trigger.result !== 'ok';
  return {
    command: 'listen',
    result: status.state,
    alarm: failed || status.amqp?.connected === false,
    finishedAt: trigger?.finishedAt ?? null,
    durationMs: trigger?.latencyMs ?? null,
    error: status.lastError ? { code: 'LISTENER', message: status.lastError.message } : null,
    failures: [],
    failureCount: 0,
    detail:
      `pid ${status.pid}, status written ${Math.round((now.getTime() - Date.parse(status.updatedAt)) / 1000)} s ago, ` +
      `${status.pending.length} pending, ${status.running.length} syncing` +
      (trigger ? `; last trigger ${trigger.result} (${trigger.repositories.length} repositories)` : ''),
  };
}

export function overviewModel(input: OverviewInput): OverviewModel {
  const facts = input.facts;
  const generation =
    'problem' in facts
      ? null
      : {
          id: facts.id,
          createdAt: facts.createdAt,
          ageMs: Math.max(0, input.now.getTime() - Date.parse(facts.createdAt)),
          repositories: facts.repositories,
          tags: facts.tags,
          blobs: facts.blobs,
          bytes: facts.bytes,
        };
  return {
    now: input.now.toISOString(),
    generation,
    generationProblem: 'problem' in facts ? facts.problem : null,
    runs: [
      ...(['sync', 'gc', 'verify', 'check-mirror', 'crawl'] as const).map((command) =>
        recordedRun(command, input.runs?.[command]),
      ),
      listenRun(input.listener, input.runs?.listen, input.now),
    ],
  };
}
