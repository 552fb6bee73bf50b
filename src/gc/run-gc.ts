import { readFile, readdir, rmdir, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { publishFileLists } from '../publish/file-list-record.js';
import { MANIFESTS, pruneGenerations, readAllGenerations } from '../publish/generations.js';
import { isTempFileName, writeFileAtomic } from '../store/fs-durable.js';
import { acquireLock } from '../store/lock.js';
import { stateLayout } from '../store/paths.js';
import type { GcSummary } from '../report/gc-summary.js';
import { isBlobPath, planTreeGc } from './plan-gc.js';

const DAY_MS = 86_400_000;
/** A temp file this old cannot belong to a running writer (the lock is held, too). */
const TEMP_AGE_MS = 3_600_000;

export interface GcOptions {
  dryRun?: boolean;
  now?: Date;
  lockWaitMs?: number;
  /** Called by sync, which already holds the tree lock. */
  lockHeld?: boolean;
}

async function walk(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** Remove now-empty directories up to (not including) `root`. */
async function pruneEmptyDirs(root: string, file: string): Promise<void> {
  for (let dir = path.dirname(path.join(root, file)); dir.startsWith(`${root}${path.sep}`); dir = path.dirname(dir)) {
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
}

/**
 * Garbage collection under the tree lock: links unreferenced for the grace period, then store
 * objects whose only link is the store's, manifests no kept generation names, generations beyond
 * the kept count, and temp files left by crashes. Nothing a kept generation references is touched.
 */
export async function runGc(config: Config, options: GcOptions = {}): Promise<GcSummary> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const dryRun = options.dryRun ?? false;
  const layout = stateLayout(config.storage.state);
  const lock =
    options.lockHeld || dryRun
      ? undefined
      : await acquireLock(layout.lock, { command: 'gc', waitMs: options.lockWaitMs ?? 0 });
  try {
    const summary: GcSummary = {
      dryRun,
      linksRemoved: 0,
      linksPending: 0,
      objectsRemoved: 0,
      manifestsRemoved: 0,
      generationsRemoved: 0,
      tempFilesRemoved: 0,
      bytesFreed: 0,
      removed: [],
      durationMs: 0,
    };
    const remove = async (file: string, what: string) => {
      summary.removed.push(`${what} ${file}`);
      if (!dryRun) await unlink(file);
    };
    const generations = await readAllGenerations(config.storage.metadata);
    const keep = generations.slice(-config.metadata.keepGenerations);
    const referencedPaths = new Set<string>();
    const referencedDigests = new Set<string>();
    const referencedManifests = new Set<string>();
    for (const generation of keep) {
      for (const repo of generation.repositories.values()) {
        for (const [digest, blob] of Object.entries(repo.blobs)) {
          referencedDigests.add(digest);
          for (const relative of Object.values(blob.modules)) referencedPaths.add(relative);
        }
        for (const entry of Object.values(repo.manifests)) referencedManifests.add(entry.path);
      }
    }

    // Tree links, with the grace period remembered across runs.
    const tree = config.storage.tree;
    const files = await walk(tree);
    const pendingFile = path.join(config.storage.state, 'gc-pending.json');
    const pending = JSON.parse(await readFile(pendingFile, 'utf8').catch(() => '{}')) as Record<string, string>;
    const plan = planTreeGc({
      now,
      graceMs: config.retention.graceDays * DAY_MS,
      referenced: referencedPaths,
      present: files.filter(isBlobPath),
      pending,
    });
    const unlinkedPerDigest = new Map<string, number>();
    for (const relative of plan.remove) {
      await remove(path.join(tree, relative), 'link');
      if (!dryRun) await pruneEmptyDirs(tree, relative);
      const digest = `${path.basename(path.dirname(relative))}:${path.basename(relative)}`;
      unlinkedPerDigest.set(digest, (unlinkedPerDigest.get(digest) ?? 0) + 1);
    }
    summary.linksRemoved = plan.remove.length;
    summary.linksPending = Object.keys(plan.pending).length;
    if (!dryRun) await writeFileAtomic(pendingFile, `${JSON.stringify(plan.pending, null, 1)}\n`);

    // Objects whose only remaining link is the store's own.
    for (const relative of await walk(layout.objects)) {
      const [algorithm, , hex] = relative.split(path.sep);
      const digest = `${algorithm}:${hex}`;
      if (referencedDigests.has(digest)) continue;
      const file = path.join(layout.objects, relative);
      const info = await stat(file);
      if (info.nlink - (dryRun ? (unlinkedPerDigest.get(digest) ?? 0) : 0) > 1) continue;
      await remove(file, 'object');
      summary.objectsRemoved++;
      summary.bytesFreed += info.size;
    }

    // Manifest bytes no kept generation names.
    for (const relative of await walk(path.join(config.storage.metadata, MANIFESTS))) {
      if (referencedManifests.has(`${MANIFESTS}/${relative.split(path.sep).join('/')}`)) continue;
      const file = path.join(config.storage.metadata, MANIFESTS, relative);
      summary.bytesFreed += (await stat(file)).size;
      await remove(file, 'manifest');
      summary.manifestsRemoved++;
    }

    // Temp files from killed runs, and abandoned partial downloads.
    for (const [root, list] of [
      [tree, files],
      [layout.tmp, await walk(layout.tmp)],
    ] as const) {
      for (const relative of list.filter((f) => isTempFileName(path.basename(f)) || root === layout.tmp)) {
        const file = path.join(root, relative);
        if (now.getTime() - (await stat(file)).mtimeMs < TEMP_AGE_MS) continue;
        await remove(file, 'temp');
        summary.tempFilesRemoved++;
      }
    }
    for (const relative of await walk(layout.partial)) {
      const file = path.join(layout.partial, relative);
      const info = await stat(file);
      if (now.getTime() - info.mtimeMs < config.retention.graceDays * DAY_MS) continue;
      await remove(file, 'partial');
      summary.bytesFreed += info.size;
    }

    summary.generationsRemoved = dryRun
      ? Math.max(0, generations.length - keep.length)
      : (await pruneGenerations(config.storage.metadata, config.metadata.keepGenerations)).length;
    // A sync running gc writes the file lists itself, after.
    const current = generations.at(-1);
    if (!dryRun && !options.lockHeld && current)
      await publishFileLists(tree, config.storage.metadata, current.id, current.index.modules, {
        stateDir: config.storage.state,
      });
    summary.durationMs = Date.now() - started;
    return summary;
  } finally {
    await lock?.release();
  }
}
