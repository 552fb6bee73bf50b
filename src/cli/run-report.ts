import type { Config } from '../config/load.js';
import { describeError } from '../errors.js';
import { recordRun } from '../report/last-run.js';
import { writeMetricsFile } from '../report/metrics.js';
import {
  exitStatus,
  runJson,
  runMetrics,
  runResult,
  type CommandReport,
  type RunCommand,
  type RunEnd,
} from '../report/run-end.js';
import { configFor, outputFor, type CommonFlags } from './common-options.js';
import { interruptOnSignals } from './interrupt.js';
import { printResult, type Output } from './output.js';

/** What a command's run gets: its output, its loaded config, and the signal that stops it. */
export interface RunContext {
  output: Output;
  config: Config;
  /** Aborted (reason: InterruptedError) by the first SIGINT/SIGTERM: start no new work. */
  signal: AbortSignal;
}

export interface ReportedFlags extends CommonFlags {
  metricsFile?: string;
  /** sync and gc: a dry run changes nothing, so it is neither recorded nor in the metrics file. */
  dryRun?: boolean;
}

/**
 * Run a command's action so that it reports however it ends: finished (ok or partial), a
 * run-level error (config, lock held, source unreachable, disk full) or a signal. Every channel
 * asked for gets the same end: --json on stdout (text otherwise), the metrics file, the
 * command's last-run record in the state dir (none when the config could not be loaded: there
 * is no state dir then). A thrown error is then rethrown, so main's one catch prints it and maps
 * its code to the exit status (2 config, 3 locked, 130/143 signals, 1 otherwise).
 */
export async function reportRun(
  command: RunCommand,
  flags: ReportedFlags,
  run: (context: RunContext) => Promise<CommandReport>,
  /** A service (listen) runs until a signal: stopping on one is how it ends, not an interruption. */
  options: { stopsOnSignal?: boolean } = {},
): Promise<void> {
  const startedAt = new Date();
  const output = await outputFor(flags);
  const signal = interruptOnSignals(output.log);
  let config: Config | undefined;
  let report: CommandReport | undefined;
  let error: unknown;
  try {
    config = await configFor(flags);
    report = await run({ output, config, signal });
  } catch (thrown) {
    error = thrown;
  }
  // A signal during the run ends it as interrupted, whatever the run made of the abort (an
  // aborted request fails as INTERRUPTED, a run that reached publishing returns its summary).
  if (signal.aborted && !(options.stopsOnSignal && report)) error = signal.reason;
  const end: RunEnd = {
    command,
    startedAt,
    finishedAt: new Date(),
    ...(report ? { report } : {}),
    ...(error === undefined ? {} : { error }),
  };
  printResult(output, runJson(end), () => report?.text ?? '');
  // A dry run changed nothing, finished or not: the record and the metrics keep the last real run.
  if (!flags.dryRun) await writeChannels(end, output, flags.metricsFile, config);
  if (error !== undefined) throw error;
  process.exitCode = exitStatus(runResult(end));
}

/**
 * The metrics file and the last-run record (none without a config: no state dir is known);
 * failing to write one is a warning, never the run's result.
 */
async function writeChannels(
  end: RunEnd,
  output: Output,
  metricsFile: string | undefined,
  config: Config | undefined,
): Promise<void> {
  const warn = (what: string) => (error: unknown) => output.log.warn(`cannot write ${what}: ${describeError(error)}`);
  await Promise.all([
    metricsFile
      ? writeMetricsFile(metricsFile, end.command, runMetrics(end)).catch(warn(`the metrics file ${metricsFile}`))
      : undefined,
    config
      ? recordRun(config.storage.state, end).catch(warn(`the ${end.command} run record for blobmirror status`))
      : undefined,
  ]);
}
