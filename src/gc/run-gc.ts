import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import type { Digest } from '../oci/digest.js';
import { markFileListsStale, publishFileLists } from '../publish/file-list-record.js';
import { readAllGenerations, staleStagingDirs, type Generation } from '../publish/generations.js';
import { MANIFESTS, REPOSITORIES } from '../publish/metadata-paths.js';
import type { GcSummary } from '../report/gc-summary.js';
import { isTempFileName } from '../store/fs-durable.js';
import { acquireLock } from '../store/lock.js';
import { objectDigest, stateLayout, treeBlobDigest } from '../store/paths.js';
import { walkFiles } from '../store/walk.js';
import { applyGc, gcSummary } from './apply-gc.js';
import { planGc, type GcFacts, type StoredFile } from './plan-gc.js';

export interface GcOptions {
  dryRun?: boolean;
  now?: Date;
  lockWaitMs?: number;
  /** Called by sync, which already holds the tree lock. */
  lockHeld?: boolean;
  /** Aborted (SIGINT/SIGTERM): stop before removing anything; removals under way finish. */
  signal?: AbortSignal;
}

/** The slices of the config gc reads. */
export type GcConfig = {
  storage: Config['storage'];
  metadata: Pick<Config['metadata'], 'keepGenerations'>;
  retention: Pick<Config['retention'], 'graceDays'>;
};

const PENDING_FILE = 'gc-pending.json';

async function stored(file: string): Promise<StoredFile & { links: number; ino: number }> {
  const info = await stat(file);
  return { path: file, size: info.size, mtimeMs: info.mtimeMs, links: info.nlink, ino: info.ino };
}

/** A directory as one removable thing: its files' bytes, its own mtime. */
async function storedDir(dir: string): Promise<StoredFile> {
  const sizes = await Promise.all((await walkFiles(dir)).map(async (f) => (await stat(path.join(dir, f))).size));
  return { path: dir, size: sizes.reduce((a, b) => a + b, 0), mtimeMs: (await stat(dir)).mtimeMs };
}

/** What gc decides from: the kept generations' references and every file it may remove. */
async function readGcFacts(config: GcConfig, generations: readonly Generation[], now: Date): Promise<GcFacts> {
  const { tree, metadata, state } = config.storage;
  const layout = stateLayout(state);
  const keep = generations.slice(-config.metadata.keepGenerations);
  const referencedPaths = new Set<string>();
  const referencedDigests = new Set<string>();
  const referencedManifests = new Set<string>();
  const currentDigests = new Set(
    [...(generations.at(-1)?.repositories.values() ?? [])].flatMap((repo) => Object.keys(repo.blobs)),
  );
  const referencedRepositoryFiles = new Set<string>();
  for (const generation of keep) {
    if (generation.index.formatVersion !== 1)
      for (const ref of Object.values(generation.index.repositories)) referencedRepositoryFiles.add(ref.path);
    for (const repo of generation.repositories.values()) {
      for (const [digest, blob] of Object.entries(repo.blobs)) {
        referencedDigests.add(digest);
        for (const relative of Object.values(blob.modules)) referencedPaths.add(relative);
      }
      for (const entry of Object.values(repo.manifests)) referencedManifests.add(entry.path);
    }
  }
  const treeFiles = await walkFiles(tree);
  const treeLinks = new Map<string, { digest: Digest; ino?: number }>();
  for (const file of treeFiles) {
    const digest = treeBlobDigest(file);
    // Only unreferenced links can go; their inode says which object they hold a link of.
    if (digest)
      treeLinks.set(
        file,
        referencedPaths.has(file) ? { digest } : { digest, ino: (await stat(path.join(tree, file))).ino },
      );
  }
  const under = (root: string) => async (relative: string) => stored(path.join(root, relative));
  // Files of a metadata subdirectory, with their path relative to the metadata directory.
  const metadataFiles = async (dir: string) =>
    Promise.all(
      (await walkFiles(path.join(metadata, dir))).map(async (relative) => ({
        ...(await under(path.join(metadata, dir))(relative)),
        relative: `${dir}/${relative.split(path.sep).join('/')}`,
      })),
    );
  return {
    now,
    graceDays: config.retention.graceDays,
    referencedPaths,
    referencedDigests,
    currentDigests,
    referencedManifests,
    treeLinks,
    pending: JSON.parse(await readFile(path.join(state, PENDING_FILE), 'utf8').catch(() => '{}')) as Record<
      string,
      string
    >,
    objects: await Promise.all(
      (await walkFiles(layout.objects)).map(async (relative) => ({
        ...(await under(layout.objects)(relative)),
        digest: objectDigest(relative),
      })),
    ),
    manifests: await metadataFiles(MANIFESTS),
    referencedRepositoryFiles,
    repositoryFiles: await metadataFiles(REPOSITORIES),
    temps: [
      ...(await Promise.all(treeFiles.filter((f) => isTempFileName(path.basename(f))).map(under(tree)))),
      ...(await Promise.all((await walkFiles(layout.tmp)).map(under(layout.tmp)))),
    ],
    partials: await Promise.all((await walkFiles(layout.partial)).map(under(layout.partial))),
    staging: await Promise.all((await staleStagingDirs(metadata)).map(storedDir)),
    generations: generations.map((g) => g.id),
    keepGenerations: config.metadata.keepGenerations,
  };
}

/**
 * Garbage collection under the tree lock, read -> plan -> apply: links unreferenced for the grace
 * period, then store objects whose only link is the store's, manifests no kept generation names,
 * generations beyond the kept count, and temp files left by crashes. Nothing a kept generation
 * references is touched. A dry run returns the plan's summary and changes nothing.
 */
export async function runGc(config: GcConfig, options: GcOptions = {}): Promise<GcSummary> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const { tree, metadata, state } = config.storage;
  const lock =
    options.lockHeld || dryRun
      ? undefined
      : await acquireLock(stateLayout(state).lock, {
          command: 'gc',
          waitMs: options.lockWaitMs ?? 0,
          ...(options.signal ? { signal: options.signal } : {}),
        });
  try {
    const generations = await readAllGenerations(metadata);
    const plan = planGc(await readGcFacts(config, generations, now));
    const summary = gcSummary(plan, tree, dryRun);
    options.signal?.throwIfAborted();
    if (!dryRun) {
      await markFileListsStale(state);
      const pendingFile = path.join(state, PENDING_FILE);
      summary.generationsRemoved = await applyGc(
        plan,
        { tree, metadata, pendingFile },
        config.metadata.keepGenerations,
      );
      // A sync running gc writes the file lists itself, after.
      const current = generations.at(-1);
      if (!options.lockHeld && current)
        await publishFileLists(tree, metadata, current.id, current.index.modules, { stateDir: state });
    }
    summary.durationMs = Date.now() - started;
    return summary;
  } finally {
    await lock?.release();
  }
}
