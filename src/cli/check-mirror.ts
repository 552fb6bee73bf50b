import { InvalidArgumentError, type Command } from 'commander';
import { checkMirror, readMasterLists, type MirrorCheckReport } from '../check-mirror/run.js';
import type { CommandReport } from '../report/run-end.js';
import { withConfigOption, withMetricsFileOption, withOutputOptions } from './common-options.js';
import { formatDuration, plural } from '../format.js';
import { reportRun, type ReportedFlags } from './run-report.js';

interface CheckMirrorFlags extends ReportedFlags {
  module?: string;
  concurrency: number;
  timeout: number;
}

function bounded(what: string, min: number, max: number, integer: boolean) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isFinite(n) || n < min || n > max || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${what} from ${min} to ${max}`);
    return n;
  };
}

export function registerCheckMirror(program: Command): void {
  const command = program
    .command('check-mirror')
    .summary("tell whether a mirror is up to date with the master's file lists, per repository")
    .description(
      "Compare a mirror with the master's current fullfiletimelist-<module> files the way " +
        "MirrorManager's crawler does: every listed file must exist on the mirror with the same " +
        'size (HTTP HEAD Content-Length, or stat for a directory). <mirror> is the URL or path of ' +
        "the mirror's copy of the tree root. Reports each repository (and module) up to date or " +
        'not, with its first missing or wrong paths. Several mirrors are checked one after another, ' +
        'in one run and one record.',
    )
    .argument('<mirror...>', "base URL (http:// or https://) or directory of a mirror's copy of the tree")
    .option('--module <name>', 'check only this module (default: all)')
    .option(
      '--concurrency <n>',
      'requests in flight at once',
      bounded('--concurrency expects a whole number', 1, 256, true),
      8,
    )
    .option(
      '--timeout <seconds>',
      'per request; a mirror that does not answer in time is reported unreachable and not asked further',
      bounded('--timeout expects seconds', 0.1, 600, false),
      10,
    )
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror check-mirror -c /etc/blobmirror/config.yaml https://mirror.example.org/pub/containers\n' +
        '  blobmirror check-mirror -c config.yaml /srv/mirror/containers --module containers-arm64\n' +
        "  blobmirror check-mirror -c config.yaml https://mirror.example.org/containers --json | jq '.repositories[] | select(.upToDate | not) | .repository'\n" +
        '  blobmirror check-mirror -c config.yaml https://a.example.org/containers https://b.example.org/containers\n' +
        '\nSeveral mirrors are all compared with the generation current when the run started; --json then\n' +
        'prints {"generation": "<id>", "mirrors": [<one mirror\'s document>, ...]}.\n' +
        '\nExit codes: 0 up to date; 1 not up to date (result partial), unreachable or the check failed;\n' +
        '2 usage or config error; 130 SIGINT, 143 SIGTERM. The run (every mirror it checked) is recorded\n' +
        'for `blobmirror status`.',
    );
  withMetricsFileOption(withOutputOptions(withConfigOption(command))).action(
    (mirrors: string[], flags: CheckMirrorFlags) =>
      reportRun('check-mirror', flags, async ({ config, signal }) => {
        const master = await readMasterLists(config.storage, flags.module);
        const reports: MirrorCheckReport[] = [];
        for (const mirror of mirrors)
          reports.push(
            await checkMirror(master, mirror, {
              concurrency: flags.concurrency,
              timeoutMs: flags.timeout * 1000,
              signal,
            }),
          );
        return mirrorsCheckReport(master.generation, reports);
      }),
  );
}

type Verdict = CommandReport['result'];
/** A mirror behind is partial; one that did not answer, failed. */
const verdict = (r: MirrorCheckReport): Verdict => (r.unreachable ? 'failed' : r.upToDate ? 'ok' : 'partial');
const outdatedOf = (r: MirrorCheckReport) => r.modules.flatMap((m) => m.outdated).length;

function mirrorState(r: MirrorCheckReport): string {
  if (r.unreachable) return `${r.mirror}: unreachable: ${r.unreachable.error}`;
  const state = r.upToDate ? 'up to date' : `${outdatedOf(r)} of ${r.repositories.length} repositories not up to date`;
  return `${r.mirror}: ${state}`;
}
const mirrorDetail = (r: MirrorCheckReport) =>
  r.unreachable ? mirrorState(r) : `${mirrorState(r)} with generation ${r.generation}`;

/**
 * PURE: what a check-mirror run reports; every mirror was compared with `generation` (read once).
 * One mirror: its own document. Several: ok when all are up to date, failed when none answered,
 * partial otherwise; the record names the generation, how many of each, the first that is not up
 * to date, and keeps every mirror's verdict in its facts.
 */
export function mirrorsCheckReport(generation: string, reports: readonly MirrorCheckReport[]): CommandReport {
  const text = reports.map(renderMirrorCheck).join('');
  if (reports.length === 1) {
    const r = reports[0]!;
    return {
      result: verdict(r),
      json: r,
      text,
      detail: mirrorDetail(r),
      failures: [],
      facts: { mirror: r.mirror, generation: r.generation, upToDate: r.upToDate, outdated: outdatedOf(r) },
      metrics: {},
    };
  }
  const verdicts = reports.map(verdict);
  const count = (v: Verdict) => verdicts.filter((x) => x === v).length;
  const firstBad = reports.find((r) => verdict(r) !== 'ok');
  return {
    result: count('ok') === reports.length ? 'ok' : count('failed') === reports.length ? 'failed' : 'partial',
    json: { generation, mirrors: reports },
    text,
    detail:
      `${reports.length} mirrors with generation ${generation}: ${count('ok')} up to date, ` +
      `${count('partial')} behind, ${count('failed')} unreachable` +
      (firstBad ? `; ${mirrorState(firstBad)}` : ''),
    failures: [],
    facts: {
      generation,
      upToDate: count('ok') === reports.length,
      mirrors: reports.map((r) => ({
        mirror: r.mirror,
        result: verdict(r),
        outdated: outdatedOf(r),
        unreachable: r.unreachable?.error ?? null,
      })),
    },
    metrics: {},
  };
}

/**
 * PURE: one line per repository, its first problem paths under it; an unreachable mirror is one
 * line naming it and the error, with what was not checked.
 */
export function renderMirrorCheck(r: MirrorCheckReport): string {
  if (r.unreachable) {
    const u = r.unreachable;
    return (
      `${r.mirror}: UNREACHABLE: ${u.error}; ${u.filesNotChecked} of ${plural(u.files, 'file')} not checked` +
      ` (generation ${r.generation})\ndone in ${formatDuration(r.durationMs)}\n`
    );
  }
  const lines = [`${r.mirror}: ${r.upToDate ? 'up to date' : 'NOT up to date'} with generation ${r.generation}`];
  for (const m of r.modules) {
    const repositories = r.repositories.filter((c) => c.module === m.module);
    lines.push(
      `module ${m.module}: ${m.upToDate ? 'up to date' : `${m.outdated.length} of ${repositories.length} repositories not up to date`} (${plural(m.files, 'file')} checked)`,
    );
    for (const c of repositories) {
      const name = c.repository || '(outside repositories)';
      if (c.upToDate) {
        lines.push(`  yes ${name}`);
        continue;
      }
      lines.push(
        `  NO  ${name}: ${c.missing} missing, ${c.wrongSize} wrong size, ${c.errors} errors of ${plural(c.files, 'file')}`,
      );
      for (const p of c.firstProblems)
        lines.push(`      ${p.problem} ${p.path}${p.problem === 'missing' ? '' : `: ${p.detail}`}`);
    }
  }
  lines.push(`done in ${formatDuration(r.durationMs)}`);
  return `${lines.join('\n')}\n`;
}
