import { generateKeyPairSync } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { generateImages, type GeneratedImages, type ImageSetSpec } from '../src/demo/image-generator.js';
import type { Digest } from '../src/oci/digest.js';
import { writeTestConfig } from '../test/helpers/cli.js';
import { cosignSignature } from '../test/helpers/artifacts.js';
import { fetchManifest, pushLayout, pushManifest } from '../test/helpers/push.js';
import { startRegistry, type RegistryHandle } from '../test/helpers/registry.js';
import { createSkopeo } from '../test/helpers/skopeo.js';
import { blobmirrorSync, type SyncRun } from './blobmirror.js';
import { diskBytes, flushDirtyPages, rsyncInto } from './disk.js';
import {
  baseRebuild,
  blobSizes,
  fixture,
  incrementalTag,
  isStable,
  SINGLE_PLATFORM_REPO,
  STABLE_PATTERN,
  totalBytes,
  type BenchSize,
  type BlobSizes,
} from './fixture.js';
import { FLOOR_CONCURRENCY, floorGetProcess, floorHash, floorWrite, type FloorBlob } from './floor.js';
import { describeMachine } from './machine.js';
import { repeat, stat } from './measure.js';
import { changeStats, judgeTargets, RESULT_VERSION, syncStats, type BenchResult } from './results.js';
import { SERVE_CONNECTIONS, serveRates, startBenchServe } from './serve-rate.js';
import { skopeoSync } from './skopeo-sync.js';

export interface BenchOptions {
  size: BenchSize;
  /** Times each figure is measured (at least 3 for recorded figures). */
  runs: number;
  /** Node arguments that run the built CLI as its installed command does (flags, dist/cli/main.js). */
  cli: readonly string[];
  /** The node flags of those arguments; the GET floor's client runs with them too. */
  nodeFlags: readonly string[];
  /** Progress lines (stderr in `npm run bench`). */
  log: (line: string) => void;
}

const SERVE_SECONDS: Record<BenchSize, number> = { small: 2, large: 10 };

/**
 * One benchmark run: the fixture in a fresh docker-registry, then the floor, blobmirror, skopeo
 * and serve measured on it, one measurement at a time. Everything lives in a temp directory that
 * is removed at the end.
 */
