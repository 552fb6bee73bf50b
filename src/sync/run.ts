import path from 'node:path';
import pLimit from 'p-limit';
import type { Config } from '../config/load.js';
import { UsageError, describeError } from '../errors.js';
import { runGc } from '../gc/run-gc.js';
import { publishFileLists } from '../publish/file-list-record.js';
import { carryFirstGenerations } from '../publish/first-generation.js';
import { recordRun } from '../report/last-run.js';
import type { Digest } from '../oci/digest.js';
import type { BlobRef } from '../oci/manifest.js';
import { assertRepositoryName, isRepositoryName } from '../oci/reference.js';
import { MANIFESTS, publishGeneration, readCurrentGeneration, type Generation } from '../publish/generations.js';
import type { RepositoryMetadata } from '../publish/metadata-types.js';
import type { Source } from '../source/source.js';
import { sweepLeftovers } from '../store/leftovers.js';
import { checkHardlinks } from '../store/link-check.js';
import { acquireLock } from '../store/lock.js';
import { ObjectStore } from '../store/object-store.js';
import { GENERATOR } from '../version.js';
import { BlobFetcher } from './blob-fetcher.js';
import type { SyncEvents } from './events.js';
import { buildRepositoryMetadata, planBlobs, type BlobPlan, type Closure } from './plan.js';
import { applyNewTag, type ApplyContext } from './apply-tag.js';
import { updateHistory } from './history.js';
import { indexModules, sameLayout } from './modules.js';
import { keptTag, resolveRepository, type RepositoryResolution } from './resolve-repository.js';
import { ManifestCache } from './resolve.js';
import { isRepositorySelected, needsCatalog, selectRepositories } from './select.js';
import { failure, type Failure } from '../report/failure.js';
import { byteTotals, type SyncSummary } from '../report/sync-summary.js';

export interface SyncOptions {
  /** Only these repositories (each must be selected by the config); the rest are carried over. */
  repositories?: readonly string[];
  dryRun?: boolean;
  /** Wait this long for another run's lock instead of failing with exit 3. */
  lockWaitMs?: number;
  now?: () => Date;
}

const REPOSITORY_CONCURRENCY = 4;

/** Selected repositories; a catalog entry that is no valid name is a failure, not the end of the run. */
async function selectNames(
  config: Config,
  source: Source,
  only: readonly string[] | undefined,
): Promise<{ names: string[]; failures: Failure[] }> {
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
    return { names: [...new Set(only)].sort(), failures: [] };
  }
  const failures: Failure[] = [];
  const catalog = (needsCatalog(config.repositories) ? await source.listRepositories() : []).filter((name) => {
    try {
      assertRepositoryName(name, 'repository name in the catalog');
      return true;
    } catch (error) {
      failures.push(failure(error, { repository: '(catalog)' }));
      return false;
    }
  });
  return { names: selectRepositories(config.repositories, catalog), failures };
}

/** read -> pure plan -> apply: the whole sync, composed. */
export async function runSync(
  config: Config,
  source: Source,
  events: SyncEvents = {},
  options: SyncOptions = {},
): Promise<SyncSummary> {
  const started = Date.now();
  const now = options.now ?? (() => new Date());
  const dryRun = options.dryRun ?? false;
  const store = new ObjectStore(config.storage.state, config.storage.tree);
  const lock = dryRun
    ? undefined
    : await acquireLock(store.layout.lock, { command: 'sync', waitMs: options.lockWaitMs ?? 0 });
  const startedAt = new Date(started);
  try {
    const summary = await syncLocked(config, source, events, options, { store, started, now, dryRun });
    // The run's own result matters more than its status record: a full disk must not hide it.
    if (!dryRun) {
      await recordRun(config.storage.state, { startedAt, finishedAt: new Date(), summary }).catch((error: unknown) =>
        events.warn?.(`cannot record this run for blobmirror status: ${describeError(error)}`),
      );
    }
    return summary;
  } catch (error) {
    // status shows a run that died too; the original error is what the caller needs.
    if (!dryRun) await recordRun(config.storage.state, { startedAt, error }).catch(() => {});
    throw error;
  } finally {
    await lock?.release();
  }
}

interface RunContext {
  store: ObjectStore;
  started: number;
  now: () => Date;
  dryRun: boolean;
}

