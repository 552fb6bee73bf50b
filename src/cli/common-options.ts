import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/load.js';
import { UsageError } from '../errors.js';
import { createOutput, type Output } from './output.js';

export const DEFAULT_CONFIG = '/etc/blobmirror/config.yaml';

export interface CommonFlags {
  config?: string;
  waitLock?: string;
  json?: boolean;
  logFormat?: string;
  verbose?: boolean;
  quiet?: boolean;
}

/** Output flags every command shares. */
export function withOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print the result as one JSON document on stdout')
    .addOption(
      new Option(
        '--log-format <format>',
        'log lines on stderr: text, or json (default: json when stderr is not a terminal)',
      ).choices(['text', 'json']),
    )
    .option('-v, --verbose', 'log debug details')
    .option('-q, --quiet', 'print only errors (on stderr): no summary, no progress (for cron mail)');
}

export function withConfigOption(command: Command): Command {
  return command.option('-c, --config <file>', `YAML config (default: $BLOBMIRROR_CONFIG or ${DEFAULT_CONFIG})`);
}

export function outputFor(flags: CommonFlags): Promise<Output> {
  return createOutput(flags);
}

export function configFor(flags: CommonFlags): Promise<Config> {
  return loadConfig(flags.config ?? process.env.BLOBMIRROR_CONFIG ?? DEFAULT_CONFIG);
}

/** For commands that take the tree lock: queue behind a holder instead of exiting 3. */
export function withLockWaitOption(command: Command): Command {
  return command.option(
    '--wait-lock <seconds>',
    'wait up to this long for another run holding the tree lock (default: fail at once with exit 3)',
  );
}

export function lockWaitFor(flags: CommonFlags): number {
  if (flags.waitLock === undefined) return 0;
  const seconds = Number(flags.waitLock);
  if (!Number.isFinite(seconds) || seconds < 0)
    throw new UsageError(`--wait-lock expects seconds, got ${JSON.stringify(flags.waitLock)}`);
  return seconds * 1000;
}

/** For sync, gc and verify: node_exporter's textfile collector reads the file (report/metrics.ts). */
export function withMetricsFileOption(command: Command): Command {
  return command.option(
    '--metrics-file <path>',
    "write this run's Prometheus metrics there, atomically (one file per command, e.g. <textfile dir>/blobmirror-verify.prom)",
  );
}
