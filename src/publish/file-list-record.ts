import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../store/fs-durable.js';
import { writeFileLists, type FileListOptions, type FileListWritten } from './file-list.js';
import { GENERATIONS } from './metadata-paths.js';

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

/** Write the tree's file lists (see writeFileLists) and record them for `generation`, the current one. */
export async function publishFileLists(
  treeDir: string,
  metadataDir: string,
  generation: string,
  modules: Record<string, { root: string }> | undefined,
  options: FileListOptions = {},
): Promise<FileListWritten[]> {
  const written = await writeFileLists(treeDir, modules, options);
  await recordFileLists(metadataDir, generation, written);
  return written;
}
