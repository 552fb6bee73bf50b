import type { Command } from 'commander';
import { ExitCode, UsageError, describeError } from '../errors.js';
import { writeCheckerMetrics } from '../freshness/checker-metrics.js';
import { MirrorChecker, type RoundResult } from '../freshness/checker.js';
import { AmqpConsumer } from '../listen/amqp-consumer.js';
import { loadMirrorConfig } from '../mirror-list/mirror-config.js';
import { recordRun } from '../report/last-run.js';
import type { CommandReport, RunEnd } from '../report/run-end.js';
import { plural } from '../format.js';
import { configFor, withConfigOption, withOutputOptions, outputFor, type CommonFlags } from './common-options.js';
import { printJson } from './output.js';

interface CrawlFlags extends CommonFlags {
  metadata?: string;
  mirrors: string;
  once?: boolean;
  metricsFile?: string;
}

export function registerCrawl(program: Command): void {
  const command = program
    .command('crawl')
    .summary('the mirror checker: learn which generation each mirror holds, for freshness routing')
    .description(
      "Checks every mirror of the mirror list, per module, every check.intervalSeconds: a conditional GET of the mirror's " +
        'fullfiletimelist-<module>, then a HEAD of each file added since the generation it was verified at. ' +
        'Writes <metadata>/mirror-state.json, which every serve process routes by. With check.announcements it ' +
        'also checks as soon as sync announces a generation. See docs/serving.md, "Mirror freshness".',
    )
    .option('--metadata <dir>', "metadata directory written by sync (<storage root>/metadata); default: the config's")
    .requiredOption('--mirrors <file>', 'the mirror list serve uses; needs a check: section')
    .option('--once', 'one round, then exit (0: every mirror reachable, 1: some check failed)')
    .option('--metrics-file <path>', "write the checker's Prometheus metrics there after every round, atomically")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror crawl -c /etc/blobmirror/config.yaml --mirrors /etc/blobmirror/mirrors.yaml\n' +
        '  blobmirror crawl --metadata /srv/blobmirror/metadata --mirrors /etc/blobmirror/mirrors.yaml\n' +
        '  blobmirror crawl --metadata /srv/blobmirror/metadata --mirrors mirrors.yaml --once --json\n' +
        '\nThe config (-c, $BLOBMIRROR_CONFIG or the default) gives storage.metadata (unless --metadata)\n' +
        'and storage.state, where each round is recorded for blobmirror status (last-run/crawl.json).\n' +
        '--metadata with neither -c nor $BLOBMIRROR_CONFIG reads no config: the metadata directory is all\n' +
        'a round needs, so a checker on a host without the config runs, and records nothing.\n',
    );
  withOutputOptions(withConfigOption(command)).action(async (flags: CrawlFlags) => {
    process.exitCode = await crawlAction(flags);
  });
}

/** Mirror URL -> its last error, for each mirror a module of which failed its check this round. */
function failingMirrors(round: RoundResult): Map<string, string> {
  const failing = new Map<string, string>();
  for (const [url, mirror] of Object.entries(round.state.mirrors))
    for (const state of Object.values(mirror.modules))
      if (state.consecutiveFailures > 0 && !failing.has(url)) failing.set(url, state.lastError?.message ?? 'failed');
  return failing;
}

/** PURE: a round as a run record: partial when some mirror's check failed (not when it merely lags). */
export function crawlRoundReport(round: RoundResult): CommandReport {
  const failing = failingMirrors(round);
  const generation = round.master?.current ?? null;
  const mirrors = Object.values(round.state.mirrors);
  const current = mirrors.filter(
    (m) =>
      generation !== null &&
      Object.values(m.modules).length > 0 &&
      Object.values(m.modules).every((s) => s.verifiedGeneration === generation),
  ).length;
  const first = [...failing][0];
  return {
    result: failing.size ? 'partial' : 'ok',
    json: round.state,
    text: '',
    detail:
      `${plural(mirrors.length, 'mirror')} checked against generation ${generation ?? '(none)'}: ${current} verified at it` +
      (first ? `, ${failing.size} failing (${first[0]}: ${first[1]}${failing.size > 1 ? ', ...' : ''})` : ''),
    failures: [],
    facts: { generation, mirrors: mirrors.length, current, failing: [...failing.keys()], requests: round.requests },
    metrics: {},
  };
}

async function crawlAction(flags: CrawlFlags): Promise<number> {
  const output = await outputFor(flags);
  const { log } = output;
  // --metadata alone is all a round needs: no config is read (nor any round recorded) unless one
  // is named; otherwise the config is found as every command finds it.
  const named = flags.config !== undefined || process.env.BLOBMIRROR_CONFIG !== undefined;
  const config = flags.metadata !== undefined && !named ? undefined : await configFor(flags);
  const metadata = flags.metadata ?? config!.storage.metadata;
  const mirrors = await loadMirrorConfig(flags.mirrors);
  const check = mirrors.check;
  if (!check) throw new UsageError(`${flags.mirrors} has no check: section (add "check: {}" for the defaults)`);
  const checker = new MirrorChecker(metadata, mirrors, check, log);

  /** With a config, every round is recorded as a run, however it ended (a failed record is a warning). */
  const record = async (end: RunEnd) => {
    if (config)
      await recordRun(config.storage.state, end).catch((error: unknown) =>
        log.warn(`cannot write the crawl run record for blobmirror status: ${describeError(error)}`),
      );
  };
  const oneRound = async (why: string): Promise<RoundResult> => {
    const startedAt = new Date();
    const round = await checker.round().catch(async (error: unknown) => {
      await record({ command: 'crawl', startedAt, finishedAt: new Date(), error });
      throw error;
    });
    await record({ command: 'crawl', startedAt, finishedAt: new Date(), report: crawlRoundReport(round) });
    if (flags.metricsFile) await writeCheckerMetrics(flags.metricsFile, round);
    log.info(
      { why, generation: round.master?.current, requests: round.requests, durationMs: round.durationMs },
      `checked ${mirrors.mirrors.length} mirror(s)`,
    );
    return round;
  };
  if (flags.once) {
    const round = await oneRound('once');
    if (output.json) printJson(round.state);
    return failingMirrors(round).size ? ExitCode.partial : ExitCode.ok;
  }

  let stopped = false;
  let wake: (() => void) | undefined;
  let announced = false;
  const consumer = check.announcements
    ? new AmqpConsumer(
        check.announcements,
        {
          onDelivery: (delivery) => {
            // The check is the whole reaction and the next interval repeats it: ack at once.
            consumer?.settle(delivery.token, 'ack');
            log.info({ routingKey: delivery.message.routingKey }, 'generation announced: checking now');
            announced = true;
            wake?.();
          },
          onLost: () => {},
          onConnection: (connected) => log.info(`announcements ${connected ? 'connected' : 'disconnected'}`),
        },
        log,
      )
    : undefined;
  await consumer?.start();
  const stop = (signal: NodeJS.Signals) => {
    log.info(`${signal}: stopping after the round in progress`);
    stopped = true;
    wake?.();
  };
  process.once('SIGTERM', stop).once('SIGINT', stop);
  let why = 'start';
  while (!stopped) {
    announced = false;
    try {
      await oneRound(why);
    } catch (error) {
      log.error(`check round failed: ${describeError(error)}`);
    }
    if (stopped) break;
    if (announced) {
      why = 'announcement';
      continue;
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, check.intervalSeconds * 1000);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
    why = announced ? 'announcement' : 'interval';
  }
  await consumer?.close();
  return ExitCode.ok;
}