export async function runBench(options: BenchOptions): Promise<BenchResult> {
  const { size, runs, cli, nodeFlags, log } = options;
  const startedAt = new Date();
  const load: Record<string, number> = {};
  // Other work on a 2-core machine moves every figure: record how busy it was as each phase began.
  const phase = (name: string, line: string) => {
    load[name] = loadavg()[0]!;
    log(line);
  };
  const work = await mkdtemp(path.join(tmpdir(), 'blobmirror-bench-'));
  const registry = await startRegistry();
  const skopeo = await createSkopeo();
  try {
    phase('fixture', `fixture (${size}): generating and pushing to ${registry.url}`);
    const generated = await generateImages(fixture(size), path.join(work, 'layout'));
    await pushLayout(registry, generated.dir);
    const unique = await blobSizes(generated, isStable);
    const uniqueBytes = totalBytes(unique);
    const stableRepos = Object.keys(generated.repositories).filter(isStable).sort();
    const blobs = floorBlobs(generated, unique);

    // The floor, blobmirror's full sync and skopeo's, in turn within each round, so whatever else
    // loads the machine weighs on the three alike and their ratios stay fair. skopeo's copies
    // are measured in the last round, then removed and written back before anything else runs.
    let config: { file: string; root: string } | undefined;
    const skopeoDir = path.join(work, 'skopeo');
    let skopeoDisk = { diskBytes: 0, rsyncBytesSent: 0 };
    const rounds = await repeat(runs, async (run) => {
      phase(
        `round ${run}`,
        `round ${run}/${runs}: floor (GET, sha256, fsync'd writes of ${blobs.length} blobs, ${uniqueBytes} bytes), blobmirror full sync, skopeo sync`,
      );
      const floor = {
        get: await floorGetProcess(registry.url, blobs, nodeFlags, work),
        hashOneCore: await floorHash(generated.dir, blobs, work, 1),
        hash: await floorHash(generated.dir, blobs, work, availableParallelism()),
        write: await floorWrite(path.join(work, 'floor-write'), blobs),
        got: await floorGetProcess(registry.url, blobs, nodeFlags, work, 'got'),
        fetch: await floorGetProcess(registry.url, blobs, nodeFlags, work, 'fetch'),
      };
      if (config) await rm(path.dirname(config.root), { recursive: true, force: true });
      config = await writeTestConfig(
        { registryUrl: registry.url, include: [STABLE_PATTERN] },
        path.join(work, `blobmirror-${run}`),
      );
      // What the last steps wrote or deleted is flushed first (a filesystem mounted with `discard`
      // trims freed blocks at the next commit), so no run pays for an earlier one's disk work.
      await flushDirtyPages();
      const full = await blobmirrorSync(cli, config.file, registry, work);
      await flushDirtyPages();
      const skopeoRun = await skopeoSync(skopeo, registry.host, stableRepos, skopeoDir, work);
      if (run === runs)
        skopeoDisk = {
          diskBytes: await diskBytes(skopeoDir),
          rsyncBytesSent: (await rsyncInto(skopeoDir, work)).bytesSent,
        };
      await rm(skopeoDir, { recursive: true, force: true });
      await flushDirtyPages();
      return { floor, full, skopeo: skopeoRun };
    });
    const floorParts = {
      get: stat(rounds.map((r) => r.floor.get.wallMs)),
      hash: stat(rounds.map((r) => r.floor.hash.wallMs)),
      write: stat(rounds.map((r) => r.floor.write.wallMs)),
    };
    // The CPU the three parts need together, spread over every core: a second floor, the one that
    // binds when the machine is CPU-bound (GET, hash and write then compete for the same cores).
    const cpuFloor = stat(
      rounds.map((r) => (r.floor.get.cpuMs + r.floor.hash.cpuMs + r.floor.write.cpuMs) / availableParallelism()),
    );
    const slowest = (['get', 'hash', 'write'] as const).reduce((a, b) =>
      floorParts[a].median >= floorParts[b].median ? a : b,
    );
    const floorMs = floorParts[slowest].median;
    const full = rounds.map((r) => r.full);
    const skopeoRuns = rounds.map((r) => r.skopeo);

    phase('disk', 'du and rsync -aH of the blobmirror tree');
    const { file: configFile, root } = config!;
    const tree = path.join(root, 'tree');
    const treeDiskBytes = await diskBytes(tree);
    const rootDiskBytes = await diskBytes(root);
    const treeRsync = await rsyncInto(tree, work);

    const sync = () => blobmirrorSync(cli, configFile, registry, work);
    phase('noop', 'blobmirror: no-op re-syncs');
    const noop = await repeat(runs, sync);

    phase('serve', `serve: ${SERVE_SECONDS[size]} s of autocannon per figure`);
    const server = await startBenchServe(path.join(root, 'metadata'), work);
    const rates = await repeat(runs, () =>
      serveRates(
        server.url,
        {
          manifestPath: `/v2/${SINGLE_PLATFORM_REPO}/manifests/1.0`,
          blobPath: `/v2/${SINGLE_PLATFORM_REPO}/blobs/${generated.repositories[SINGLE_PLATFORM_REPO]!.blobs[0]!}`,
        },
        SERVE_SECONDS[size],
      ),
    ).finally(() => server.stop());

    const known = new Set(unique.keys());
    const change = (label: string, spec: (size: BenchSize, run: number) => ImageSetSpec) =>
      repeat(runs, async (run) => {
        const layout = path.join(work, `${label}-${run}`);
        const added = newBlobs(await blobSizes(await generateImages(spec(size, run), layout), isStable), known);
        await pushLayout(registry, layout);
        await rm(layout, { recursive: true, force: true });
        await flushDirtyPages();
        const result: SyncRun & { newBytes: number } = { ...(await sync()), newBytes: totalBytes(added) };
        for (const digest of added.keys()) known.add(digest);
        return result;
      });
    phase('incremental', 'blobmirror: incremental syncs (one new tag each)');
    const incremental = await change('incremental', incrementalTag);
    phase('baseRebuild', 'blobmirror: base rebuilds (every repository gets a tag on a new base)');
    const rebuild = await change('rebuild', baseRebuild);

    // Attachments (issue 16): what a run where nothing changed costs once images are signed.
    // The same tree unsigned first: the changes above added tags since the no-op was measured.
    phase('signedNoop', "blobmirror: no-op re-syncs before and after every stable repository's latest is signed");
    const unsignedNoop = await repeat(runs, sync);
    await signLatest(registry, stableRepos);
    await sync();
    const signedNoop = await repeat(runs, sync);

    const fullStats = syncStats(full);
    const skopeoWall = stat(skopeoRuns.map((r) => r.wallMs));
    const partial: Omit<BenchResult, 'targets'> = {
      version: RESULT_VERSION,
      size,
      runs,
      startedAt: startedAt.toISOString(),
      durationMs: Date.now() - startedAt.getTime(),
      machine: await describeMachine(work, { ...load, end: loadavg()[0]! }),
      fixture: {
        stableRepositories: stableRepos.length,
        stableTags: stableRepos.reduce((n, repo) => n + Object.keys(generated.repositories[repo]!.tags).length, 0),
        candidateRepositories: Object.keys(generated.repositories).length - stableRepos.length,
        indexes: countIndexes(fixture(size)),
        uniqueBlobs: unique.size,
        uniqueBytes,
        registryBytes: generated.blobBytes,
      },
      floor: {
        getMs: floorParts.get,
        hashMs: floorParts.hash,
        hashOneCoreMs: stat(rounds.map((r) => r.floor.hashOneCore.wallMs)),
        writeMs: floorParts.write,
        cpuFloorMs: cpuFloor,
        clients: {
          got: stat(rounds.map((r) => r.floor.got.wallMs)),
          fetch: stat(rounds.map((r) => r.floor.fetch.wallMs)),
        },
        cores: availableParallelism(),
        concurrency: FLOOR_CONCURRENCY,
        floorMs,
        slowest,
      },
      blobmirror: {
        full: fullStats,
        noop: syncStats(noop),
        attachments: {
          signedImages: stableRepos.length,
          unsigned: syncStats(unsignedNoop),
          signed: syncStats(signedNoop),
        },
        incremental: changeStats(incremental),
        baseRebuild: changeStats(rebuild),
        treeDiskBytes,
        rootDiskBytes,
        rsyncBytesSent: treeRsync.bytesSent,
      },
      skopeo: {
        wallMs: skopeoWall,
        cpuMs: stat(skopeoRuns.map((r) => r.cpuMs)),
        peakRssBytes: stat(skopeoRuns.map((r) => r.peakRssBytes)),
        ...skopeoDisk,
      },
      serve: {
        seconds: SERVE_SECONDS[size],
        connections: SERVE_CONNECTIONS,
        manifestRps: stat(rates.map((r) => r.manifestRps)),
        blobRedirectRps: stat(rates.map((r) => r.blobRedirectRps)),
      },
      ratios: {
        fullOverFloor: fullStats.wallMs.median / floorMs,
        fullOverCpuFloor: fullStats.wallMs.median / cpuFloor.median,
        skopeoOverFull: skopeoWall.median / fullStats.wallMs.median,
        treeDiskOverUnique: treeDiskBytes / uniqueBytes,
        rsyncOverUnique: treeRsync.bytesSent / uniqueBytes,
        skopeoDiskOverUnique: skopeoDisk.diskBytes / uniqueBytes,
      },
    };
    return { ...partial, targets: judgeTargets(partial) };
  } finally {
    await registry.stop();
    await skopeo.dispose();
    await rm(work, { recursive: true, force: true });
  }
}

