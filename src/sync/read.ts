// The reads a sync plans from: the published generation, the selected repositories, their tags'
// HEADs and new manifests, and which needed blobs the store already has. Nothing is written.
import pLimit from 'p-limit';
import type { Config } from '../config/load.js';
import { ListingIncompleteError, UsageError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { assertRepositoryName, isRepositoryName } from '../oci/reference.js';
import { readCensus, type BlobCensus } from '../publish/blob-census.js';
import { readCurrentGeneration, type Generation } from '../publish/generations.js';
import { rewriteReason } from '../publish/metadata-types.js';
import { failure, type Failure } from '../report/failure.js';
import type { Source } from '../source/source.js';
import type { ObjectStore } from '../store/object-store.js';
import type { SyncEvents } from './events.js';
import { sameLayout } from './modules.js';
import { resolveRepository, type RepositoryResolution } from './resolve-repository.js';
import { ManifestCache } from './resolve.js';
import { isRepositorySelected, needsCatalog, selectRepositories } from './select.js';

/** The slices of the config that reading reads (`file` names it in errors). */
export type ReadConfig = Pick<Config, 'file' | 'repositories' | 'tags' | 'platforms' | 'modules' | 'attachments'> & {
  storage: Pick<Config['storage'], 'metadata' | 'state'>;
};

export interface SyncRead {
  /**
   * The current generation, if any. A --repo run reads only its repositories' files when the
   * census lets it total the others (`census` set); otherwise, every file.
   */
  published: Generation | undefined;
  /** The current generation's blob census, when only the targeted repositories' files were read. */
  census: BlobCensus | undefined;
  /** What this run compares with: the published generation unless the module layout changed. */
  previous: Generation | undefined;
  catalogFailures: Failure[];
  /**
   * Published repositories the config still selects that this run did not list: gone from a
   * complete catalog (removed), or beyond the page where an incomplete one broke (carried).
   */
  unlisted: string[];
  /** False when the catalog's pagination could not be completed (LISTING_INCOMPLETE). */
  catalogComplete: boolean;
  resolutions: RepositoryResolution[];
  /** Blobs of new tags the store already holds (at their size). */
  present: ReadonlySet<Digest>;
}

export const REPOSITORY_CONCURRENCY = 4;

interface Selected {
  names: string[];
  failures: Failure[];
  catalogComplete: boolean;
}

/** Selected repositories; a catalog entry that is no valid name is a failure, not the end of the run. */
async function selectNames(config: ReadConfig, source: Source, only: readonly string[] | undefined): Promise<Selected> {
  if (only?.length) {
    for (const name of only) {
      // The name becomes a tree path and a registry URL path: `../..` must never get that far.
      if (!isRepositoryName(name))
        throw new UsageError(
          `repository ${JSON.stringify(name)} is not a valid repository name (lowercase [a-z0-9._-] components joined by "/")`,
        );
      if (!isRepositorySelected(config.repositories, name)) {
        throw new UsageError(
          `repository ${JSON.stringify(name)} is not selected by repositories.include/exclude in ${config.file}`,
        );
      }
    }
    return { names: [...new Set(only)].sort(), failures: [], catalogComplete: true };
  }
  const failures: Failure[] = [];
  const { listed, complete } = needsCatalog(config.repositories)
    ? await listCatalog(source, failures)
    : { listed: [], complete: true };
  const catalog = listed.filter((name) => {
    try {
      assertRepositoryName(name, 'repository name in the catalog');
      return true;
    } catch (error) {
      failures.push(failure(error, { repository: '(catalog)' }));
      return false;
    }
  });
  return { names: selectRepositories(config.repositories, catalog), failures, catalogComplete: complete };
}

/** The catalog; one whose pagination broke after a page is what it listed, and a failure. */
async function listCatalog(source: Source, failures: Failure[]): Promise<{ listed: string[]; complete: boolean }> {
  try {
    return { listed: await source.listRepositories(), complete: true };
  } catch (error) {
    if (!(error instanceof ListingIncompleteError)) throw error;
    failures.push(failure(error, { repository: '(catalog)' }));
    return { listed: [...error.listed], complete: false };
  }
}

/** Like Promise.all, but rejects only once every promise has settled: nothing keeps writing after the lock is released. */
export async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

export async function readSync(
  config: ReadConfig,
  source: Source,
  store: ObjectStore,
  only: readonly string[] | undefined,
  events: SyncEvents,
): Promise<SyncRead> {
  let census: BlobCensus | undefined;
  const published = await readCurrentGeneration(config.storage.metadata, async (index) => {
    // A generation written again (rewriteReason) is written whole, from every file.
    if (!only?.length || rewriteReason(index)) return undefined;
    census = await readCensus(config.storage.state, index.generation);
    return census ? only : undefined;
  });
  // A changed module layout re-resolves every tag (blobs stay in the store) so every path moves.
  const previous = published && sameLayout(published.index, config.modules) ? published : undefined;
  if (published && !previous && only?.length) {
    // A targeted run would carry the other repositories over with paths of the old layout.
    throw new UsageError(
      `the module layout in ${config.file} differs from published generation ${published.id}; run a full sync (without --repo) first`,
    );
  }
  const { names, failures: catalogFailures, catalogComplete } = await selectNames(config, source, only);
  const selected = new Set(names);
  const unlisted = only?.length
    ? []
    : [...(published?.repositories.keys() ?? [])].filter(
        (name) => !selected.has(name) && isRepositorySelected(config.repositories, name),
      );
  if (!catalogComplete && published && !previous && unlisted.length) {
    // Carrying them forward would keep paths of the old layout; dropping them would lose them.
    throw new ListingIncompleteError(
      `${catalogFailures.find((f) => f.code === 'LISTING_INCOMPLETE')!.message}; the module layout in ${config.file} also differs from generation ${published.id}, so the ${unlisted.length} repositories not listed can be neither carried forward nor dropped: nothing was published`,
    );
  }
  events.repositoriesSelected?.(names);

  const cache = new ManifestCache();
  const limit = pLimit(REPOSITORY_CONCURRENCY);
  const resolutions = await settleAll(
    names.map((name) => limit(() => resolveRepository(config, source, cache, name, previous?.repositories.get(name)))),
  );
  const needed = new Map<Digest, number | undefined>();
  for (const r of resolutions)
    for (const state of [...r.tags.values(), ...r.attached.values()])
      if (state.kind === 'new')
        for (const blob of state.resolved.blobs.values())
          if (!needed.has(blob.digest)) needed.set(blob.digest, blob.size);
  const present = new Set<Digest>();
  await Promise.all([...needed].map(async ([digest, size]) => (await store.has(digest, size)) && present.add(digest)));
  return { published, census, previous, catalogFailures, unlisted, catalogComplete, resolutions, present };
}
