import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { isTempFileName } from './fs-durable.js';
import { processAlive } from './lock.js';

// Temp files a killed run left behind. Every temp name carries its writer's pid (fs-durable.ts,
// link-check.ts, publishGeneration's `.current-<pid>`, lock.ts's `lock.<pid>`), so one whose pid
// is not a live process is garbage, whoever looks. sync sweeps the cheap places at start, under
// the tree lock: the manifests and the top levels of the metadata, the tree (file lists,
// link-check probes) and the state directory with its tmp/ (where replacing a tree file links
// its temp name).

const PID = /(?:\.(?:tmp|link)-|linkcheck-|^\.current-|^lock\.)(\d+)(?:-|$)/;
/** The candidate a run links to `lock` (lock.ts); a kill between writing and removing it leaves it. */
const LOCK_CANDIDATE = /^lock\.\d+$/;

function writerAlive(pid: number): boolean {
  return pid === process.pid || processAlive(pid);
}

/** A temp file (or `.current-<pid>` symlink, or lock candidate) whose writer is gone. */
export function isLeftover(name: string): boolean {
  const pid = PID.exec(name)?.[1];
  return (
    pid !== undefined &&
    (isTempFileName(name) || name.startsWith('.current-') || LOCK_CANDIDATE.test(name)) &&
    !writerAlive(Number(pid))
  );
}

/** Remove the leftovers directly in each of `dirs` (and below, for `deep` ones); returns their paths. */
export async function sweepLeftovers(dirs: ReadonlyArray<{ dir: string; deep?: boolean }>): Promise<string[]> {
  const removed: string[] = [];
  for (const { dir, deep } of dirs) {
    const entries = await readdir(dir, { recursive: deep ?? false, withFileTypes: true }).catch(() => []);
    for (const entry of entries) {
      if (entry.isDirectory() || !isLeftover(entry.name)) continue;
      const file = path.join(entry.parentPath, entry.name);
      await rm(file, { force: true });
      removed.push(file);
    }
  }
  return removed;
}
