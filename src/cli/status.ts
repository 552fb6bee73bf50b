import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import type { LastRun } from '../report/last-run.js';
import { describeHolder } from '../store/lock.js';
import { collectStatus, type StatusReport } from '../status/collect.js';
import { configFor, outputFor, withConfigOption, withOutputOptions, type CommonFlags } from './common-options.js';
import { formatBytes, formatDuration, plural } from '../format.js';
import { printJson } from './output.js';
import { renderMirrorFreshness } from './render-mirror-freshness.js';

export function registerStatus(program: Command): void {
  const command = program
    .command('status')
    .summary('show the last run of each command, the published generation, dedupe, the lock holder and the listener')
    .description(
      'Read-only (takes no lock, so it answers while a sync runs): how the last run of each command ' +
        '(sync, gc, verify, check-mirror, listen) ended, when, how long it took, and for a failed or ' +
        'interrupted run its error and failures (<state>/last-run/<command>.json), the current metadata generation with its repositories, ' +
        "tags, blobs and bytes unique vs referenced, who holds the tree lock, and the listener's " +
        'status file when there is one (queue depth, last message, last trigger latency), and the ' +
        "mirror checker's freshness table (<metadata>/mirror-state.json: per mirror and module the " +
        'verified generation, lag in generations and time, last check, failures in a row, in or out of rotation).',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  blobmirror status -c /etc/blobmirror/config.yaml\n  blobmirror status -c config.yaml --json | jq .runs.sync.result\n',
    );
  withOutputOptions(withConfigOption(command)).action(async (flags: CommonFlags) => {
    const output = await outputFor(flags);
    const report = await collectStatus(await configFor(flags));
    if (output.json) printJson(report);
    else process.stdout.write(renderStatus(report));
    process.exitCode = ExitCode.ok;
  });
}

const since = (from: string, to: Date) => formatDuration(Math.max(0, to.getTime() - Date.parse(from)));

/** PURE (given `now`): one fact per line. */
export function renderStatus(s: StatusReport, now = new Date()): string {
  const lines = ['last runs:', ...Object.entries(s.runs).flatMap(([command, run]) => runLines(command, run, now))];
  const g = s.generation;
  if (!g) lines.push('current generation: none published yet');
  else if ('unreadable' in g) lines.push(`current generation: unreadable (${g.unreadable})`);
  else {
    lines.push(
      `current generation: ${g.id}, created ${g.createdAt} (${since(g.createdAt, now)} ago), modules ${g.modules.join(', ')}`,
    );
    lines.push(
      `  ${g.repositories} ${g.repositories === 1 ? 'repository' : 'repositories'}, ${plural(g.tags, 'tag')}, ${plural(g.blobs, 'blob')}`,
    );
    lines.push(
      `  disk: ${formatBytes(g.bytes.unique)} unique for ${formatBytes(g.bytes.referenced)} referenced (dedupe ${g.bytes.dedupeRatio}x)`,
    );
  }
  lines.push(`lock: ${s.lock ? `held by ${describeHolder(s.lock)}` : 'free'}`);
  lines.push(...listenerLines(s.listener, now));
  lines.push(...renderMirrorFreshness(s.mirrors, now));
  return `${lines.join('\n')}\n`;
}

/** A command's last run: result, end, duration, what it did, and for a failed one its error and failures. */
function runLines(command: string, run: LastRun, now: Date): string[] {
  if (!run) return [`  ${command}: none recorded`];
  if ('unreadable' in run) return [`  ${command}: record unreadable (${run.unreadable})`];
  const lines = [
    `  ${command}: ${run.result}, ended ${run.finishedAt} (${since(run.finishedAt, now)} ago) after ${formatDuration(run.durationMs)}`,
  ];
  if (run.error) lines.push(`    error ${run.error.code}: ${run.error.message}`);
  if (run.detail) lines.push(`    ${run.detail}`);
  for (const f of run.failures)
    lines.push(
      `    FAILED ${[f.repository, f.tag && `tag ${f.tag}`, f.digest].filter(Boolean).join(' ')}: ${f.code}: ${f.message}`,
    );
  if (run.failureCount > run.failures.length)
    lines.push(`    ... and ${run.failureCount - run.failures.length} more failures`);
  return lines;
}

function listenerLines(l: StatusReport['listener'], now: Date): string[] {
  if (!l) return ['listener: no status file'];
  if ('unreadable' in l) return [`listener: status unreadable (${l.unreadable})`];
  const lines = [
    `listener: ${l.state} (pid ${l.pid}, status written ${since(l.updatedAt, now)} ago), ${l.pending.length} pending, ${l.running.length} syncing`,
  ];
  if (l.amqp)
    lines.push(
      `  amqp queue ${l.amqp.queue}: ${l.amqp.connected ? 'connected' : 'DISCONNECTED'}, depth ${l.amqp.queueDepth ?? 'unknown'}, ${l.amqp.unacked} unacked`,
    );
  if (l.lastMessage)
    lines.push(`  last message ${l.lastMessage.at}: ${l.lastMessage.outcome} (${l.lastMessage.detail})`);
  if (l.lastTrigger)
    lines.push(
      `  last trigger: ${l.lastTrigger.result} in ${formatDuration(l.lastTrigger.latencyMs)} from trigger to ${l.lastTrigger.result === 'ok' ? 'published' : 'end'}, at ${l.lastTrigger.finishedAt}`,
    );
  if (l.lastError) lines.push(`  last error ${l.lastError.at}: ${l.lastError.message}`);
  return lines;
}
