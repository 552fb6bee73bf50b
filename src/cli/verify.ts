import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { writeMetricsFile } from '../report/metrics.js';
import type { Finding } from '../verify/findings.js';
import { runVerify, type VerifyReport } from '../verify/run.js';
import { openSource } from './open-source.js';
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
import { formatBytes, formatDuration, plural } from '../format.js';
import { printResult } from './output.js';

interface VerifyFlags extends CommonFlags {
  full?: boolean;
  repair?: boolean;
  metricsFile?: string;
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
        '\nExit codes: 0 clean (warnings allowed); 1 problems left; 2 usage or config error;\n' +
        '3 another run holds the lock.',
    );
  withOutputOptions(withMetricsFileOption(withLockWaitOption(withConfigOption(command)))).action(
    async (flags: VerifyFlags) => {
      const output = await outputFor(flags);
      const config = await configFor(flags);
      const report = await runVerify(config.storage, () => openSource(config), {
        full: flags.full,
        repair: flags.repair,
        lockWaitMs: lockWaitFor(flags),
      });
      printResult(output, report, () => renderVerify(report));
      if (output.jsonLogs)
        output.log.info(
          { summary: { ...report, problems: report.problems.length, warnings: report.warnings.length } },
          `verify ${report.result}`,
        );
      if (flags.metricsFile) {
        await writeMetricsFile(flags.metricsFile, 'verify', {
          success: report.left === 0,
          durationSeconds: report.durationMs / 1000,
          problemsFound: report.problems.length,
          problemsFixed: report.repaired,
          problemsLeft: report.left,
        });
      }
      process.exitCode = report.left === 0 ? ExitCode.ok : ExitCode.partial;
    },
  );
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
