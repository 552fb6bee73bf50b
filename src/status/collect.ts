import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { describeError } from '../errors.js';
import { STATUS_FILE, type ListenerStatus } from '../listen/state-files.js';
import { readLastRuns, type LastRun } from '../report/last-run.js';
import type { RunCommand } from '../report/run-end.js';
import { censusOf, censusTotals } from '../publish/blob-census.js';
import { readCurrentGeneration } from '../publish/generations.js';
import { FORMAT_VERSION, type AnyGenerationIndex } from '../publish/metadata-types.js';
import { moduleView } from '../publish/modules.js';
import { readLock, type LockInfo } from '../store/lock.js';
import { stateLayout } from '../store/paths.js';
import { dedupeRatio } from '../report/sync-summary.js';
import { collectMirrorFreshness, type MirrorFreshness } from './mirror-freshness.js';

// `blobmirror status`: read-only, no lock taken, so it answers while a sync runs.

export interface GenerationStatus {
  id: string;
  createdAt: string;
  modules: string[];
  repositories: number;
  tags: number;
  blobs: number;
  bytes: { unique: number; referenced: number; dedupeRatio: number };
}

export interface StatusReport {
  /** How the last run of each command ended (null: none recorded). */
  runs: Record<RunCommand, LastRun>;
  generation: GenerationStatus | { unreadable: string } | null;
  /** Who holds the tree lock, or null when it is free. */
  lock: LockInfo | null;
  /** The listener's status file, when there is one. */
  listener: ListenerStatus | { unreadable: string } | null;
  /** The mirror checker's findings per mirror and module (null: no checker state). */
  mirrors: MirrorFreshness | { unreadable: string } | null;
}

const indexTotals = (index: AnyGenerationIndex) => (index.formatVersion === FORMAT_VERSION ? index.totals : undefined);

async function generationStatus(metadataDir: string): Promise<StatusReport['generation']> {
  // An index with totals is enough (no repository file is read); an older one, and every file is counted.
  const generation = await readCurrentGeneration(metadataDir, async (index) =>
    indexTotals(index) ? [] : undefined,
  ).catch((error: unknown) => ({
    unreadable: describeError(error),
  }));
  if (generation && 'unreadable' in generation) return generation;
  if (!generation) return null;
  const { index } = generation;
  const repositories = [...generation.repositories.values()];
  const totals =
    indexTotals(index) ??
    censusTotals(
      censusOf(generation.id, repositories),
      repositories.reduce((sum, repo) => sum + Object.keys(repo.tags).length, 0),
    );
  return {
    id: generation.id,
    createdAt: index.createdAt,
    modules: moduleView(index).modules.map((m) => m.name),
    repositories: Object.keys(index.repositories).length,
    tags: totals.tags,
    blobs: totals.blobs,
    bytes: {
      unique: totals.uniqueBytes,
      referenced: totals.referencedBytes,
      dedupeRatio: dedupeRatio(totals.uniqueBytes, totals.referencedBytes),
    },
  };
}

/** The listener's status file (docs/formats.md, "Listener state"); null when there is none. */
export async function readListenerStatus(stateDir: string): Promise<StatusReport['listener']> {
  const file = path.join(stateDir, STATUS_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' ? null : { unreadable: describeError(error) };
  }
  try {
    const status = JSON.parse(text) as ListenerStatus;
    return typeof status.state === 'string' ? status : { unreadable: `${file} is not a listener status file` };
  } catch (error) {
    return { unreadable: `${file}: ${describeError(error)}` };
  }
}

/** Where the listener keeps its files: `listen.stateDir`, by default `<state>/listen`. */
export function listenerStateDir(stateDir: string, configured?: string): string {
  return configured ?? path.join(stateDir, 'listen');
}

export async function collectStatus(config: Pick<Config, 'storage' | 'listen'>): Promise<StatusReport> {
  const { storage } = config;
  const [runs, generation, lock, listener, mirrors] = await Promise.all([
    readLastRuns(storage.state),
    generationStatus(storage.metadata),
    readLock(stateLayout(storage.state).lock),
    readListenerStatus(listenerStateDir(storage.state, config.listen?.stateDir)),
    collectMirrorFreshness(storage.metadata),
  ]);
  return { runs, generation, lock: lock ?? null, listener, mirrors };
}
