import { Option, type Command } from 'commander';
import { loadConfig, type Config } from '../config/load.js';
import { createOutput, type Output } from './output.js';

export const DEFAULT_CONFIG = '/etc/blobmirror/config.yaml';

export interface CommonFlags {
  config?: string;
  json?: boolean;
  logFormat?: string;
  verbose?: boolean;
  quiet?: boolean;
}

/** Output flags every command shares. */
export function withOutputOptions(command: Command): Command {
  return command
    .option('--json', 'print the result as one JSON document on stdout')
    .addOption(new Option('--log-format <format>', 'log lines on stderr: text, or json (default: json when stderr is not a terminal)').choices(['text', 'json']))
    .option('-v, --verbose', 'log debug details')
    .option('-q, --quiet', 'log only warnings and errors');
}

export function withConfigOption(command: Command): Command {
  return command.option('-c, --config <file>', `YAML config (default: $BLOBMIRROR_CONFIG or ${DEFAULT_CONFIG})`);
}

export function outputFor(flags: CommonFlags): Output {
  return createOutput(flags);
}

export function configFor(flags: CommonFlags): Promise<Config> {
  return loadConfig(flags.config ?? process.env.BLOBMIRROR_CONFIG ?? DEFAULT_CONFIG);
}