async function syncLocked(
  config: Config,
  source: Source,
  events: SyncEvents,
  options: SyncOptions,
  { store, started, now, dryRun }: RunContext,
): Promise<SyncSummary> {
  if (!dryRun) {
    // Under the lock and before writing anything: what killed runs left behind goes.
    const { metadata, tree, state } = config.storage;
    const swept = await sweepLeftovers([
      { dir: path.join(metadata, MANIFESTS), deep: true },
      { dir: metadata },
      { dir: tree },
      { dir: state },
      { dir: store.layout.tmp },
      { dir: store.layout.objects },
    ]);
    if (swept.length)
      events.warn?.(`removed ${swept.length} temp file(s) left by an interrupted run`, { files: swept.slice(0, 10) });
    await checkHardlinks(store.layout.objects, config.storage.tree);
    await store.init();
  }
  const published = await readCurrentGeneration(config.storage.metadata);
  // A changed module layout re-resolves every tag (blobs stay in the store) so every path moves.
  const previous = published && sameLayout(published.index, config.modules) ? published : undefined;
  if (published && !previous && options.repositories?.length) {
    // A targeted run would carry the other repositories over with paths of the old layout.
    throw new UsageError(
      `the module layout in ${config.file} differs from published generation ${published.id}; run a full sync (without --repo) first`,
    );
  }
  const { names, failures: catalogFailures } = await selectNames(config, source, options.repositories);
  events.repositoriesSelected?.(names);

  // Phase 1: tags and manifests (reads only).
  const cache = new ManifestCache();
  const limit = pLimit(REPOSITORY_CONCURRENCY);
  const resolutions = await settleAll(
    names.map((name) => limit(() => resolveRepository(config, source, cache, name, previous?.repositories.get(name)))),
  );

  // Plan: distinct blobs of new tags, minus what the store has.
  const needs = new Map<Digest, { blob: BlobRef; repository: string }>();
  for (const r of resolutions)
    for (const state of r.tags.values())
      if (state.kind === 'new')
        for (const blob of state.resolved.blobs.values())
          if (!needs.has(blob.digest)) needs.set(blob.digest, { blob, repository: r.name });
  const present = new Set<Digest>();
  await Promise.all(
    [...needs.values()].map(async ({ blob }) => (await store.has(blob.digest, blob.size)) && present.add(blob.digest)),
  );
  const blobPlan = planBlobs(
    [...needs.values()].map(({ blob }) => blob),
    (need) => present.has(need.digest),
  );
  events.blobsPlanned?.(blobPlan.fetch.length, blobPlan.bytesToFetch);
  if (dryRun)
    return summarize({
      started,
      dryRun,
      catalogFailures,
      resolutions,
      blobPlan,
      source,
      repositories: [],
      published: undefined,
      fetcher: undefined,
    });

  // Phase 2: fetch each missing blob once, link every new tag's blobs, store its manifests.
  const fetcher = new BlobFetcher(source, store, events);
  const syncedAt = now().toISOString();
  const repositories = await settleAll(
    resolutions.map((r) =>
      limit(() =>
        applyRepository(
          r,
          { repository: r.name, fetcher, store, layout: config.modules, metadataDir: config.storage.metadata },
          config,
          syncedAt,
          events,
        ),
      ),
    ),
  );
  await store.syncDirectories();
  const outcome = await publish(
    config,
    source,
    previous,
    repositories,
    options.repositories !== undefined && options.repositories.length > 0,
    now(),
  );
  const summary = summarize({
    started,
    dryRun,
    catalogFailures,
    resolutions,
    blobPlan,
    source,
    repositories,
    published: outcome,
    fetcher,
  });
  // Under the same lock, so nothing can publish between this sync and its gc.
  if (config.retention.gcAfterSync) summary.gc = await runGc(config, { lockHeld: true, now: now() });
  // Mirrors (quick-fedora-mirror) and MirrorManager read these; rewritten only when changed.
  await publishFileLists(config.storage.tree, config.storage.metadata, outcome.id, outcome.modules, {
    stateDir: config.storage.state,
  });
  return summary;
}

/** Like Promise.all, but rejects only once every promise has settled: nothing keeps writing after the lock is released. */
async function settleAll<T>(promises: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(promises);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
  return results.map((r) => (r as PromiseFulfilledResult<T>).value);
}

/** Apply a repository's tags (concurrently); a tag that fails keeps what was published for it. */
async function applyRepository(
  r: RepositoryResolution,
  ctx: ApplyContext,
  config: Config,
  syncedAt: string,
  events: SyncEvents,
): Promise<RepositoryMetadata> {
  const applied = await Promise.all(
    [...r.tags].map(async ([tag, state]): Promise<[string, { digest: Digest; closure: Closure } | undefined]> => {
      if (state.kind === 'kept') return [tag, state];
      const result = await applyNewTag(ctx, tag, state.resolved);
      if ('closure' in result) return [tag, { digest: state.digest, closure: result.closure }];
      r.failures.push(...result.failures);
      return [tag, keptTag(r.previous, tag)];
    }),
  );
  const closure: Closure = { manifests: new Map(), blobs: new Map() };
  const tags = new Map<string, Digest>();
  for (const [tag, outcome] of applied.sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!outcome) continue;
    merge(closure, outcome.closure);
    tags.set(tag, outcome.digest);
  }
  events.repositoryDone?.(r.name, r.failures.length);
  const history = updateHistory(r.previous?.history, tags, syncedAt, config.retention.historyDays);
  const built = carryFirstGenerations(buildRepositoryMetadata(r.name, syncedAt, tags, closure, history), r.previous);
  // Unchanged content keeps its timestamp, so a no-op run writes no new generation.
  return r.previous && sameContent(r.previous, built) ? r.previous : built;
}

