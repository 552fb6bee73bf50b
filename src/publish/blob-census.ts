import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from '../oci/digest.js';
import { writeFileAtomic } from '../store/fs-durable.js';
import { treeBlobPath } from '../store/paths.js';
import type { GenerationTotals, RepositoryMetadata } from './metadata-types.js';

// The blob census of the current generation (docs/formats.md, State): per distinct blob its
// size and how many repositories reference it, per module how many blob paths it holds. The
// generation's totals and modules depend on every repository; with the census a `sync --repo`
// run updates them from the targeted repositories' files alone (the old one out, the new one
// in) instead of reading every repository file. It is derived data: a census of another
// generation (a crash between publishing and writing it), or none, and the run reads them all.

export const BLOB_CENSUS_FILE = 'blob-census.json';

export interface BlobCensus {
  /** The generation it describes. */
  generation: string;
  /** Digest -> [size, repositories referencing it]. */
  blobs: Map<string, [number, number]>;
  /** Module -> [its root ('' for the tree itself), blob paths in it]. */
  modules: Map<string, [string, number]>;
}

/** PURE: count `repo` in (`sign` 1) or out (-1) of `census`; entries that reach 0 go. */
function count(census: BlobCensus, repo: RepositoryMetadata, sign: 1 | -1): void {
  for (const [digest, blob] of Object.entries(repo.blobs)) {
    const seen = census.blobs.get(digest);
    const repositories = (seen?.[1] ?? 0) + sign;
    if (repositories > 0) census.blobs.set(digest, [blob.size, repositories]);
    else census.blobs.delete(digest);
    // A module's path of a blob is `<root>/<repository>/_blobs/…`, or that path alone at the tree.
    const inModule = treeBlobPath(repo.name, digest as Digest);
    for (const [module, at] of Object.entries(blob.modules)) {
      const paths = (census.modules.get(module)?.[1] ?? 0) + sign;
      const root = at.slice(0, Math.max(0, at.length - inModule.length - 1));
      if (paths > 0) census.modules.set(module, [root, paths]);
      else census.modules.delete(module);
    }
  }
}

/** PURE: the census of a generation holding exactly `repositories`. */
export function censusOf(generation: string, repositories: Iterable<RepositoryMetadata>): BlobCensus {
  const census: BlobCensus = { generation, blobs: new Map(), modules: new Map() };
  for (const repo of repositories) count(census, repo, 1);
  return census;
}

/** The census of the next generation: `before`'s with `removed` counted out and `added` in (mutates `before`). */
export function updateCensus(
  before: BlobCensus,
  generation: string,
  removed: Iterable<RepositoryMetadata>,
  added: Iterable<RepositoryMetadata>,
): BlobCensus {
  for (const repo of removed) count(before, repo, -1);
  for (const repo of added) count(before, repo, 1);
  before.generation = generation;
  return before;
}

/** PURE: a generation's totals from its census and its tag count. */
export function censusTotals(census: BlobCensus, tags: number): GenerationTotals {
  let uniqueBytes = 0;
  let referencedBytes = 0;
  for (const [size, repositories] of census.blobs.values()) {
    uniqueBytes += size;
    referencedBytes += size * repositories;
  }
  return { tags, blobs: census.blobs.size, uniqueBytes, referencedBytes };
}

const isCount = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;

/** The census of `generation`, or undefined when there is none for it (or it cannot be read). */
export async function readCensus(stateDir: string, generation: string): Promise<BlobCensus | undefined> {
  const text = await readFile(path.join(stateDir, BLOB_CENSUS_FILE), 'utf8').catch(() => undefined);
  try {
    const raw = JSON.parse(text ?? 'null') as {
      formatVersion?: unknown;
      generation?: unknown;
      blobs?: Record<string, unknown>;
      modules?: Record<string, unknown>;
    } | null;
    if (raw?.formatVersion !== 1 || raw.generation !== generation) return undefined;
    const blobs = Object.entries(raw.blobs ?? {});
    const modules = Object.entries(raw.modules ?? {});
    // Derived data, read back only by us: a shape check; anything else and the run counts afresh.
    const valid =
      blobs.every(([, v]) => Array.isArray(v) && v.length === 2 && isCount(v[0]) && isCount(v[1]) && v[1] > 0) &&
      modules.every(([, v]) => Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && isCount(v[1]));
    if (!valid) return undefined;
    return {
      generation,
      blobs: new Map(blobs as Array<[string, [number, number]]>),
      modules: new Map(modules as Array<[string, [string, number]]>),
    };
  } catch {
    return undefined;
  }
}

export async function writeCensus(stateDir: string, census: BlobCensus): Promise<void> {
  const body = {
    formatVersion: 1,
    generation: census.generation,
    blobs: Object.fromEntries(census.blobs),
    modules: Object.fromEntries(census.modules),
  };
  await writeFileAtomic(path.join(stateDir, BLOB_CENSUS_FILE), JSON.stringify(body));
}
