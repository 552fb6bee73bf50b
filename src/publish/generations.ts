import { readFile, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import { MetadataInvalidError } from '../errors.js';
import { isDigest, sha256Digest } from '../oci/digest.js';
import {
  CURRENT,
  GENERATION_ID,
  GENERATIONS,
  INDEX_FILE,
  STAGING_PREFIX,
  generationDir,
  repositoryFileRelPath,
} from './metadata-paths.js';
import {
  FORMAT_VERSION,
  indexSchema,
  repositorySchema,
  type AnyGenerationIndex,
  type RepositoryMetadata,
} from './metadata-types.js';

// Reading published generations back, for sync (the previous state), gc, verify and the
// checkers. Both formats are read (docs/formats.md): format 1 keeps each repository's file in
// the generation directory, format 2 names a content-addressed file by digest.

export interface Generation {
  id: string;
  dir: string;
  index: AnyGenerationIndex;
  /** The repository files read: every one the index names, unless read with `only`. */
  repositories: Map<string, RepositoryMetadata>;
}

/** Repository files read at once: enough to hide latency, few enough for the descriptor limit. */
const READ_CONCURRENCY = 16;

function parseJson<T>(file: string, text: string, parse: (value: unknown) => T): T {
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    throw new MetadataInvalidError(`metadata file ${file} is invalid: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** The ids of the generation directories on disk, oldest first. */
export async function generationIds(metadataDir: string): Promise<string[]> {
  const names = await readdir(path.join(metadataDir, GENERATIONS)).catch(() => [] as string[]);
  return names.filter((n) => GENERATION_ID.test(n)).sort();
}

/** Staging directories of publishes that never switched (a killed run, a full disk), not this process's. */
export async function staleStagingDirs(metadataDir: string): Promise<string[]> {
  const base = path.join(metadataDir, GENERATIONS);
  const names = await readdir(base).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(STAGING_PREFIX) && !n.endsWith(`-${process.pid}`))
    .map((n) => path.join(base, n));
}

/** The id `current` points at; undefined before the first sync. */
export async function currentGenerationId(metadataDir: string): Promise<string | undefined> {
  try {
    return path.basename(await readlink(path.join(metadataDir, CURRENT)));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** One generation's index alone (what pruning and gc need to know which files it names). */
export async function readGenerationIndex(metadataDir: string, id: string): Promise<AnyGenerationIndex> {
  const file = path.join(generationDir(metadataDir, id), INDEX_FILE);
  return parseJson(file, await readFile(file, 'utf8'), (v) => indexSchema.parse(v) as AnyGenerationIndex);
}

/**
 * The repository files a generation's index names, relative to the metadata directory (none for
 * format 1: its files are inside it). Derived from each digest, never taken from the file, so a
 * removal can only hit a repository file; only the digests are checked, not the whole index
 * (every publish that prunes reads each kept generation's index).
 */
export async function namedRepositoryFiles(metadataDir: string, id: string): Promise<string[]> {
  const file = path.join(generationDir(metadataDir, id), INDEX_FILE);
  const index = parseJson(
    file,
    await readFile(file, 'utf8'),
    (v) => v as { formatVersion?: unknown; repositories?: unknown },
  );
  if (index.formatVersion === 1) return [];
  const refs = index.repositories;
  if (index.formatVersion !== FORMAT_VERSION || typeof refs !== 'object' || refs === null)
    throw new MetadataInvalidError(`metadata file ${file} is not a generation index of format 1 or ${FORMAT_VERSION}`);
  return Object.values(refs as Record<string, { digest?: unknown } | null>).map((ref) => {
    const digest = ref?.digest;
    if (typeof digest !== 'string' || !isDigest(digest))
      throw new MetadataInvalidError(`metadata file ${file} names a repository file by an invalid digest`);
    return repositoryFileRelPath(digest);
  });
}

/**
 * The generation `current` points at, fully loaded unless `only` decides from its index which
 * repository files to read (undefined: all); undefined before the first sync.
 */
export async function readCurrentGeneration(
  metadataDir: string,
  only?: (index: AnyGenerationIndex) => Promise<readonly string[] | undefined>,
): Promise<Generation | undefined> {
  const id = await currentGenerationId(metadataDir);
  if (id === undefined) return undefined;
  const index = await readGenerationIndex(metadataDir, id);
  return loadGeneration(metadataDir, id, index, new Map(), await only?.(index));
}

/** Where a generation's repository file is, and the digest its bytes must have (format 2). */
function repositoryFile(
  metadataDir: string,
  dir: string,
  index: AnyGenerationIndex,
  name: string,
): { file: string; digest?: string } {
  if (index.formatVersion === 1) return { file: path.join(dir, index.repositories[name]!.path) };
  const ref = index.repositories[name]!;
  return { file: path.join(metadataDir, ref.path), digest: ref.digest };
}

/**
 * One generation, fully loaded and validated. `shared` (digest -> parsed file) lets generations
 * read together parse each format-2 file they share once.
 */
export async function readGeneration(
  metadataDir: string,
  id: string,
  shared = new Map<string, RepositoryMetadata>(),
): Promise<Generation> {
  return loadGeneration(metadataDir, id, await readGenerationIndex(metadataDir, id), shared, undefined);
}

/** The generation of `index` with the files of `only` (those it names), or of every repository. */
async function loadGeneration(
  metadataDir: string,
  id: string,
  index: AnyGenerationIndex,
  shared: Map<string, RepositoryMetadata>,
  only: readonly string[] | undefined,
): Promise<Generation> {
  const dir = generationDir(metadataDir, id);
  const limit = pLimit(READ_CONCURRENCY);
  const names = only ? only.filter((name) => Object.hasOwn(index.repositories, name)) : Object.keys(index.repositories);
  const loaded = await Promise.all(
    names.map((name) =>
      limit(async () => {
        const { file, digest } = repositoryFile(metadataDir, dir, index, name);
        const known = digest === undefined ? undefined : shared.get(digest);
        if (known) return [name, known] as const;
        const bytes = await readFile(file);
        if (digest !== undefined && sha256Digest(bytes) !== digest)
          throw new MetadataInvalidError(`metadata file ${file} does not hash to ${digest} (generation ${id})`);
        const repo = parseJson(file, bytes.toString('utf8'), (v) => repositorySchema.parse(v) as RepositoryMetadata);
        if (repo.name !== name)
          throw new MetadataInvalidError(`metadata file ${file} describes ${repo.name}, not ${name}`);
        if (digest !== undefined) shared.set(digest, repo);
        return [name, repo] as const;
      }),
    ),
  );
  return { id, dir, index, repositories: new Map(loaded) };
}

/** Every published generation still on disk (the current one and those kept), oldest first. */
export async function readAllGenerations(metadataDir: string): Promise<Generation[]> {
  const ids = await generationIds(metadataDir);
  const all: Generation[] = [];
  const shared = new Map<string, RepositoryMetadata>();
  // One at a time, so each file the generations share is parsed once.
  for (const id of ids) all.push(await readGeneration(metadataDir, id, shared));
  return all;
}
