import { mkdir, readFile, readdir, readlink, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { MetadataInvalidError, fsError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { shardedPath } from '../store/paths.js';
import { fsyncPath, writeFileAtomic } from '../store/fs-durable.js';
import { stampFirstGenerations } from './first-generation.js';
import {
  FORMAT_VERSION,
  indexSchema,
  repositorySchema,
  type GenerationIndex,
  type RepositoryMetadata,
} from './metadata-types.js';

export const CURRENT = 'current';
export const GENERATIONS = 'generations';
export const MANIFESTS = 'manifests';
/** A generation being written: `.staging-<id>-<pid>`, renamed to `<id>` when complete. */
const STAGING_PREFIX = '.staging-';
export const BLOB_PATH_TEMPLATE = '{repository}/_blobs/{algorithm}/{hex}';

export interface Generation {
  id: string;
  dir: string;
  index: GenerationIndex;
  repositories: Map<string, RepositoryMetadata>;
}

/** Relative (to the metadata dir) path of a manifest's bytes. */
export function manifestRelPath(digest: Digest): string {
  return `${MANIFESTS}/${shardedPath(digest)}`;
}

export function repositoryRelPath(name: string): string {
  return `repositories/${name}/_repository.json`;
}

async function readJson<T>(file: string, parse: (value: unknown) => T): Promise<T> {
  const text = await readFile(file, 'utf8');
  try {
    return parse(JSON.parse(text));
  } catch (error) {
    throw new MetadataInvalidError(`metadata file ${file} is invalid: ${(error as Error).message.split('\n')[0]}`);
  }
}

/** The generation `current` points at, fully loaded; undefined before the first sync. */
export async function readCurrentGeneration(metadataDir: string): Promise<Generation | undefined> {
  let target: string;
  try {
    target = await readlink(path.join(metadataDir, CURRENT));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  return readGeneration(path.resolve(metadataDir, target));
}

/** One generation directory, fully loaded and validated. */
export async function readGeneration(dir: string): Promise<Generation> {
  const index = await readJson(path.join(dir, 'index.json'), (v) => indexSchema.parse(v) as GenerationIndex);
  const repositories = new Map<string, RepositoryMetadata>();
  for (const [name, entry] of Object.entries(index.repositories)) {
    repositories.set(
      name,
      await readJson(path.join(dir, entry.path), (v) => repositorySchema.parse(v) as RepositoryMetadata),
    );
  }
  return { id: index.generation, dir, index, repositories };
}

/** Every published generation still on disk (the current one and those kept), oldest first. */
export async function readAllGenerations(metadataDir: string): Promise<Generation[]> {
  const base = path.join(metadataDir, GENERATIONS);
  const ids = (await readdir(base).catch(() => [] as string[])).filter((n) => /^\d{10}$/.test(n)).sort();
  return Promise.all(ids.map((id) => readGeneration(path.join(base, id))));
}

/** Store manifest bytes by digest; existing files are immutable and left alone. */
export async function writeManifest(metadataDir: string, digest: Digest, bytes: Buffer): Promise<void> {
  const target = path.join(metadataDir, manifestRelPath(digest));
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size === bytes.length) return;
  await writeFileAtomic(target, bytes).catch((error: unknown) => {
    throw fsError('writing', `manifest ${digest}`, error);
  });
}

async function nextGenerationId(metadataDir: string): Promise<string> {
  const names = await readdir(path.join(metadataDir, GENERATIONS)).catch(() => [] as string[]);
  const highest = names.filter((n) => /^\d{10}$/.test(n)).reduce((max, n) => Math.max(max, Number(n)), 0);
  return String(highest + 1).padStart(10, '0');
}

export interface PublishInput {
  modules: GenerationIndex['modules'];
  source: string;
  generator: string;
  createdAt: string;
  repositories: RepositoryMetadata[];
  keepGenerations: number;
}

/**
 * Write a complete generation, fsync it, then switch `current` with a rename (atomic for
 * readers), then prune generations beyond `keepGenerations`. Callers publish only after every
 * blob and manifest the generation references is durable.
 */
export async function publishGeneration(metadataDir: string, input: PublishInput): Promise<string> {
  await mkdir(path.join(metadataDir, GENERATIONS), { recursive: true });
  const id = await nextGenerationId(metadataDir);
  const staging = path.join(metadataDir, GENERATIONS, `${STAGING_PREFIX}${id}-${process.pid}`);
  const dir = path.join(metadataDir, GENERATIONS, id);
  await rm(staging, { recursive: true, force: true });
  const repositories: GenerationIndex['repositories'] = {};
  for (const repo of [...input.repositories].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const rel = repositoryRelPath(repo.name);
    const stamped = stampFirstGenerations(repo, id);
    await writeFileAtomic(path.join(staging, rel), `${JSON.stringify(stamped, null, 1)}\n`);
    repositories[repo.name] = { path: rel, tags: Object.keys(repo.tags).length, syncedAt: repo.syncedAt };
  }
  const index: GenerationIndex = {
    formatVersion: FORMAT_VERSION,
    generation: id,
    createdAt: input.createdAt,
    generator: input.generator,
    source: input.source,
    blobPathTemplate: BLOB_PATH_TEMPLATE,
    modules: input.modules,
    repositories,
  };
  await writeFileAtomic(path.join(staging, 'index.json'), `${JSON.stringify(index, null, 1)}\n`);
  await rename(staging, dir);
  await fsyncPath(path.join(metadataDir, GENERATIONS));
  const link = path.join(metadataDir, `.${CURRENT}-${process.pid}`);
  await rm(link, { force: true });
  await symlink(path.join(GENERATIONS, id), link);
  await rename(link, path.join(metadataDir, CURRENT));
  await fsyncPath(metadataDir);
  await pruneGenerations(metadataDir, input.keepGenerations);
  return id;
}

/** Remove generations older than the newest `keep`, and staging dirs left by killed runs. */
export async function pruneGenerations(metadataDir: string, keep: number): Promise<string[]> {
  const base = path.join(metadataDir, GENERATIONS);
  const names = await readdir(base).catch(() => [] as string[]);
  const ids = names.filter((n) => /^\d{10}$/.test(n)).sort();
  const current = path.basename(await readlink(path.join(metadataDir, CURRENT)).catch(() => ''));
  const doomed = ids.slice(0, Math.max(0, ids.length - keep)).filter((id) => id !== current);
  const stale = await staleStagingDirs(metadataDir);
  for (const dir of [...doomed.map((id) => path.join(base, id)), ...stale])
    await rm(dir, { recursive: true, force: true });
  return doomed;
}

/** Staging directories of publishes that never switched (a killed run, a full disk), not this process's. */
export async function staleStagingDirs(metadataDir: string): Promise<string[]> {
  const base = path.join(metadataDir, GENERATIONS);
  const names = await readdir(base).catch(() => [] as string[]);
  return names
    .filter((n) => n.startsWith(STAGING_PREFIX) && !n.endsWith(`-${process.pid}`))
    .map((n) => path.join(base, n));
}
