import { mkdir, rename, rm, stat, symlink } from 'node:fs/promises';
import path from 'node:path';
import { fsError } from '../errors.js';
import { sha256Digest, type Digest } from '../oci/digest.js';
import { fsyncPath, writeFileAtomic } from '../store/fs-durable.js';
import { stampFirstGenerations } from './first-generation.js';
import { currentGenerationId, generationIds, namedRepositoryFiles, staleStagingDirs } from './generations.js';
import {
  CURRENT,
  GENERATIONS,
  INDEX_FILE,
  STAGING_PREFIX,
  generationDir,
  manifestRelPath,
  repositoryFileRelPath,
} from './metadata-paths.js';
import {
  FORMAT_VERSION,
  type GenerationIndex,
  type GenerationTotals,
  type RepositoryMetadata,
  type RepositoryRef,
} from './metadata-types.js';

// Writing generations (metadata format 2, docs/formats.md): a repository's file is named by the
// digest of its bytes and shared by every generation whose index names it, so a generation costs
// the files of the repositories that changed plus its index.

export const BLOB_PATH_TEMPLATE = '{repository}/_blobs/{algorithm}/{hex}';

/** Store manifest bytes by digest; existing files are immutable and left alone. */
export async function writeManifest(metadataDir: string, digest: Digest, bytes: Buffer): Promise<void> {
  const target = path.join(metadataDir, manifestRelPath(digest));
  const existing = await stat(target).catch(() => undefined);
  if (existing?.size === bytes.length) return;
  await writeFileAtomic(target, bytes).catch((error: unknown) => {
    throw fsError('writing', `manifest ${digest}`, error);
  });
}

/**
 * A repository of the generation being published: its content, written to its file, or its
 * entry in the previous generation's index when it is unchanged (its file is reused as it is).
 */
export type PublishedRepository = { metadata: RepositoryMetadata } | { name: string; ref: RepositoryRef };

const nameOf = (repo: PublishedRepository) => ('ref' in repo ? repo.name : repo.metadata.name);

export interface PublishInput {
  modules: GenerationIndex['modules'];
  totals: GenerationTotals;
  source: string;
  generator: string;
  createdAt: string;
  repositories: PublishedRepository[];
  keepGenerations: number;
}

/**
 * The repository's content-addressed file: written (temp, fsync, rename) unless a file of that
 * digest is already there, which then has these very bytes. Returns its ref and whether it wrote.
 */
async function writeRepositoryFile(
  metadataDir: string,
  repo: RepositoryMetadata,
): Promise<{ ref: RepositoryRef; written?: string }> {
  const text = `${JSON.stringify(repo, null, 1)}\n`;
  const digest = sha256Digest(text);
  const size = Buffer.byteLength(text);
  const relative = repositoryFileRelPath(digest);
  const ref = { digest, size, path: relative, tags: Object.keys(repo.tags).length, syncedAt: repo.syncedAt };
  const target = path.join(metadataDir, relative);
  if ((await stat(target).catch(() => undefined))?.size === size) return { ref };
  await writeFileAtomic(target, text);
  return { ref, written: target };
}

/** fsync the directories holding `files` and their parents up to `root`, so new names survive a crash. */
async function fsyncDirectories(root: string, files: readonly string[]): Promise<void> {
  const dirs = new Set<string>();
  for (const file of files)
    for (let dir = path.dirname(file); dir.startsWith(`${root}${path.sep}`); dir = path.dirname(dir)) dirs.add(dir);
  for (const dir of dirs) await fsyncPath(dir);
}

/**
 * Write the changed repositories' files and the generation's index, fsync them, then switch
 * `current` with a rename (atomic for readers), then prune generations beyond `keepGenerations`.
 * Callers publish only after every blob and manifest the generation references is durable.
 */
export async function publishGeneration(metadataDir: string, input: PublishInput): Promise<string> {
  await mkdir(path.join(metadataDir, GENERATIONS), { recursive: true });
  const ids = await generationIds(metadataDir);
  const id = String(Number(ids.at(-1) ?? 0) + 1).padStart(10, '0');
  const repositories: GenerationIndex['repositories'] = {};
  const written: string[] = [];
  for (const repo of [...input.repositories].sort((a, b) => (nameOf(a) < nameOf(b) ? -1 : 1))) {
    if ('ref' in repo) {
      repositories[repo.name] = repo.ref;
      continue;
    }
    const file = await writeRepositoryFile(metadataDir, stampFirstGenerations(repo.metadata, id));
    repositories[repo.metadata.name] = file.ref;
    if (file.written) written.push(file.written);
  }
  await fsyncDirectories(metadataDir, written);
  const index: GenerationIndex = {
    formatVersion: FORMAT_VERSION,
    generation: id,
    createdAt: input.createdAt,
    generator: input.generator,
    source: input.source,
    blobPathTemplate: BLOB_PATH_TEMPLATE,
    modules: input.modules,
    totals: input.totals,
    repositories,
  };
  const staging = path.join(metadataDir, GENERATIONS, `${STAGING_PREFIX}${id}-${process.pid}`);
  await rm(staging, { recursive: true, force: true });
  await writeFileAtomic(path.join(staging, INDEX_FILE), `${JSON.stringify(index, null, 1)}\n`);
  await rename(staging, generationDir(metadataDir, id));
  await fsyncPath(path.join(metadataDir, GENERATIONS));
  const link = path.join(metadataDir, `.${CURRENT}-${process.pid}`);
  await rm(link, { force: true });
  await symlink(path.join(GENERATIONS, id), link);
  await rename(link, path.join(metadataDir, CURRENT));
  await fsyncPath(metadataDir);
  await pruneGenerations(metadataDir, input.keepGenerations);
  return id;
}

/**
 * Remove generations older than the newest `keep` (never the current one) with the repository
 * files only they name, and staging dirs left by killed runs. A file some kept generation names
 * stays; when a kept index cannot be read, files are left for gc (which reports why).
 */
export async function pruneGenerations(metadataDir: string, keep: number): Promise<string[]> {
  const base = path.join(metadataDir, GENERATIONS);
  const ids = await generationIds(metadataDir);
  const current = (await currentGenerationId(metadataDir).catch(() => undefined)) ?? '';
  const doomed = ids.slice(0, Math.max(0, ids.length - keep)).filter((id) => id !== current);
  const kept = ids.filter((id) => !doomed.includes(id));
  // One index at a time (each is ~300 bytes per repository), and none when nothing goes.
  const keptFiles = doomed.length
    ? await (async () => {
        const names = new Set<string>();
        for (const id of kept) for (const file of await namedRepositoryFiles(metadataDir, id)) names.add(file);
        return names;
      })().catch(() => undefined)
    : undefined;
  const orphaned = new Set<string>();
  for (const id of doomed)
    for (const file of keptFiles ? await namedRepositoryFiles(metadataDir, id).catch(() => []) : [])
      if (!keptFiles!.has(file)) orphaned.add(file);
  const stale = await staleStagingDirs(metadataDir);
  // The generation goes before its files, so no generation on disk names a missing file.
  for (const dir of [...doomed.map((id) => path.join(base, id)), ...stale])
    await rm(dir, { recursive: true, force: true });
  for (const file of orphaned) await rm(path.join(metadataDir, file), { force: true });
  return doomed;
}
