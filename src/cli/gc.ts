import { Option, type Command } from 'commander';
import { UsageError } from '../errors.js';
import { runGc } from '../gc/run-gc.js';
import type { GcSummary } from '../report/gc-summary.js';
import type { CommandReport } from '../report/run-end.js';
import {
  lockWaitFor,
  withConfigOption,
  withLockWaitOption,
  withMetricsFileOption,
  withOutputOptions,
} from './common-options.js';
import { formatBytes, formatDuration, plural } from '../format.js';
import { reportRun, type ReportedFlags } from './run-report.js';

interface GcFlags extends ReportedFlags {
  now?: string;
}

export function registerGc(program: Command): void {
  const command = program
    .command('gc')
    .summary('remove tree links, objects, manifests and generations nothing needs any more')
    .description(
      'Garbage collection under the tree lock. A tree link no kept metadata generation references ' +
        'stays for retention.graceDays (mirrors and clients hold older metadata), then is removed; ' +
        "a store object whose only link is the store's is deleted; manifest files no kept generation " +
        'names, generations beyond metadata.keepGenerations, staging directories of a publish that never ' +
        'finished, and temp files left by crashes go too. metadata.keepGenerations N keeps the newest N ' +
        'generations, the current one included; whatever any of them references stays, so a blob the ' +
        'current generation dropped goes only once every kept generation that has it is gone. ' +
        'Nothing the current or a kept generation references is ever removed.',
    )
    .option('-n, --dry-run', 'print what would be removed and the bytes freed; change nothing')
    .addOption(new Option('--now <iso-time>', 'pretend it is this time (tests, and planning ahead)').hideHelp())
    .addHelpText(
      'after',
      '\nExamples:\n  blobmirror gc -c /etc/blobmirror/config.yaml --dry-run\n  blobmirror gc -c /etc/blobmirror/config.yaml --wait-lock 3600   # after a sync, from cron\n' +
        '\nExit codes: 0 done; 1 the run failed (disk, read-only); 2 usage or config error; 3 another run\n' +
        'holds the lock; 130 SIGINT, 143 SIGTERM (stopped before removing anything). Every end is\n' +
        'reported: --json, --metrics-file and `blobmirror status`.\n',
    );
  withMetricsFileOption(withOutputOptions(withLockWaitOption(withConfigOption(command)))).action((flags: GcFlags) =>
    reportRun('gc', flags, async ({ output, config, signal }) => {
      const now = flags.now === undefined ? undefined : new Date(flags.now);
      if (now && Number.isNaN(now.getTime()))
        throw new UsageError(`--now expects an ISO time, got ${JSON.stringify(flags.now)}`);
      const summary = await runGc(config, {
        dryRun: flags.dryRun,
        lockWaitMs: lockWaitFor(flags),
        signal,
        ...(now ? { now } : {}),
      });
      if (output.jsonLogs) output.log.info({ summary: { ...summary, removed: summary.removed.length } }, 'gc finished');
      return gcReport(summary, output.level === 'debug');
    }),
  );
}

/** What a gc reports on every channel (it has no partial result: what it cannot remove fails it). */
function gcReport(s: GcSummary, verbose: boolean): CommandReport {
  const { removed: _removed, ...counts } = s;
  return {
    result: 'ok',
    json: s,
    text: renderGc(s, verbose),
    detail:
      `${s.dryRun ? 'would remove' : 'removed'} ${s.linksRemoved} links, ${s.objectsRemoved} objects, ` +
      `${s.manifestsRemoved} manifests, ${s.generationsRemoved} generations, ${s.stagingRemoved} unfinished generation directories, ` +
      `${s.tempFilesRemoved} temp files; ` +
      `freed ${formatBytes(s.bytesFreed)}`,
    failures: [],
    facts: counts,
    metrics: { bytesFreed: s.bytesFreed },
  };
}

/** PURE: what metadata.keepGenerations kept, and what that keeps in the store. */
function retainedLines(s: GcSummary): string[] {
  const { keepGenerations: keep, generations, olderOnly } = s.retained;
  if (generations.length === 0) return ['kept no generation: nothing is published yet'];
  const range = generations.length > 1 ? `${generations[0]}..${generations.at(-1)}` : generations[0]!;
  const lines = [
    `kept ${plural(generations.length, 'generation')} (${range}): metadata.keepGenerations ${keep} keeps the newest ${keep}` +
      (generations.length < keep ? `, and there are only ${generations.length}` : '') +
      (s.generationsRemoved ? `; ${s.dryRun ? 'would remove' : 'removed'} ${s.generationsRemoved} older` : ''),
  ];
  if (olderOnly.blobs > 0)
    lines.push(
      `kept ${plural(olderOnly.blobs, 'blob')} (${formatBytes(olderOnly.bytes)}) the current generation no longer uses: an older kept generation references them`,
    );
  return lines;
}

export function renderGc(s: GcSummary, verbose: boolean): string {
  const verb = s.dryRun ? 'would remove' : 'removed';
  const lines = [
    `${verb} ${s.linksRemoved} tree links (${s.linksPending} unreferenced links still in their grace period)`,
    `${verb} ${s.objectsRemoved} store objects, ${s.manifestsRemoved} manifests, ${s.generationsRemoved} generations, ${s.repositoryFilesRemoved} repository files, ${s.stagingRemoved} unfinished generation directories, ${s.tempFilesRemoved} temp files`,
    ...retainedLines(s),
    `${s.dryRun ? 'would free' : 'freed'} ${formatBytes(s.bytesFreed)} in ${formatDuration(s.durationMs)}`,
  ];
  if (verbose || s.dryRun) lines.push(...s.removed.map((r) => `  ${r}`));
  return `${lines.join('\n')}\n`;
}
