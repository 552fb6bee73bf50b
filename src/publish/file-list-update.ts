import { lstat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { FileListEntry } from './file-list-format.js';
import { byPath, entryOf } from './file-list.js';

// A module's file list from its previous one and the tree paths a run linked, instead of a walk
// of the module (at 10,000 repositories a walk lstats 50,000 entries to find the few a `sync
// --repo` changed). Exact when the previous list described the tree (file-list-record checks
// its digest against the one recorded and that no writer marked the tree stale since) and the
// run changed the tree only by `linked`: hardlinks made or replaced, and directories made for
// them. What such a change touches, and so what is looked at again:
// - the linked path itself and every directory above it (a new entry changes a directory's mtime);
// - every listed path of a linked digest: a link changes its inode's ctime, which every path of
//   that inode shows (a list's mtime is max(mtime, ctime)), in every module: one blob is one
//   inode however many architectures' modules hold it, so the digests come from all the run's
//   links, not only the module's own.

const BLOB_PATH = /(?:^|\/)_blobs\/([a-z0-9]+)\/([0-9a-f]+)$/;
const LSTAT_CONCURRENCY = 32;

const blobKey = (relPath: string) => {
  const match = BLOB_PATH.exec(relPath);
  return match ? `${match[1]}:${match[2]}` : undefined;
};
const parentOf = (relPath: string) => {
  const slash = relPath.lastIndexOf('/');
  return slash < 0 ? undefined : relPath.slice(0, slash);
};
const depthOf = (relPath: string) => relPath.split('/').length;

/** The blobs (`<algorithm>:<hex>`) of the tree paths a run linked, whatever their module. */
export function linkedBlobs(linked: readonly string[]): Set<string> {
  const digests = new Set<string>();
  for (const relPath of linked) {
    const key = blobKey(relPath);
    if (key) digests.add(key);
  }
  return digests;
}

/**
 * The entries of a module rooted at `root` after `linked` (paths relative to that root) and the
 * links of `digests` (linkedBlobs of every path the run linked, in any module).
 */
export async function updateModuleEntries(
  root: string,
  previous: readonly FileListEntry[],
  linked: readonly string[],
  digests: ReadonlySet<string>,
): Promise<FileListEntry[]> {
  const entries = new Map(previous.map((entry) => [entry.path, entry]));
  const refresh = new Set<string>();
  for (const relPath of linked)
    for (let at: string | undefined = relPath; at !== undefined; at = parentOf(at)) refresh.add(at);
  if (digests.size) for (const entry of previous) if (digests.has(blobKey(entry.path) ?? '')) refresh.add(entry.path);
  // Depth by depth, parents first: an entry's `*` (under a restricted directory) comes from its parent's.
  const byDepth = new Map<number, string[]>();
  for (const relPath of refresh) byDepth.set(depthOf(relPath), [...(byDepth.get(depthOf(relPath)) ?? []), relPath]);
  const limit = pLimit(LSTAT_CONCURRENCY);
  for (const depth of [...byDepth.keys()].sort((a, b) => a - b)) {
    const level = byDepth.get(depth)!;
    const stats = await Promise.all(
      level.map((relPath) =>
        limit(() =>
          lstat(path.join(root, relPath)).catch((error: NodeJS.ErrnoException) => {
            // Gone (ENOTDIR: a parent is no directory any more): not listed, like a walk would not.
            if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
            throw error;
          }),
        ),
      ),
    );
    for (const [i, relPath] of level.entries()) {
      const parent = parentOf(relPath);
      const above = parent === undefined ? undefined : entries.get(parent);
      const entry =
        parent !== undefined && above?.type[0] !== 'd'
          ? undefined
          : stats[i] && entryOf(relPath, stats[i], above !== undefined && above.type !== 'd');
      if (entry) entries.set(relPath, entry);
      else if (entries.delete(relPath))
        for (const listed of entries.keys()) if (listed.startsWith(`${relPath}/`)) entries.delete(listed);
    }
  }
  return [...entries.values()].sort(byPath);
}
