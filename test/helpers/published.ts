import { copyFile, mkdir, readFile, readdir, readlink, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';

// Reads a published generation the way docs/formats.md lays it out, in either format: format 1
// keeps each repository's file in the generation directory (`path` relative to it), format 2
// names a content-addressed file under the metadata directory (`path` relative to that).

export interface PublishedIndex {
  formatVersion: 1 | 2;
  generation: string;
  repositories: Record<string, { path: string; tags: number; syncedAt: string; digest?: string; size?: number }>;
  [key: string]: unknown;
}

/** The generation directory `current` (or `generation`, an id) names. */
export async function generationDir(metadataDir: string, generation = 'current'): Promise<string> {
  return generation === 'current'
    ? path.resolve(metadataDir, await readlink(path.join(metadataDir, 'current')))
    : path.join(metadataDir, 'generations', generation);
}

export async function readIndex(metadataDir: string, generation = 'current'): Promise<PublishedIndex> {
  return JSON.parse(
    await readFile(path.join(await generationDir(metadataDir, generation), 'index.json'), 'utf8'),
  ) as PublishedIndex;
}

/** The absolute path of repository `name`'s file in a generation. */
export async function repositoryFilePath(metadataDir: string, name: string, generation = 'current'): Promise<string> {
  const index = await readIndex(metadataDir, generation);
  const entry = index.repositories[name];
  if (!entry) throw new Error(`generation ${index.generation} has no repository ${name}`);
  return index.formatVersion === 1
    ? path.join(await generationDir(metadataDir, generation), entry.path)
    : path.join(metadataDir, entry.path);
}

/** A repository file of a generation, parsed. */
export async function readRepositoryFile(metadataDir: string, name: string, generation = 'current'): Promise<any> {
  return JSON.parse(await readFile(await repositoryFilePath(metadataDir, name, generation), 'utf8'));
}

/**
 * Turn every generation of a metadata directory into format 1, as a tree published before the
 * upgrade held it: each repository's file (the very bytes) inside its generation directory, an
 * index naming it there, no shared `repositories/` directory.
 */
export async function rewriteAsFormat1(metadataDir: string): Promise<void> {
  const ids = (await readdir(path.join(metadataDir, 'generations'))).filter((name) => /^\d{10}$/.test(name));
  for (const id of ids) {
    const index = await readIndex(metadataDir, id);
    const dir = await generationDir(metadataDir, id);
    for (const [name, entry] of Object.entries(index.repositories)) {
      const relative = `repositories/${name}/_repository.json`;
      await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      await copyFile(path.join(metadataDir, entry.path), path.join(dir, relative));
      index.repositories[name] = { path: relative, tags: entry.tags, syncedAt: entry.syncedAt };
    }
    await writeFile(path.join(dir, 'index.json'), `${JSON.stringify({ ...index, formatVersion: 1 }, null, 1)}\n`);
  }
  await rm(path.join(metadataDir, 'repositories'), { recursive: true });
}

/** Every file under the metadata's shared `repositories/` (format 2), relative to it, sorted. */
export async function repositoryFiles(metadataDir: string): Promise<string[]> {
  const dir = path.join(metadataDir, 'repositories');
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}
