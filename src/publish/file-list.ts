import { createHash } from 'node:crypto';
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { availableParallelism } from 'node:os';
import { fsyncPath, isTempFileName, writeFileAtomic } from '../store/fs-durable.js';
import {
  FILE_LIST_PREFIX,
  entryType,
  fileListName,
  renderFileList,
  type EntryKind,
  type FileListEntry,
} from './file-list-format.js';
import { moduleView } from './modules.js';

export { parseFileList, fileListName, type FileList, type FileListEntry } from './file-list-format.js';

export interface FileListOptions {
  /**
   * Add a `[Checksums SHA1]` section for every file. Off by default: hashing the whole tree each
   * run is not free. SHA1s are cached by inode, size and mtime in `<stateDir>/file-list-sha1.json`.
   */
  checksums?: boolean;
  stateDir?: string;
}

export interface FileListWritten {
  module: string;
  /** Absolute path of the list. */
  file: string;
  entries: number;
  /** False when the list on disk already had this content (it was left untouched). */
  changed: boolean;
  /** Of the list's bytes: how the mirror checker recognises a mirror's copy. */
  sha256: string;
}

interface Scanned {
  entry: FileListEntry;
  stats: Stats;
}

const WORLD_READABLE = 0o004;

/** Every file, directory and symlink under `root` except file lists at the root and temp files. */
async function scanModule(root: string): Promise<Scanned[]> {
  const found: Scanned[] = [];
  const walk = async (rel: string, restricted: boolean): Promise<void> => {
    const names = await readdir(path.join(root, rel)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT' && rel === '') return [] as string[];
      throw error;
    });
    for (const name of names) {
      if (isTempFileName(name) || (rel === '' && name.startsWith(FILE_LIST_PREFIX))) continue;
      const relPath = rel === '' ? name : `${rel}/${name}`;
      const stats = await lstat(path.join(root, relPath)).catch((error: NodeJS.ErrnoException) => {
        // Removed between readdir and lstat: a writer that does not hold the tree lock (a person).
        if (error.code === 'ENOENT') return undefined;
        throw error;
      });
      const entry = stats && entryOf(relPath, stats, restricted);
      if (!entry) continue;
      found.push({ entry, stats });
      if (stats.isDirectory()) await walk(relPath, restricted || !worldReadable(stats));
    }
  };
  await walk('', false);
  return found.sort((a, b) => byPath(a.entry, b.entry));
}

const worldReadable = (stats: Stats) => (stats.mode & WORLD_READABLE) !== 0;

export const byPath = (a: FileListEntry, b: FileListEntry) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);

/** A list's entry for a path from its lstat (undefined for what lists do not hold: sockets, devices). */
export function entryOf(relPath: string, stats: Stats, underRestricted: boolean): FileListEntry | undefined {
  const kind: EntryKind | undefined = stats.isFile()
    ? 'f'
    : stats.isDirectory()
      ? 'd'
      : stats.isSymbolicLink()
        ? 'l'
        : undefined;
  if (!kind) return undefined;
  return {
    mtime: Math.floor(Math.max(stats.mtimeMs, stats.ctimeMs) / 1000),
    type: entryType(kind, underRestricted, worldReadable(stats)),
    size: kind === 'd' ? 0 : stats.size,
    path: relPath,
  };
}

type Sha1Cache = Record<string, [size: number, mtimeMs: number, sha1: string]>;

const SHA1_CACHE = 'file-list-sha1.json';

/** path -> SHA1 of every regular file per module; each inode (hardlinks share one) hashed once, cached across runs. */
async function sha1Sums(
  modules: Array<{ root: string; scanned: Scanned[] }>,
  stateDir: string | undefined,
): Promise<Map<string, string>[]> {
  const inodeKey = (stats: Stats) => `${stats.dev}:${stats.ino}`;
  const inodes = new Map<string, { file: string; stats: Stats }>();
  for (const { root, scanned } of modules)
    for (const s of scanned)
      if (s.stats.isFile()) inodes.set(inodeKey(s.stats), { file: path.join(root, s.entry.path), stats: s.stats });
  const cacheFile = stateDir ? path.join(stateDir, SHA1_CACHE) : undefined;
  const previous: Sha1Cache = cacheFile
    ? await readFile(cacheFile, 'utf8').then(
        (t) => JSON.parse(t) as Sha1Cache,
        () => ({}),
      )
    : {};
  const next: Sha1Cache = {};
  const limit = pLimit(availableParallelism());
  await Promise.all(
    [...inodes].map(async ([key, { file, stats }]) => {
      const cached = previous[key];
      const sum =
        cached && cached[0] === stats.size && cached[1] === stats.mtimeMs ? cached[2] : await limit(() => sha1Of(file));
      next[key] = [stats.size, stats.mtimeMs, sum];
    }),
  );
  if (cacheFile) await writeFileAtomic(cacheFile, JSON.stringify(next));
  return modules.map(
    ({ scanned }) =>
      new Map(scanned.filter((s) => s.stats.isFile()).map((s) => [s.entry.path, next[inodeKey(s.stats)]![2]])),
  );
}

async function sha1Of(file: string): Promise<string> {
  const hash = createHash('sha1');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/**
 * Write `fullfiletimelist-<module>` at each module's root (temp file, fsync, rename), and only
 * where the content changed, so mirrors polling the list see a new one only for real changes.
 * `modules` is the generation index's `modules` (absent: the one default module at the tree).
 * Call with the tree lock held, after the tree changed (end of sync and gc): the lists must
 * describe a tree no writer is changing.
 */
export async function writeFileLists(
  treeDir: string,
  modules: Record<string, { root: string }> | undefined,
  options: FileListOptions = {},
): Promise<FileListWritten[]> {
  const scanned = await Promise.all(
    moduleView({ modules }).modules.map(async (m) => ({
      module: m,
      root: path.join(treeDir, m.root),
      scanned: await scanModule(path.join(treeDir, m.root)),
    })),
  );
  const sums = options.checksums ? await sha1Sums(scanned, options.stateDir) : undefined;
  const written: FileListWritten[] = [];
  for (const [i, { module, root, scanned: entries }] of scanned.entries()) {
    const text = renderFileList({ files: entries.map((s) => s.entry), checksums: Object.fromEntries(sums?.[i] ?? []) });
    written.push(await writeModuleList(module.name, root, text, entries.length));
  }
  return written;
}

/** Write a module's list unless the file already holds `text`. */
export async function writeModuleList(
  module: string,
  root: string,
  text: string,
  entries: number,
): Promise<FileListWritten> {
  const file = path.join(root, fileListName(module));
  const current = await readFile(file, 'utf8').catch(() => undefined);
  const changed = current !== text;
  if (changed) {
    await writeFileAtomic(file, text);
    await fsyncPath(root);
  }
  return { module, file, entries, changed, sha256: sha256Hex(text) };
}

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');
