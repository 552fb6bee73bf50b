import { readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../store/fs-durable.js';
import { parseFileList, renderFileList } from './file-list-format.js';
import { linkedBlobs, updateModuleEntries } from './file-list-update.js';
import {
  fileListName,
  sha256Hex,
  writeFileLists,
  writeModuleList,
  type FileListOptions,
  type FileListWritten,
} from './file-list.js';
import { GENERATIONS } from './metadata-paths.js';
import { moduleView } from './modules.js';

// Which file lists describe which generation: `generations/<id>/file-lists.json` holds, per
// module, the sha256 of every list written while that generation was current (sync writes one,
// a later gc may write another). The mirror checker hashes a mirror's copy of a list and looks it
// up here to learn which generation the mirror claims to hold (docs/formats.md).

export const FILE_LIST_RECORD = 'file-lists.json';

const recordSchema = z.object({
  formatVersion: z.literal(1),
  /** Module -> sha256 of each list written for this generation, oldest first. */
  modules: z.record(z.string(), z.array(z.string().regex(/^[0-9a-f]{64}$/))),
});

export type FileListRecord = z.output<typeof recordSchema>;

function recordPath(metadataDir: string, generation: string): string {
  return path.join(metadataDir, GENERATIONS, generation, FILE_LIST_RECORD);
}

/** The record of one generation; an empty one when none was written (or it is unreadable). */
export async function readFileListRecord(metadataDir: string, generation: string): Promise<FileListRecord> {
  const text = await readFile(recordPath(metadataDir, generation), 'utf8').catch(() => undefined);
  const parsed = text === undefined ? undefined : recordSchema.safeParse(JSON.parse(text));
  return parsed?.success ? parsed.data : { formatVersion: 1, modules: {} };
}

async function recordFileLists(metadataDir: string, generation: string, written: FileListWritten[]): Promise<void> {
  const record = await readFileListRecord(metadataDir, generation);
  let changed = false;
  for (const list of written) {
    const known = (record.modules[list.module] ??= []);
    if (known.includes(list.sha256)) continue;
    known.push(list.sha256);
    changed = true;
  }
  if (changed) await writeFileAtomic(recordPath(metadataDir, generation), `${JSON.stringify(record, null, 1)}\n`);
}

/**
 * Set by every writer of the tree (sync's links, gc's removals, verify's repairs) before it
 * changes it, removed once the lists describe the tree again: while it is there, the lists on
 * disk may not describe the tree, and the next lists come from a walk.
 */
export const FILE_LISTS_STALE = 'file-lists-stale';

export async function markFileListsStale(stateDir: string): Promise<void> {
  await writeFileAtomic(path.join(stateDir, FILE_LISTS_STALE), `${process.pid}\n`);
}

/** Whether a writer marked the tree stale (ask before marking it yourself). */
export async function fileListsStale(stateDir: string): Promise<boolean> {
  return stat(path.join(stateDir, FILE_LISTS_STALE)).then(
    () => true,
    () => false,
  );
}

/** What a run changed in the tree since the lists of `generation` (the one current when it started). */
export interface TreeChangesSince {
  generation: string;
  /** Tree paths (relative to the tree) the run linked or replaced, or tried to. */
  linked: readonly string[];
}

/**
 * Write the tree's file lists (see writeFileLists) and record them for `generation`, the current
 * one; then the tree is no longer stale. With `since` (which the caller gives only when the tree
 * was not marked stale before it changed it), each module whose list on disk is the one last
 * recorded for `since.generation` is updated from it (file-list-update); the others, and every
 * module with checksums on, are walked.
 */
export async function publishFileLists(
  treeDir: string,
  metadataDir: string,
  generation: string,
  modules: Record<string, { root: string }> | undefined,
  options: FileListOptions & { since?: TreeChangesSince } = {},
): Promise<FileListWritten[]> {
  const written =
    options.since && !options.checksums
      ? await updateFileLists(treeDir, metadataDir, modules, options.since)
      : await writeFileLists(treeDir, modules, options);
  await recordFileLists(metadataDir, generation, written);
  if (options.stateDir) await rm(path.join(options.stateDir, FILE_LISTS_STALE), { force: true });
  return written;
}

async function updateFileLists(
  treeDir: string,
  metadataDir: string,
  modules: Record<string, { root: string }> | undefined,
  since: TreeChangesSince,
): Promise<FileListWritten[]> {
  const record = await readFileListRecord(metadataDir, since.generation);
  const written: FileListWritten[] = [];
  const digests = linkedBlobs(since.linked);
  for (const module of moduleView({ modules }).modules) {
    const root = path.join(treeDir, module.root);
    const text = await readFile(path.join(root, fileListName(module.name)), 'utf8').catch(() => undefined);
    const previous =
      text !== undefined && sha256Hex(text) === record.modules[module.name]?.at(-1) ? parseFileList(text) : undefined;
    if (!previous) {
      written.push(...(await writeFileLists(treeDir, { [module.name]: { root: module.root } })));
      continue;
    }
    const prefix = module.root === '' ? '' : `${module.root}/`;
    const linked = since.linked.filter((p) => p.startsWith(prefix)).map((p) => p.slice(prefix.length));
    const files = await updateModuleEntries(root, previous.files, linked, digests);
    written.push(await writeModuleList(module.name, root, renderFileList({ files, checksums: {} }), files.length));
  }
  return written;
}
