import type { Command } from 'commander';
import { ExitCode, UsageError, describeError } from '../errors.js';
import { writeCheckerMetrics } from '../freshness/checker-metrics.js';
import { MirrorChecker, type RoundResult } from '../freshness/checker.js';
import { AmqpConsumer } from '../listen/amqp-consumer.js';
import { loadMirrorConfig } from '../mirror-list/mirror-config.js';
import { withOutputOptions, outputFor, type CommonFlags } from './common-options.js';
import { printJson } from './output.js';

interface CrawlFlags extends CommonFlags {
  metadata: string;
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
    .requiredOption('--metadata <dir>', 'metadata directory written by sync (<storage root>/metadata)')
    .requiredOption('--mirrors <file>', 'the mirror list serve uses; needs a check: section')
    .option('--once', 'one round, then exit (0: every mirror reachable, 1: some check failed)')
    .option('--metrics-file <path>', "write the checker's Prometheus metrics there after every round, atomically")
    .addHelpText(
      'after',
      '\nExamples:\n' +
        '  blobmirror crawl --metadata /srv/blobmirror/metadata --mirrors /etc/blobmirror/mirrors.yaml\n' +
        '  blobmirror crawl --metadata /srv/blobmirror/metadata --mirrors mirrors.yaml --once --json\n',
    );
  withOutputOptions(command).action(async (flags: CrawlFlags) => {
    process.exitCode = await crawlAction(flags);
  });
}

function roundFailed(round: RoundResult): boolean {
  return Object.values(round.state.mirrors).some((m) =>
    Object.values(m.modules).some((s) => s.consecutiveFailures > 0),
  );
}

async function crawlAction(flags: CrawlFlags): Promise<number> {
  const output = await outputFor(flags);
  const { log } = output;
  const mirrors = await loadMirrorConfig(flags.mirrors);
  const check = mirrors.check;
  if (!check) throw new UsageError(`${flags.mirrors} has no check: section (add "check: {}" for the defaults)`);
  const checker = new MirrorChecker(flags.metadata, mirrors, check, log);

  const oneRound = async (why: string): Promise<RoundResult> => {
    const round = await checker.round();
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
    return roundFailed(round) ? ExitCode.partial : ExitCode.ok;
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
