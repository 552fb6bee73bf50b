import { readlink } from 'node:fs/promises';
import path from 'node:path';
import type { StoragePaths } from '../config/load.js';
import { markFileListsStale } from '../publish/file-list-record.js';
import { readAllGenerations } from '../publish/generations.js';
import { CURRENT } from '../publish/metadata-paths.js';
import type { Source } from '../source/source.js';
import { acquireLock } from '../store/lock.js';
import { ObjectStore } from '../store/object-store.js';
import { checkBlobs, checkManifests, orphanObjects, orphanTreeFiles, storedObjects, strayTempFiles } from './check.js';
import { expectedContent, type Expected } from './expected.js';
import type { Finding } from './findings.js';
import { rehashObjects, type HashRate } from './full-hash.js';
import { repairFindings } from './repair.js';

export interface VerifyOptions {
  /** Re-hash every object. */
  full?: boolean;
  repair?: boolean;
  lockWaitMs?: number;
  /** Re-hash threads (default: one per core). */
  threads?: number;
  /** Aborted (SIGINT/SIGTERM): no new check, hash or repair starts; the run rejects with its reason. */
  signal?: AbortSignal;
}

export interface VerifyReport {
  current: string | null;
  generations: string[];
  checked: { repositories: number; blobs: number; paths: number; manifests: number; objects: number };
  full: HashRate | null;
  /** Everything found (with `repair` when --repair ran). */
  problems: Finding[];
  warnings: Finding[];
  repaired: number;
  /** Problems a check after the repairs still finds (without --repair: all of them). */
  left: number;
  durationMs: number;
}

export const QUARANTINE_DIR = 'quarantine';

/** One pass of the cheap checks over everything the kept generations reference. */
async function cheapChecks(storage: StoragePaths, store: ObjectStore, expected: Expected): Promise<Finding[]> {
  const metadata = storage.metadata;
  const [blobs, manifests, strays] = await Promise.all([
    checkBlobs(store, expected.blobs.values()),
    checkManifests(metadata, expected.manifests.values()),
    strayTempFiles([storage.tree, metadata, store.layout.objects]),
  ]);
  return [...blobs, ...manifests, ...strays];
}

/**
 * Check the tree, the store and the manifest files against every kept generation; with `repair`
 * fix what can be fixed and check again. Holds the tree lock throughout, like sync.
 */
export async function runVerify(
  storage: StoragePaths,
  /** Called only when --repair must fetch something again. */
  openSource: () => Promise<Source>,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const started = Date.now();
  const store = new ObjectStore(storage.state, storage.tree);
  const lock = await acquireLock(store.layout.lock, {
    command: options.repair ? 'verify --repair' : 'verify',
    waitMs: options.lockWaitMs ?? 0,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  const checkpoint = () => options.signal?.throwIfAborted();
  let source: Source | undefined;
  try {
    // Newest first: the current generation's repositories are the first choice to fetch from.
    const generations = (await readAllGenerations(storage.metadata)).reverse();
    const current = await readlink(path.join(storage.metadata, CURRENT)).then(
      (target) => path.basename(target),
      () => null,
    );
    const expected = expectedContent(generations);
    const objects = await storedObjects(store.layout.objects);
    const found = await cheapChecks(storage, store, expected);
    checkpoint();
    let full: HashRate | null = null;
    if (options.full) {
      const { corrupt, rate } = await rehashObjects(objects, options.threads, options.signal);
      checkpoint();
      full = rate;
      const known = new Set(found.filter((f) => f.kind === 'corrupt-object').map((f) => f.digest));
      found.push(...corrupt.filter((f) => !known.has(f.digest)));
    }
    const warnings = [...(await orphanTreeFiles(storage.tree, expected)), ...orphanObjects(objects, expected)];

    let left = found.length;
    checkpoint();
    if (options.repair && found.length) {
      await store.init();
      // Repairs relink and move tree files: the next file lists come from a walk.
      await markFileListsStale(storage.state);
      await repairFindings(found, {
        store,
        metadataDir: storage.metadata,
        expected,
        quarantineDir: path.join(storage.state, QUARANTINE_DIR),
        source: async () => (source ??= await openSource()),
      });
      // Trust the disk, not the repair log: what a fresh look still finds is what is left.
      const again = await cheapChecks(storage, store, expected);
      const unrepairedCorrupt = found.filter(
        (f) => f.kind === 'corrupt-object' && !f.repair?.done && !again.some((a) => a.digest === f.digest),
      );
      left = again.length + unrepairedCorrupt.length;
    }
    const paths = [...expected.blobs.values()].reduce((sum, b) => sum + b.paths.size, 0);
    return {
      current,
      generations: generations.map((g) => g.id),
      checked: {
        repositories: new Set(generations.flatMap((g) => [...g.repositories.keys()])).size,
        blobs: expected.blobs.size,
        paths,
        manifests: expected.manifests.size,
        objects: objects.length,
      },
      full,
      problems: found,
      warnings,
      repaired: found.filter((f) => f.repair?.done).length,
      left,
      durationMs: Date.now() - started,
    };
  } finally {
    await source?.close();
    await lock.release();
  }
}
