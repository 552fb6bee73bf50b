import { readFile, readdir } from 'node:fs/promises';
import path from 'node:path';
import { readFileListRecord } from '../publish/file-list-record.js';
import { firstGenerationOf } from '../publish/first-generation.js';
import { readCurrentGeneration } from '../publish/generations.js';
import { GENERATIONS } from '../publish/metadata-paths.js';
import { moduleView, type ModuleRoot } from '../publish/modules.js';

// What the checker compares mirrors with: the master's kept generations (when each was created,
// which file lists describe it) and, from the current generation, every blob path per module with
// its size and first generation, so a check asks a mirror only for what came after what it had.

export interface TreeFile {
  /** Relative to the tree root. */
  path: string;
  size: number;
  first: number;
}

export interface MasterView {
  current: string;
  modules: ModuleRoot[];
  /** Generation id -> createdAt (ms), for every kept generation. */
  createdAt: Map<string, number>;
  /** The newest kept generation one of whose recorded lists of `module` has this sha256. */
  generationOfList(module: string, sha256: string): string | undefined;
  /** Files of `module` whose first generation is in (after, upTo]. */
  filesAdded(module: string, after: number, upTo: number): TreeFile[];
}

async function createdAtOf(dir: string): Promise<number | undefined> {
  const text = await readFile(path.join(dir, 'index.json'), 'utf8').catch(() => undefined);
  const createdAt = text === undefined ? undefined : (JSON.parse(text) as { createdAt?: unknown }).createdAt;
  return typeof createdAt === 'string' ? Date.parse(createdAt) : undefined;
}

/** Generation id -> when it was created (ms), for every kept generation, oldest first. */
export async function generationTimes(metadataDir: string): Promise<Map<string, number>> {
  const ids = (await readdir(path.join(metadataDir, GENERATIONS)).catch(() => [] as string[]))
    .filter((name) => /^\d{10}$/.test(name))
    .sort();
  const createdAt = new Map<string, number>();
  for (const id of ids) {
    const at = await createdAtOf(path.join(metadataDir, GENERATIONS, id));
    if (at !== undefined) createdAt.set(id, at);
  }
  return createdAt;
}

/** The master's view, or undefined before the first sync. */
export async function loadMasterView(metadataDir: string): Promise<MasterView | undefined> {
  const current = await readCurrentGeneration(metadataDir);
  if (!current) return undefined;
  const modules = moduleView(current.index).modules;
  const files = new Map<string, Map<string, TreeFile>>(modules.map((m) => [m.name, new Map()]));
  const view = moduleView(current.index);
  for (const repo of current.repositories.values())
    for (const blob of Object.values(repo.blobs))
      for (const [module, at] of Object.entries(view.blobPaths(blob)))
        files.get(module)?.set(at, { path: at, size: blob.size, first: firstGenerationOf(blob, module, current.id) });

  const createdAt = await generationTimes(metadataDir);
  const lists = new Map<string, string>();
  for (const id of createdAt.keys()) {
    // Ascending ids: a list recorded for several generations ends up naming the newest.
    for (const [module, sums] of Object.entries((await readFileListRecord(metadataDir, id)).modules))
      for (const sum of sums) lists.set(`${module}\0${sum}`, id);
  }
  const sorted = new Map([...files].map(([module, byPath]) => [module, [...byPath.values()]]));
  return {
    current: current.id,
    modules,
    createdAt,
    generationOfList: (module, sha256) => lists.get(`${module}\0${sha256}`),
    filesAdded: (module, after, upTo) => (sorted.get(module) ?? []).filter((f) => f.first > after && f.first <= upTo),
  };
}
