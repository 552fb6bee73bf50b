import { describeError } from '../errors.js';
import { mirrorLag } from '../freshness/lag.js';
import { generationTimes } from '../freshness/master-view.js';
import { readMirrorState, type MirrorStateFile } from '../freshness/mirror-state.js';

// `blobmirror status`'s mirror freshness table: per mirror and module, what the mirror checker
// (`blobmirror crawl`) last found in <metadata>/mirror-state.json, with the lag against the
// master's newest generation now (not when the checker wrote, which may be a while ago).

export interface MirrorFreshnessRow {
  mirror: string;
  module: string;
  /** null: never verified. */
  verifiedGeneration: string | null;
  /** Generations the master is ahead of the verified one; null: never verified. */
  lagGenerations: number | null;
  /** Since the master published the first generation the mirror is not verified at (0: up to date). */
  lagSeconds: number;
  lastCheckAt: string | null;
  consecutiveFailures: number;
  inRotation: boolean;
  lastError: string | null;
}

export interface MirrorFreshness {
  /** When the checker last wrote its state, and which process it is. */
  updatedAt: string;
  checker: { pid: number; host: string };
  currentGeneration: string | null;
  rows: MirrorFreshnessRow[];
}

/** PURE: the table's rows from the checker's state, the master's generation times and now. */
export function mirrorFreshness(
  state: MirrorStateFile,
  createdAt: ReadonlyMap<string, number>,
  now: number,
): MirrorFreshness {
  const newest = [...createdAt.keys()].sort().at(-1) ?? state.currentGeneration;
  const rows = Object.entries(state.mirrors).flatMap(([mirror, { modules }]) =>
    Object.entries(modules).map(([module, m]): MirrorFreshnessRow => {
      const lag = mirrorLag(newest, m.verifiedGeneration, createdAt, now);
      return {
        mirror,
        module,
        verifiedGeneration: m.verifiedGeneration,
        lagGenerations: m.verifiedGeneration === null ? null : lag.generations,
        lagSeconds: Math.round(lag.seconds),
        lastCheckAt: m.lastCheckAt,
        consecutiveFailures: m.consecutiveFailures,
        inRotation: m.inRotation,
        lastError: m.lastError?.message ?? null,
      };
    }),
  );
  rows.sort((a, b) => (a.mirror === b.mirror ? (a.module < b.module ? -1 : 1) : a.mirror < b.mirror ? -1 : 1));
  return {
    updatedAt: state.updatedAt,
    checker: { pid: state.checker.pid, host: state.checker.host },
    currentGeneration: newest,
    rows,
  };
}

/** null when no checker has written a state yet. */
export async function collectMirrorFreshness(
  metadataDir: string,
  now = Date.now(),
): Promise<MirrorFreshness | { unreadable: string } | null> {
  try {
    const state = await readMirrorState(metadataDir);
    return state ? mirrorFreshness(state, await generationTimes(metadataDir), now) : null;
  } catch (error) {
    return { unreadable: describeError(error) };
  }
}
