import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Config } from '../config/load.js';
import { describeError } from '../errors.js';
import { STATUS_FILE, type ListenerStatus } from '../listen/state-files.js';
import { readLastRuns, type LastRun } from '../report/last-run.js';
import type { RunCommand } from '../report/run-end.js';
import { readCurrentGeneration } from '../publish/generations.js';
import { moduleView } from '../publish/modules.js';
import { readLock, type LockInfo } from '../store/lock.js';
import { stateLayout } from '../store/paths.js';
import { byteTotals } from '../report/sync-summary.js';
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

async function generationStatus(metadataDir: string): Promise<StatusReport['generation']> {
  const generation = await readCurrentGeneration(metadataDir).catch((error: unknown) => ({
    unreadable: describeError(error),
  }));
  if (generation && 'unreadable' in generation) return generation;
  if (!generation) return null;
  const repositories = [...generation.repositories.values()];
  const totals = byteTotals(repositories);
  return {
    id: generation.id,
    createdAt: generation.index.createdAt,
    modules: moduleView(generation.index).modules.map((m) => m.name),
    repositories: repositories.length,
    tags: repositories.reduce((sum, repo) => sum + Object.keys(repo.tags).length, 0),
    blobs: totals.blobs,
    bytes: {
      unique: totals.unique,
      referenced: totals.referenced,
      dedupeRatio: totals.dedupeRatio,
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
