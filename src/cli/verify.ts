import type { Command } from 'commander';
import type { CommandReport } from '../report/run-end.js';
import type { Finding } from '../verify/findings.js';
import { runVerify, type VerifyReport } from '../verify/run.js';
import { openSource } from './open-source.js';
import {
  lockWaitFor,
  withConfigOption,
  withLockWaitOption,
  withMetricsFileOption,
  withOutputOptions,
} from './common-options.js';
import { formatBytes, formatDuration, plural } from '../format.js';
import { reportRun, type ReportedFlags } from './run-report.js';

interface VerifyFlags extends ReportedFlags {
  full?: boolean;
  repair?: boolean;
}

/** Lines of findings shown per kind before "... and N more" (--json has them all). */
const SHOWN_PER_KIND = 20;

export function registerVerify(program: Command): void {
  const command = program
    .command('verify')
    .summary('check the tree, the store and the manifests against the metadata; --repair fixes them')
    .description(
      'Check, under the tree lock, everything the current and kept metadata generations reference: ' +
        'each blob is in the store with its size and every tree path of it (in every module) is a ' +
        'hardlink of that object; each manifest file has its size and digest. Reports temp files ' +
        'left by crashes, tree files no generation references and objects linked nowhere (the ' +
        "last two are gc's: warnings only). --full re-hashes every object on all cores. --repair " +
        'relinks copies and missing paths, moves corrupt objects to <state>/quarantine/ and fetches ' +
        'them again from the source, fetches bad manifests again and removes temp files, then checks again.',
    )
    .option('--full', 're-hash every object in the store (reads all blob bytes; reports MB/s)')
    .option('--repair', 'fix what can be fixed, then check again')
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror verify -c /etc/blobmirror/config.yaml                 # quick: sizes and links\n' +
        '  blobmirror verify -c config.yaml --full --repair --wait-lock 3600  # weekly, after the sync\n' +
        '  blobmirror verify -c config.yaml --json | jq \'.problems[] | .kind + " " + .path\'\n' +
        '  blobmirror verify -c config.yaml --metrics-file /var/lib/node_exporter/textfile/blobmirror-verify.prom\n' +
        '\nExit codes: 0 clean (warnings allowed); 1 problems left (result partial) or the run failed;\n' +
        '2 usage or config error; 3 another run holds the lock; 130 SIGINT, 143 SIGTERM.',
    );
  withOutputOptions(withMetricsFileOption(withLockWaitOption(withConfigOption(command)))).action((flags: VerifyFlags) =>
    reportRun('verify', flags, async ({ output, config, signal }) => {
      const report = await runVerify(config.storage, () => openSource(config, { signal }), {
        full: flags.full,
        repair: flags.repair,
        lockWaitMs: lockWaitFor(flags),
        signal,
      });
      if (output.jsonLogs)
        output.log.info(
          { summary: { ...report, problems: report.problems.length, warnings: report.warnings.length } },
          `verify ${report.left === 0 ? 'clean' : 'found problems'}`,
        );
      return verifyReport(report);
    }),
  );
}

/** What a verify reports on every channel: partial while problems are left. */
function verifyReport(r: VerifyReport): CommandReport {
  return {
    result: r.left === 0 ? 'ok' : 'partial',
    json: r,
    text: renderVerify(r),
    detail:
      `${r.left === 0 ? 'clean' : `${plural(r.left, 'problem')} left`} (${plural(r.problems.length, 'problem')} found, ` +
      `${r.repaired} repaired, ${plural(r.warnings.length, 'warning')}); generation ${r.current ?? 'none'}` +
      (r.full ? `, re-hashed ${formatBytes(r.full.bytes)}` : ''),
    failures: [],
    facts: {
      current: r.current,
      problems: r.problems.length,
      repaired: r.repaired,
      left: r.left,
      full: r.full !== null,
    },
    metrics: { problemsFound: r.problems.length, problemsFixed: r.repaired, problemsLeft: r.left },
  };
}

function findingLines(findings: readonly Finding[]): string[] {
  const lines: string[] = [];
  const kinds = [...new Set(findings.map((f) => f.kind))];
  for (const kind of kinds) {
    const ofKind = findings.filter((f) => f.kind === kind);
    for (const f of ofKind.slice(0, SHOWN_PER_KIND)) {
      const repair = f.repair
        ? f.repair.done
          ? ` -> repaired: ${f.repair.detail}`
          : ` -> NOT repaired: ${f.repair.detail}`
        : '';
      lines.push(`  ${kind} ${f.path}: ${f.detail}${repair}`);
    }
    if (ofKind.length > SHOWN_PER_KIND)
      lines.push(`  ... and ${ofKind.length - SHOWN_PER_KIND} more ${kind} (see --json)`);
  }
  return lines;
}

/** PURE: the human report, one fact per line. */
export function renderVerify(r: VerifyReport): string {
  const lines = [
    `checked ${plural(r.generations.length, 'generation')} (current ${r.current ?? 'none'}): ${r.checked.repositories} ${r.checked.repositories === 1 ? 'repository' : 'repositories'}, ` +
      `${plural(r.checked.blobs, 'blob')} at ${plural(r.checked.paths, 'tree path')}, ${plural(r.checked.manifests, 'manifest')}, ${plural(r.checked.objects, 'stored object')}`,
  ];
  if (r.full)
    lines.push(
      `re-hashed ${plural(r.full.objects, 'object')}, ${formatBytes(r.full.bytes)} in ${r.full.seconds} s (${r.full.megabytesPerSecond} MB/s)`,
    );
  if (r.problems.length) lines.push(`${plural(r.problems.length, 'problem')}:`, ...findingLines(r.problems));
  if (r.warnings.length)
    lines.push(`${plural(r.warnings.length, 'warning')} (not failures):`, ...findingLines(r.warnings));
  const outcome = r.left === 0 ? 'clean' : `${plural(r.left, 'problem')} left`;
  lines.push(`done in ${formatDuration(r.durationMs)}: ${outcome}${r.repaired ? ` (${r.repaired} repaired)` : ''}`);
  return `${lines.join('\n')}\n`;
}
