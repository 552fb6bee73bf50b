import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Command } from 'commander';
import { parseConfig } from '../config/load.js';
import { demoSpec, generateImages } from '../demo/image-generator.js';
import { ExitCode } from '../errors.js';
import { readCurrentGeneration } from '../publish/generations.js';
import { openSource } from './open-source.js';
import { runSync } from '../sync/run.js';
import { outputFor, withOutputOptions, type CommonFlags } from './common-options.js';
import { printResult } from './output.js';
import { renderSyncSummary } from './render-sync.js';
import { logSyncSummary } from './sync.js';
import { syncProgress } from './sync-progress.js';

const DEMO_CONFIG = `# Written by \`blobmirror demo\`: the same file format a production mirror uses.
version: 1
source:
  type: oci-layout          # a registry would be: type: registry, url: https://registry.example.org
  path: layout
repositories:
  include: ["stable/**"]    # globs over the catalog; candidate/** is never selected
storage:
  root: mirror              # mirror/tree (rsync this), mirror/metadata, mirror/state
`;

export function registerDemo(program: Command): void {
  const command = program
    .command('demo')
    .summary('generate a small image set and sync it: no registry needed')
    .description(
      'Generate a small set of layered images (base -> tools -> service, a shared base layer, ' +
        'tags with aliases, a two-platform index) as an OCI layout, write a config for it, run ' +
        'sync, and show what the mirror tree looks like. Run it again: nothing is fetched twice.',
    )
    .option('-d, --dir <dir>', 'where to put layout/, config.yaml and mirror/', 'blobmirror-demo');
  withOutputOptions(command).action(async (flags: CommonFlags & { dir: string }) => {
    process.exitCode = await demoAction(flags);
  });
}

async function demoAction(flags: CommonFlags & { dir: string }): Promise<number> {
  const output = await outputFor(flags);
  const dir = path.resolve(flags.dir);
  const generated = await generateImages(demoSpec(), path.join(dir, 'layout'));
  const configFile = path.join(dir, 'config.yaml');
  await writeFile(configFile, DEMO_CONFIG);
  const config = parseConfig(DEMO_CONFIG, configFile);
  output.log.info(
    { layout: path.join(dir, 'layout'), repositories: Object.keys(generated.repositories).length },
    'generated the demo image set',
  );
  const source = await openSource(config);
  const progress = await syncProgress(output);
  const summary = await runSync(config, source, progress).finally(() => progress.stop());
  printResult(output, summary, () => renderSyncSummary(summary));
  logSyncSummary(output, summary);
  if (!output.json) process.stdout.write(await describeTree(config.storage.tree, config.storage.metadata, configFile));
  return summary.result === 'ok' ? ExitCode.ok : ExitCode.partial;
}

/** The largest blob's paths in every repository: one inode, the dedupe made visible. */
async function describeTree(tree: string, metadata: string, configFile: string): Promise<string> {
  const generation = await readCurrentGeneration(metadata);
  const repos = [...(generation?.repositories.values() ?? [])];
  const largest = repos.flatMap((repo) => Object.entries(repo.blobs)).sort(([, a], [, b]) => b.size - a.size)[0];
  const lines = ['', `tree: ${tree}`];
  if (largest) {
    const paths = repos.map((repo) => repo.blobs[largest[0]]?.path).filter((p): p is string => p !== undefined);
    const info = await stat(path.join(tree, paths[0]!));
    lines.push(
      `the largest blob (${info.size} bytes) is stored once: inode ${info.ino}, ${info.nlink} links (store + ${paths.length} repositories):`,
    );
    for (const p of paths) lines.push(`  ${p}`);
  }
  lines.push(
    `metadata: ${path.join(metadata, 'current')} -> generation ${generation?.id}`,
    '',
    'next:',
    `  rsync -aH ${tree}/ /srv/mirror/containers/     # what every mirror does`,
    `  ${invokedAs()} sync -c ${configFile} --dry-run        # a re-sync: nothing to fetch`,
    '',
  );
  return lines.join('\n');
}

/**
 * `blobmirror` when installed, else the clone's script as a path to run (`./dist/cli/main.js`):
 * executable with its `#!` line, so the node flags stay, which `node dist/cli/main.js` would drop.
 */
function invokedAs(): string {
  const script = process.argv[1] ?? 'blobmirror';
  if (path.basename(script) === 'blobmirror') return 'blobmirror';
  const relative = path.relative(process.cwd(), script);
  return relative && !relative.startsWith('..') ? `./${relative}` : script;
}
