import type { Command } from 'commander';
import { ExitCode } from '../errors.js';
import { isRepositorySelected } from '../sync/select.js';
import { configFor, outputFor, withConfigOption, withOutputOptions, type CommonFlags } from './common-options.js';
import { printJson } from './output.js';

export function registerCheckConfig(program: Command): void {
  const command = program
    .command('check-config')
    .summary('validate a config file and show what it selects, without contacting anything')
    .description(
      'Parse and validate the YAML config (exit 2 with the key path, line and column of the first problem) and print the resolved storage paths and selection. Credentials are never printed.',
    )
    .option(
      '-r, --repo <name...>',
      'also say which of these repositories the config selects (for scripts routing messages)',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  blobmirror check-config -c /etc/blobmirror/config.yaml && systemctl start blobmirror-sync\n' +
        '  blobmirror check-config -c config.yaml --json --repo fedora/toolbox candidate/x   # "selected", "notSelected"\n',
    );
  withOutputOptions(withConfigOption(command)).action(async (flags: CommonFlags & { repo?: string[] }) => {
    const output = await outputFor(flags);
    const config = await configFor(flags);
    const source =
      config.source.type === 'registry'
        ? { type: 'registry', url: config.source.url, auth: config.source.auth ? 'configured' : 'none' }
        : config.source;
    const asked = flags.repo ?? [];
    const selection = asked.length
      ? {
          selected: asked.filter((name) => isRepositorySelected(config.repositories, name)),
          notSelected: asked.filter((name) => !isRepositorySelected(config.repositories, name)),
        }
      : {};
    const shown = {
      file: config.file,
      source,
      repositories: config.repositories,
      tags: config.tags,
      platforms: config.platforms,
      storage: config.storage,
      modules: config.modules,
      retention: config.retention,
      ...selection,
    };
    if (output.json) printJson({ valid: true, ...shown });
    else process.stdout.write(`${config.file}: valid\n${JSON.stringify(shown, null, 2)}\n`);
    process.exitCode = ExitCode.ok;
  });
}