/** Each unique blob with a stable repository that holds it (a blob GET is scoped to one). */
function floorBlobs(generated: GeneratedImages, unique: BlobSizes): FloorBlob[] {
  const holder = new Map<Digest, string>();
  for (const [repository, { blobs }] of Object.entries(generated.repositories)) {
    if (isStable(repository)) for (const digest of blobs) if (!holder.has(digest)) holder.set(digest, repository);
  }
  return [...unique].map(([digest, size]) => ({ repository: holder.get(digest)!, digest, size }));
}

function newBlobs(sizes: BlobSizes, known: ReadonlySet<Digest>): BlobSizes {
  return new Map([...sizes].filter(([digest]) => !known.has(digest)));
}

function countIndexes(spec: ImageSetSpec): number {
  return spec.repositories
    .filter((repo) => isStable(repo.name))
    .flatMap((repo) => repo.tags)
    .filter((tag) => tag.multiPlatform).length;
}

/** A cosign signature (`sha256-<hex>.sig`) for the `latest` of each repository, as cosign pushes it. */
async function signLatest(registry: RegistryHandle, repositories: readonly string[]): Promise<void> {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  for (const repository of repositories) {
    const latest = await fetchManifest(registry, repository, 'latest');
    const digest = latest.digest as Digest;
    const signature = cosignSignature(privateKey, [{ dockerReference: `${registry.host}/${repository}`, digest }]);
    await pushManifest(registry, repository, signature, `sha256-${digest.slice('sha256:'.length)}.sig`);
  }
}