function merge(into: Closure, from: Closure): void {
  for (const [digest, entry] of from.manifests) into.manifests.set(digest, entry);
  for (const [digest, entry] of from.blobs) into.blobs.set(digest, entry);
}

function sameContent(a: RepositoryMetadata, b: RepositoryMetadata): boolean {
  return JSON.stringify({ ...a, syncedAt: '' }) === JSON.stringify({ ...b, syncedAt: '' });
}

async function publish(
  config: Config,
  source: Source,
  previous: Generation | undefined,
  repositories: RepositoryMetadata[],
  targeted: boolean,
  at: Date,
) {
  const next = new Map(targeted ? previous?.repositories : []);
  for (const repo of repositories) {
    if (Object.keys(repo.tags).length) next.set(repo.name, repo);
    else next.delete(repo.name);
  }
  const unchanged =
    previous &&
    next.size === previous.repositories.size &&
    [...next].every(([name, repo]) => previous.repositories.get(name) === repo);
  if (unchanged)
    return { id: previous.id, published: false, repositories: [...next.values()], modules: previous.index.modules };
  const modules = indexModules(
    config.modules,
    [...next.values()].flatMap((repo) => Object.values(repo.blobs).map((blob) => blob.modules)),
  );
  const id = await publishGeneration(config.storage.metadata, {
    modules,
    source: source.description,
    generator: GENERATOR,
    createdAt: at.toISOString(),
    repositories: [...next.values()],
    keepGenerations: config.metadata.keepGenerations,
  });
  return { id, published: true, repositories: [...next.values()], modules };
}

function summarize(input: {
  started: number;
  dryRun: boolean;
  catalogFailures: Failure[];
  resolutions: RepositoryResolution[];
  blobPlan: BlobPlan;
  source: Source;
  repositories: RepositoryMetadata[];
  published: { id: string; published: boolean; repositories: RepositoryMetadata[] } | undefined;
  fetcher: BlobFetcher | undefined;
}): SyncSummary {
  const failures: Failure[] = [...input.catalogFailures, ...input.resolutions.flatMap((r) => r.failures)];
  const failedRepos = input.resolutions.filter((r) => r.failures.length > 0).length;
  const totals = byteTotals(input.published?.repositories ?? []);
  const plan = input.resolutions.map((r) => ({
    name: r.name,
    added: r.plan.added,
    changed: r.plan.changed,
    removed: r.plan.removed.filter((tag) => !r.tags.has(tag)),
    unchanged: r.plan.unchanged.length,
  }));
  const sum = (pick: (p: (typeof plan)[number]) => number) => plan.reduce((acc, p) => acc + pick(p), 0);
  const counters = input.fetcher?.counters;
  return {
    result: failures.length === 0 ? 'ok' : failedRepos === input.resolutions.length ? 'failed' : 'partial',
    dryRun: input.dryRun,
    generation: input.published?.id,
    published: input.published?.published ?? false,
    repositories: {
      selected: input.resolutions.length,
      synced: input.resolutions.length - failedRepos,
      failed: failedRepos,
    },
    tags: {
      total: sum((p) => p.added.length + p.changed.length + p.unchanged),
      added: sum((p) => p.added.length),
      changed: sum((p) => p.changed.length),
      unchanged: sum((p) => p.unchanged),
      removed: sum((p) => p.removed.length),
    },
    blobs: {
      referenced: totals.blobs,
      toFetch: input.blobPlan.fetch.length,
      fetched: counters?.fetched ?? 0,
      reused: input.blobPlan.reuse.length,
    },
    bytes: {
      toFetch: input.blobPlan.bytesToFetch,
      fetched: counters?.bytesFetched ?? 0,
      resumed: counters?.bytesResumed ?? 0,
      unique: totals.unique,
      referenced: totals.referenced,
      dedupeRatio: totals.dedupeRatio,
    },
    requests: { ...input.source.stats },
    durationMs: Date.now() - input.started,
    plan,
    failures,
  };
}
