import type { Command } from 'commander';
import type { Config } from '../config/load.js';
import { ExitCode } from '../errors.js';
import { isRepositorySelected } from '../sync/select.js';
import { configFor, outputFor, withConfigOption, withOutputOptions, type CommonFlags } from './common-options.js';
import { checkMachine, type MachineCheck } from './machine-checks.js';
import { printJson } from './output.js';

interface CheckConfigFlags extends CommonFlags {
  repo?: string[];
  machine: boolean;
}

export function registerCheckConfig(program: Command): void {
  const command = program
    .command('check-config')
    .summary('validate a config file and this machine for it, without contacting anything')
    .description(
      'Parse and validate the YAML config (exit 2 listing every problem with its key path, line and column), ' +
        'then check on this machine what sync would trip on before its first request: the password or docker ' +
        'config file and TLS files readable, storage directories writable (or creatable), tree and state on ' +
        'one filesystem so blobs can be hardlinked. Prints the resolved paths and selection; exit 2 if a check ' +
        'fails. Writes nothing; credentials are never printed.',
    )
    .option(
      '-r, --repo <name...>',
      'also say which of these repositories the config selects (for scripts routing messages)',
    )
    .option('--no-machine', 'validate the file alone (e.g. rendered before the machine has its files)')
    .addHelpText(
      'after',
      '\nExamples:\n  blobmirror check-config -c /etc/blobmirror/config.yaml && systemctl start blobmirror-sync\n' +
        '  blobmirror check-config -c config.yaml --json --repo fedora/toolbox candidate/x   # "selected", "notSelected"\n',
    );
  withOutputOptions(withConfigOption(command)).action(async (flags: CheckConfigFlags) => {
    const output = await outputFor(flags);
    const config = await configFor(flags);
    const asked = flags.repo ?? [];
    const selection = asked.length
      ? {
          selected: asked.filter((name) => isRepositorySelected(config.repositories, name)),
          notSelected: asked.filter((name) => !isRepositorySelected(config.repositories, name)),
        }
      : {};
    const checks = flags.machine ? await checkMachine(config) : [];
    const ready = checks.every((check) => check.ok);
    if (output.json) printJson({ valid: true, ready, ...shownConfig(config), ...selection, checks });
    else process.stdout.write(renderText(config, selection, checks, flags.machine));
    process.exitCode = ready ? ExitCode.ok : ExitCode.usage;
  });
}

function shownConfig(config: Config) {
  const source =
    config.source.type === 'registry'
      ? { type: 'registry', url: config.source.url, auth: config.source.auth ? 'configured' : 'none' }
      : config.source;
  return {
    file: config.file,
    source,
    repositories: config.repositories,
    tags: config.tags,
    platforms: config.platforms,
    storage: config.storage,
    modules: config.modules,
    retention: config.retention,
  };
}

const list = (items: readonly string[], none = 'none') => (items.length ? items.join(', ') : none);

function renderText(
  config: Config,
  selection: { selected?: string[]; notSelected?: string[] },
  checks: MachineCheck[],
  machine: boolean,
): string {
  const { source, repositories, tags, storage } = config;
  const lines = [
    `${config.file}: valid`,
    source.type === 'registry'
      ? `  source        registry ${source.url} (auth: ${source.auth ? 'configured' : 'none'})`
      : `  source        oci-layout ${source.path}`,
    `  repositories  include ${list(repositories.include)}; exclude ${list(repositories.exclude)}`,
    `  tags          include ${list(tags.include, 'all')}; exclude ${list(tags.exclude)}` +
      (tags.keepNewest ? `; keep the newest ${tags.keepNewest}` : ''),
    `  platforms     ${list(config.platforms, 'all')}`,
    `  storage       tree ${storage.tree}`,
    `                metadata ${storage.metadata}`,
    `                state ${storage.state}`,
  ];
  if (selection.selected) lines.push(`  selected      ${list(selection.selected)}`);
  if (selection.notSelected) lines.push(`  not selected  ${list(selection.notSelected)}`);
  if (machine) {
    lines.push('this machine:');
    for (const check of checks) lines.push(`  ${check.ok ? 'ok  ' : 'FAIL'}  ${check.what}: ${check.detail}`);
    const failedCount = checks.filter((check) => !check.ok).length;
    lines.push(
      failedCount
        ? `not ready: sync would stop on ${failedCount === 1 ? 'this problem' : `these ${failedCount} problems`}`
        : 'ready for sync',
    );
  }
  return `${lines.join('\n')}\n`;
}
