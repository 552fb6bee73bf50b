// Carry out a sync plan: fetch each missing blob once, link every new tag's blobs into the tree,
// store its manifests, and build each repository's metadata. A tag that fails keeps what was
// published for it.
import pLimit from 'p-limit';
import type { Config } from '../config/load.js';
import type { Digest } from '../oci/digest.js';
import { carryFirstGenerations } from '../publish/first-generation.js';
import type { RepositoryMetadata } from '../publish/metadata-types.js';
import type { Failure } from '../report/failure.js';
import type { Source } from '../source/source.js';
import type { ObjectStore } from '../store/object-store.js';
import { applyNewTag, type ApplyContext } from './apply-tag.js';
import { BlobFetcher, type FetchCounters } from './blob-fetcher.js';
import type { SyncEvents } from './events.js';
import { updateHistory } from './history.js';
import type { SyncPlan } from './plan.js';
import { REPOSITORY_CONCURRENCY, settleAll } from './read.js';
import { publishedAttachments } from './attachments.js';
import { TAG_CONCURRENCY, keptTag, type RepositoryResolution, type TagState } from './resolve-repository.js';
import type { ResolvedTag } from './resolve.js';
import { SingleFlight } from './single-flight.js';
import { buildRepositoryMetadata, type Closure } from './tag-plan.js';

/** The slices of the config that applying reads. */
export type ApplyConfig = Pick<Config, 'modules'> & {
  storage: Pick<Config['storage'], 'metadata'>;
  retention: Pick<Config['retention'], 'historyDays'>;
};

export interface AppliedRepository {
  metadata: RepositoryMetadata;
  /** Its failures: those of reading, then those of applying. */
  failures: Failure[];
}

export interface Applied {
  repositories: AppliedRepository[];
  counters: FetchCounters;
  /** Tree paths linked or replaced (or tried), relative to the tree. */
  linked: string[];
}

export async function applyPlan(
  plan: SyncPlan,
  config: ApplyConfig,
  source: Source,
  store: ObjectStore,
  events: SyncEvents,
  syncedAt: string,
): Promise<Applied> {
  const fetcher = new BlobFetcher(source, store, events);
  const manifestWrites = new SingleFlight<Digest, void>();
  const linked = new Set<string>();
  const limit = pLimit(REPOSITORY_CONCURRENCY);
  const repositories = await settleAll(
    plan.repositories.map(({ resolution: r }) =>
      limit(() =>
        applyRepository(
          r,
          {
            repository: r.name,
            fetcher,
            store,
            layout: config.modules,
            metadataDir: config.storage.metadata,
            manifestWrites,
            linked,
          },
          config.retention.historyDays,
          syncedAt,
          events,
        ),
      ),
    ),
  );
  await store.syncDirectories();
  return { repositories, counters: fetcher.counters, linked: [...linked] };
}

/**
 * Apply a repository's tags, TAG_CONCURRENCY at a time and each distinct resolution once (tags
 * naming one manifest share it); a tag that fails keeps what was published for it.
 */
async function applyRepository(
  r: RepositoryResolution,
  ctx: ApplyContext,
  historyDays: number,
  syncedAt: string,
  events: SyncEvents,
): Promise<AppliedRepository> {
  const failures = [...r.failures];
  const limit = pLimit(TAG_CONCURRENCY);
  const once = new Map<ResolvedTag, ReturnType<typeof applyNewTag>>();
  const apply = async (label: string, state: TagState, fallback: () => Outcome | undefined) => {
    if (state.kind === 'kept') return state;
    let result = once.get(state.resolved);
    if (!result) {
      result = limit(() => applyNewTag(ctx, label, state.resolved));
      once.set(state.resolved, result);
    }
    const applied = await result;
    if ('closure' in applied) return { digest: state.digest, closure: applied.closure };
    // Each tag that shares the failed resolution failed too, and says so.
    failures.push(...applied.failures.map((f) => ({ ...f, tag: label })));
    return fallback();
  };
  const [applied, attached] = await Promise.all([
    Promise.all(
      [...r.tags].map(async ([tag, state]) => [tag, await apply(tag, state, () => keptTag(r.previous, tag))] as const),
    ),
    Promise.all([...r.attached].map(([digest, state]) => apply(digest, state, () => undefined))),
  ]);
  const closure: Closure = { manifests: new Map(), blobs: new Map() };
  const tags = new Map<string, Digest>();
  for (const [tag, outcome] of [...applied].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!outcome) continue;
    merge(closure, outcome.closure);
    tags.set(tag, outcome.digest);
  }
  for (const outcome of attached) if (outcome) merge(closure, outcome.closure);
  events.repositoryDone?.(r.name, failures);
  const history = updateHistory(r.previous?.history, tags, syncedAt, historyDays);
  const attachments = publishedAttachments(r.attachments, closure);
  const built = carryFirstGenerations(
    buildRepositoryMetadata(r.name, syncedAt, tags, closure, history, attachments),
    r.previous,
  );
  // Unchanged content keeps its timestamp, so a no-op run writes no new generation.
  const metadata = r.previous && sameContent(r.previous, built) ? r.previous : built;
  return { metadata, failures };
}

type Outcome = { digest: Digest; closure: Closure };

function merge(into: Closure, from: Closure): void {
  for (const [digest, entry] of from.manifests) into.manifests.set(digest, entry);
  for (const [digest, entry] of from.blobs) into.blobs.set(digest, entry);
}

function sameContent(a: RepositoryMetadata, b: RepositoryMetadata): boolean {
  return JSON.stringify({ ...a, syncedAt: '' }) === JSON.stringify({ ...b, syncedAt: '' });
}
