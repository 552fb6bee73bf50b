import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import { TimeoutError, UsageError } from '../errors.js';
import { deadlineSignal } from '../source/deadline.js';
import { logRetries, openSource } from './open-source.js';
import { planRun, runSync } from '../sync/run.js';
import type { SyncSummary } from '../report/sync-summary.js';
import type { SyncPlan } from '../sync/plan.js';
import { syncRunMetrics } from '../report/metrics.js';
import type { CommandReport } from '../report/run-end.js';
import {
  lockWaitFor,
  withConfigOption,
  withLockWaitOption,
  withMetricsFileOption,
  withOutputOptions,
} from './common-options.js';
import type { Output } from './output.js';
import { planView, renderPlan } from './render-plan.js';
import { renderSyncSummary, syncDetail } from './render-sync.js';
import { reportRun, type ReportedFlags, type RunContext } from './run-report.js';
import { syncProgress } from './sync-progress.js';

interface SyncFlags extends ReportedFlags {
  repo?: string[];
  deadline?: string;
}

export function registerSync(program: Command): void {
  const command = program
    .command('sync')
    .summary('pull the selected repositories into the tree and publish metadata')
    .description(
      'Pull the repositories the config selects: list tags, HEAD each (unchanged tags cost no ' +
        'manifest GET), fetch new manifests and only the blobs the store lacks, verify every ' +
        'digest while streaming, hardlink blobs into <tree>/<repo>/_blobs/sha256/<hex>, then ' +
        'publish a new metadata generation atomically.',
    )
    .option(
      '-r, --repo <name...>',
      'sync only these repositories (they must be selected by the config); others keep their published state',
    )
    .option('-n, --dry-run', 'print the plan (tags new/changed/removed, blobs and bytes to fetch) and write nothing')
    .option(
      '--deadline <seconds>',
      'stop every registry request still open after this long (TIMEOUT); default source.runDeadlineSeconds, none',
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror sync -c /etc/blobmirror/config.yaml              # cron: everything selected\n' +
        '  blobmirror sync -c config.yaml --repo fedora/toolbox --dry-run\n' +
        '  blobmirror sync -c config.yaml --json > last-sync.json      # machine-readable summary\n' +
        '\nExit codes: 0 all selected repositories synced; 1 some failed (the others were still\n' +
        'published) or the run failed (source unreachable, disk full); 2 usage or config error;\n' +
        '3 another run holds the lock; 130 SIGINT, 143 SIGTERM (stopped before new work; the next\n' +
        'run resumes). Every end is reported: --json, --metrics-file and `blobmirror status`.',
    );
  withMetricsFileOption(withOutputOptions(withLockWaitOption(withConfigOption(command)))).action((flags: SyncFlags) =>
    reportRun('sync', flags, (run) => syncAction(flags, run)),
  );
}

async function syncAction(flags: SyncFlags, { output, config, signal }: RunContext): Promise<CommandReport> {
  const lockWaitMs = lockWaitFor(flags);
  const deadline = runDeadline(flags, config);
  const source = await openSource(config, {
    ...logRetries(output.log),
    signal: deadline ? AbortSignal.any([deadline, signal]) : signal,
  });
  const progress = await syncProgress(output, { dryRun: flags.dryRun });
  let summary: SyncSummary;
  let plan: SyncPlan | undefined;
  try {
    if (flags.dryRun) ({ plan, summary } = await planRun(config, source, progress, { repositories: flags.repo }));
    else summary = await runSync(config, source, progress, { repositories: flags.repo, lockWaitMs, signal });
  } finally {
    progress.stop();
    await source.close();
  }
  logSyncSummary(output, summary);
  return syncReport(summary, plan);
}

/** The whole run's deadline: a signal every request of the source honours. */
function runDeadline(flags: SyncFlags, config: Config): AbortSignal | undefined {
  const seconds =
    flags.deadline !== undefined
      ? Number(flags.deadline)
      : config.source.type === 'registry'
        ? config.source.runDeadlineSeconds
        : undefined;
  if (seconds === undefined) return undefined;
  if (!Number.isFinite(seconds) || seconds <= 0)
    throw new UsageError(`--deadline expects seconds, got ${JSON.stringify(flags.deadline)}`);
  const named = flags.deadline !== undefined ? '--deadline' : 'source.runDeadlineSeconds';
  return deadlineSignal(
    seconds * 1000,
    () => new TimeoutError(`the run's deadline of ${seconds} s (${named}) passed; requests still open were stopped`),
  );
}

/** What a sync (or, with its plan, a dry run) reports on every channel; a dry run prints the whole plan too. */
export function syncReport(summary: SyncSummary, plan?: SyncPlan): CommandReport {
  return {
    result: summary.result,
    json: plan ? { ...summary, planned: planView(plan) } : summary,
    text: plan ? renderPlan(plan, summary) : renderSyncSummary(summary),
    detail: syncDetail(summary),
    failures: summary.failures,
    failureCount: summary.failureCount,
    facts: {
      generation: summary.generation ?? null,
      published: summary.published,
      repositories: summary.repositories,
      blobs: { fetched: summary.blobs.fetched, reused: summary.blobs.reused },
      bytesFetched: summary.bytes.fetched,
      failureCodes: summary.failureCodes,
    },
    metrics: syncRunMetrics(summary),
  };
}

/** The log gets each failure and, as JSON lines, the summary (stdout's is cli/run-report's). */
export function logSyncSummary(output: Output, summary: SyncSummary): void {
  for (const f of summary.failures)
    output.log.error(f, `sync failed for ${f.repository}${f.tag ? `:${f.tag}` : ''}: ${f.message}`);
  // cron's log gets the whole summary as one JSON line; a terminal already saw it on stdout.
  if (output.jsonLogs) {
    const { plan: _plan, ...fields } = summary;
    output.log.info({ summary: fields }, `sync ${summary.result}`);
  }
}
