import { mkdtemp, rm, stat as statFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MediaType } from '../src/oci/media-types.js';
import { walkFiles } from '../src/store/walk.js';
import { writeTestConfig } from '../test/helpers/cli.js';
import { startRegistry } from '../test/helpers/registry.js';
import { describeMachine } from './machine.js';
import { repeat, stat, timed, wall, type ProcessRun, type Stat } from './measure.js';
import type { Machine } from './results.js';
import { pushScaleFixture, scaleManifest, scaleRepository, type ScaleSize } from './scale-fixture.js';
import { expectStatus, keepAliveAgent } from './scale-http.js';

// `npm run bench -- --size scale` (issue 17): the scale fixture in a fresh docker-registry, then,
// side by side in one run, the registry's floor (a bare keep-alive client), blobmirror's full
// sync, no-op re-sync and `sync --repo` of one repository, with peak RSS of each, and the
// metadata bytes each kind of generation writes.

export interface ScaleOptions extends ScaleSize {
  /** Times each quick figure (floors, no-op, --repo) is measured; the full sync runs once. */
  runs: number;
  cli: readonly string[];
  nodeFlags: readonly string[];
  log: (line: string) => void;
}

export interface ProcessStats {
  wallMs: Stat;
  cpuMs: Stat;
  peakRssBytes: Stat;
}

export interface ScaleResult {
  version: 1;
  size: 'scale';
  repositories: number;
  tagsPerRepository: number;
  runs: number;
  startedAt: string;
  durationMs: number;
  machine: Machine;
  pushMs: number;
  floor: { noop: ProcessStats; full: ProcessStats };
  blobmirror: { full: ProcessStats; noop: ProcessStats; repo: ProcessStats; changedRepo: ProcessStats };
  /** Bytes of metadata files a run wrote (new or rewritten), and the metadata directory's total. */
  metadata: {
    full: { all: number; withoutManifests: number };
    oneRepositoryChanged: { all: number; withoutManifests: number; files: number };
    noop: { all: number; files: number };
    totalBytes: number;
  };
}

const processStats = (runs: readonly ProcessRun[]): ProcessStats => ({
  wallMs: stat(runs.map((r) => r.wallMs)),
  cpuMs: stat(runs.map((r) => r.cpuMs)),
  peakRssBytes: stat(runs.map((r) => r.peakRssBytes)),
});

/** path -> size and mtime of every file under the metadata directory. */
async function metadataFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const relative of await walkFiles(dir)) {
    const info = await statFile(path.join(dir, relative));
    files.set(relative, `${info.size}:${info.mtimeMs}:${info.ino}`);
  }
  return files;
}

/** What a step wrote into the metadata directory: files new or rewritten since `before`. */
async function written(dir: string, before: Map<string, string>) {
  const after = await metadataFiles(dir);
  let all = 0;
  let withoutManifests = 0;
  let files = 0;
  for (const [relative, key] of after) {
    if (before.get(relative) === key) continue;
    const size = Number(key.split(':')[0]);
    files++;
    all += size;
    if (!relative.startsWith('manifests')) withoutManifests += size;
  }
  return { all, withoutManifests, files };
}

export async function runScaleBench(options: ScaleOptions): Promise<ScaleResult> {
  const { runs, cli, nodeFlags, log } = options;
  const startedAt = new Date();
  const load: Record<string, number> = {};
  const phase = (name: string, line: string) => {
    load[name] = loadavg()[0]!;
    log(line);
  };
  const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-bench-scale-'));
  const registry = await startRegistry();
  try {
    const tags = options.repositories * options.tagsPerRepository;
    phase(
      'push',
      `fixture: ${options.repositories} repositories x ${options.tagsPerRepository} tags to ${registry.url}`,
    );
    const pushed = await wall(() => pushScaleFixture(registry.url, options, log));

    const floorScript = fileURLToPath(new URL('scale-floor.js', import.meta.url));
    const floor = (mode: 'noop' | 'full') => () =>
      timed(
        {
          file: process.execPath,
          args: [...nodeFlags, floorScript, registry.url, String(options.tagsPerRepository), mode],
        },
        work,
      );
    phase('floor', `floor: catalog, ${options.repositories} tag lists, ${tags} HEADs (and ${tags} GETs)`);
    const floorNoop = await repeat(runs, floor('noop'));
    const floorFull = await repeat(runs, floor('full'));

    const config = await writeTestConfig({ registryUrl: registry.url, include: ['stable/**'] }, path.join(work, 'bm'));
    const metadata = path.join(config.root, 'metadata');
    const sync =
      (...args: string[]) =>
      async () => {
        const run = await timed(
          { file: process.execPath, args: [...cli, 'sync', '-c', config.file, '--json', ...args] },
          work,
        );
        const summary = JSON.parse(run.stdout) as { result: string; failures: unknown[] };
        if (summary.result !== 'ok')
          throw new Error(
            `blobmirror sync ${args.join(' ')}: ${summary.result}: ${JSON.stringify(summary.failures).slice(0, 500)}`,
          );
        return run;
      };
    phase('full', 'blobmirror: full sync');
    const full = await sync()();
    const fullWritten = await written(metadata, new Map());

    phase('noop', 'blobmirror: no-op re-syncs');
    let before = await metadataFiles(metadata);
    const noop = await repeat(runs, sync());
    const noopWritten = await written(metadata, before);
    phase('repo', `blobmirror: sync --repo ${scaleRepository(1)} (nothing changed)`);
    const repo = await repeat(runs, sync('--repo', scaleRepository(1)));

    // One repository changes (a new tag on a new manifest) before each run: what a bus-triggered sync does.
    phase('changed', 'blobmirror: one repository gets a new tag, then sync --repo of it');
    const agent = keepAliveAgent(1);
    const target = scaleRepository(Math.min(2, options.repositories));
    let changedBytes = { all: 0, withoutManifests: 0, files: 0 };
    const changedRepo = await repeat(runs, async (run) => {
      const body = scaleManifest(target, `new-${run}`);
      await expectStatus(201, agent, 'PUT', `${registry.url}/v2/${target}/manifests/new-${run}`, {
        headers: { 'content-type': MediaType.ociManifest, 'content-length': String(body.length) },
        body,
      });
      before = await metadataFiles(metadata);
      const result = await sync('--repo', target)();
      changedBytes = await written(metadata, before);
      return result;
    });
    agent.destroy();

    return {
      version: 1,
      size: 'scale',
      repositories: pushed.value.length,
      tagsPerRepository: options.tagsPerRepository,
      runs,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      machine: await describeMachine(work, { ...load, end: loadavg()[0]! }),
      pushMs: pushed.wallMs,
      floor: { noop: processStats(floorNoop), full: processStats(floorFull) },
      blobmirror: {
        full: processStats([full]),
        noop: processStats(noop),
        repo: processStats(repo),
        changedRepo: processStats(changedRepo),
      },
      metadata: {
        full: { all: fullWritten.all, withoutManifests: fullWritten.withoutManifests },
        oneRepositoryChanged: changedBytes,
        noop: { all: noopWritten.all, files: noopWritten.files },
        totalBytes: [...(await metadataFiles(metadata)).values()].reduce(
          (sum, key) => sum + Number(key.split(':')[0]),
          0,
        ),
      },
    };
  } finally {
    await registry.stop();
    await rm(work, { recursive: true, force: true });
  }
}
