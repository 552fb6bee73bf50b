import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import { ExitCode, TimeoutError, UsageError } from '../errors.js';
import { deadlineSignal } from '../source/deadline.js';
import { logRetries, openSource } from './open-source.js';
import { planRun, runSync } from '../sync/run.js';
import type { SyncSummary } from '../report/sync-summary.js';
import type { SyncPlan } from '../sync/plan.js';
import { syncRunMetrics, writeMetricsFile } from '../report/metrics.js';
import {
  configFor,
  lockWaitFor,
  outputFor,
  withConfigOption,
  withLockWaitOption,
  withMetricsFileOption,
  withOutputOptions,
  type CommonFlags,
} from './common-options.js';
import { printResult, type Output } from './output.js';
import { planView, renderPlan } from './render-plan.js';
import { renderSyncSummary } from './render-sync.js';
import { syncProgress } from './sync-progress.js';

interface SyncFlags extends CommonFlags {
  repo?: string[];
  dryRun?: boolean;
  metricsFile?: string;
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
        'published); 2 usage or config error; 3 another run holds the lock.',
    );
  withMetricsFileOption(withOutputOptions(withLockWaitOption(withConfigOption(command)))).action(
    async (flags: SyncFlags) => {
      process.exitCode = await syncAction(flags);
    },
  );
}

async function syncAction(flags: SyncFlags): Promise<number> {
  const output = await outputFor(flags);
  const config = await configFor(flags);
  const lockWaitMs = lockWaitFor(flags);
  const deadline = runDeadline(flags, config);
  const source = await openSource(config, { ...logRetries(output.log), ...(deadline ? { signal: deadline } : {}) });
  const progress = await syncProgress(output, { dryRun: flags.dryRun });
  let summary: SyncSummary;
  let plan: SyncPlan | undefined;
  try {
    if (flags.dryRun) ({ plan, summary } = await planRun(config, source, progress, { repositories: flags.repo }));
    else summary = await runSync(config, source, progress, { repositories: flags.repo, lockWaitMs });
  } finally {
    progress.stop();
    await source.close();
  }
  // A dry run prints the summary's fields as a run does (scripts read those) and the whole plan.
  if (plan) report(output, summary, renderPlan(plan, summary), { ...summary, planned: planView(plan) });
  else {
    report(output, summary);
    if (flags.metricsFile) await writeMetricsFile(flags.metricsFile, 'sync', syncRunMetrics(summary));
  }
  return summary.result === 'ok' ? ExitCode.ok : ExitCode.partial;
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

/** stdout gets the summary (text, or JSON with --json; nothing with -q), the log each failure and, as JSON lines, the summary. */
export function report(
  output: Output,
  summary: SyncSummary,
  text = renderSyncSummary(summary),
  json: unknown = summary,
): void {
  printResult(output, json, () => text);
  for (const f of summary.failures)
    output.log.error(f, `sync failed for ${f.repository}${f.tag ? `:${f.tag}` : ''}: ${f.message}`);
  // cron's log gets the whole summary as one JSON line; a terminal already saw it on stdout.
  if (output.jsonLogs) {
    const { plan: _plan, ...fields } = summary;
    output.log.info({ summary: fields }, `sync ${summary.result}`);
  }
}
