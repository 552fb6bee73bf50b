import path from 'node:path';
import type { Config } from '../config/load.js';
import { runGc } from '../gc/run-gc.js';
import { announce, announcementBody } from '../publish/announcement.js';
import { fileListsStale, markFileListsStale, publishFileLists } from '../publish/file-list-record.js';
import { MANIFESTS, REPOSITORIES } from '../publish/metadata-paths.js';
import type { SyncSummary } from '../report/sync-summary.js';
import type { Source } from '../source/source.js';
import { sweepLeftovers } from '../store/leftovers.js';
import { checkHardlinks } from '../store/link-check.js';
import { acquireLock } from '../store/lock.js';
import { ObjectStore } from '../store/object-store.js';
import { applyPlan } from './apply.js';
import type { SyncEvents } from './events.js';
import { planSync, type SyncPlan } from './plan.js';
import { publishRun } from './publish.js';
import { readSync } from './read.js';
import { summarize } from './summarize.js';

export interface SyncOptions {
  /** Only these repositories (each must be selected by the config); the rest are carried over. */
  repositories?: readonly string[];
  dryRun?: boolean;
  /** Wait this long for another run's lock instead of failing with exit 3. */
  lockWaitMs?: number;
  /**
   * Aborted (SIGINT/SIGTERM): no new work. The source's requests honour it too, so blobs in
   * flight stop and stay resumable; nothing is published after it, except a publish already
   * under way, which completes (it is short, and atomic at its end).
   */
  signal?: AbortSignal;
  now?: () => Date;
}

const targeted = (options: SyncOptions) => (options.repositories?.length ?? 0) > 0;

/** read -> plan, writing nothing and taking no lock: what `--dry-run` prints. */
export async function planRun(
  config: Config,
  source: Source,
  events: SyncEvents = {},
  options: Pick<SyncOptions, 'repositories'> = {},
): Promise<{ plan: SyncPlan; summary: SyncSummary }> {
  const started = Date.now();
  const store = new ObjectStore(config.storage.state, config.storage.tree);
  const read = await readSync(config, source, store, options.repositories, events);
  const plan = planSync(read, config.modules, targeted(options));
  events.blobsPlanned?.(plan.blobs.fetch.length, plan.blobs.bytesToFetch);
  return { plan, summary: summarize({ durationMs: Date.now() - started, plan, stats: source.stats }) };
}

/** The whole sync under the tree lock: read -> plan -> apply -> publish, then gc and file lists. */
export async function runSync(
  config: Config,
  source: Source,
  events: SyncEvents = {},
  options: SyncOptions = {},
): Promise<SyncSummary> {
  if (options.dryRun) return (await planRun(config, source, events, options)).summary;
  const started = Date.now();
  const store = new ObjectStore(config.storage.state, config.storage.tree);
  const lock = await acquireLock(store.layout.lock, {
    command: 'sync',
    waitMs: options.lockWaitMs ?? 0,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  try {
    return await syncLocked(config, source, store, events, options, started);
  } finally {
    await lock.release();
  }
}

async function syncLocked(
  config: Config,
  source: Source,
  store: ObjectStore,
  events: SyncEvents,
  options: SyncOptions,
  started: number,
): Promise<SyncSummary> {
  const now = options.now ?? (() => new Date());
  // Between steps: a signal stops the run here. Inside them, the source's aborted requests fail
  // fast, so no new listing or blob starts; what read or apply finished is not published.
  const checkpoint = () => options.signal?.throwIfAborted();
  await prepareStorage(config.storage, store, events);
  const read = await readSync(config, source, store, options.repositories, events);
  checkpoint();
  const plan = planSync(read, config.modules, targeted(options));
  events.blobsPlanned?.(plan.blobs.fetch.length, plan.blobs.bytesToFetch);
  // Before the first link: a run that dies after it leaves lists the next run must not update.
  const listsStale = await fileListsStale(config.storage.state);
  if (plan.links.length) await markFileListsStale(config.storage.state);
  const applied = await applyPlan(plan, config, source, store, events, now().toISOString());
  checkpoint();
  const metadata = applied.repositories.map((r) => r.metadata);
  const published = await publishRun(config, source.description, read, metadata, plan.generation, now(), (message) =>
    events.warn?.(message),
  );
  const summary = summarize({ durationMs: Date.now() - started, plan, stats: source.stats, applied, published });
  // Under the same lock, so nothing can publish between this sync and its gc; an interrupted
  // run leaves gc to the next one, but still writes the file lists of what it published.
  if (config.retention.gcAfterSync && !options.signal?.aborted)
    summary.gc = await runGc(config, { lockHeld: true, now: now() });
  // Mirrors (quick-fedora-mirror) and MirrorManager read these; rewritten only when changed. A
  // --repo run updates them with what it linked; a full run walks the tree (and so corrects them).
  const since =
    targeted(options) && read.published && !listsStale && !summary.gc
      ? { since: { generation: read.published.id, linked: applied.linked } }
      : {};
  const lists = await publishFileLists(config.storage.tree, config.storage.metadata, published.id, published.modules, {
    stateDir: config.storage.state,
    ...since,
  });
  if (published.published && config.announce) {
    const dropped = plan.generation.dropped.map((d) => d.name);
    const body = announcementBody(
      published.id,
      read.previous,
      metadata,
      dropped,
      published.modules,
      lists,
      now().toISOString(),
    );
    const failed = await announce(config.announce, body);
    if (failed) events.warn?.(`${failed}; checkers will find the generation at their interval`);
  }
  return summary;
}

/** Under the lock and before writing anything: what killed runs left behind goes; hardlinks must work. */
async function prepareStorage(storage: Config['storage'], store: ObjectStore, events: SyncEvents): Promise<void> {
  const { metadata, tree, state } = storage;
  const swept = await sweepLeftovers([
    { dir: path.join(metadata, MANIFESTS), deep: true },
    { dir: path.join(metadata, REPOSITORIES), deep: true },
    { dir: metadata },
    { dir: tree },
    { dir: state },
    { dir: store.layout.lastRuns },
    { dir: store.layout.tmp },
    { dir: store.layout.objects },
  ]);
  if (swept.length)
    events.warn?.(`removed ${swept.length} temp file(s) left by an interrupted run`, { files: swept.slice(0, 10) });
  await checkHardlinks(store.layout.objects, tree);
  await store.init();
}
