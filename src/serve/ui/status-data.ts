import { describeError } from '../../errors.js';
import { readLastRuns } from '../../report/last-run.js';
import { listenerStateDir, readListenerStatus } from '../../status/collect.js';
import type { Generation, MetadataReader } from '../metadata-reader.js';
import type { MirrorConfig } from '../../mirror-list/mirror-config.js';
import type { MirrorStateWatch } from '../mirror-state-watch.js';
import { LagHistory, RedirectTally } from './mirror-watch.js';
import { generationFacts, type GenerationFacts } from './view/facts.js';
import { historyModel, type HistoryModel } from './view/history.js';
import { mirrorsModel, type MirrorsModel } from './view/mirrors.js';
import { overviewModel, type OverviewModel } from './view/overview.js';
import {
  repositoryListModel,
  repositoryModel,
  type RepositoryListModel,
  type RepositoryModel,
} from './view/repositories.js';

// The status page's reads: metadata through serve's own MetadataReader (the cache the registry
// API uses), run records from the state directory when serve was given one, the mirror checker's
// state when there is one. Each page's figures come from one generation.

export interface StatusSources {
  reader: MetadataReader;
  mirrors: MirrorConfig;
  /** `<storage root>/state`: the last-run records; undefined: runs are not shown. */
  stateDir?: string;
  /** The listener's state directory (default `<state>/listen`). */
  listenStateDir?: string;
  /** serve's watch of the mirror checker's state file, shared with blob routing. */
  mirrorState?: MirrorStateWatch;
  now?: () => Date;
}

export class StatusData {
  readonly redirects: RedirectTally;
  private readonly lagHistory = new LagHistory();
  // Generations are immutable: their figures are computed once, and forgotten with them.
  private readonly facts = new WeakMap<Generation, Promise<GenerationFacts>>();
  private readonly now: () => Date;

  constructor(private readonly sources: StatusSources) {
    this.redirects = new RedirectTally(sources.mirrors.mirrors.map((m) => m.url));
    this.now = sources.now ?? (() => new Date());
    // A sample per state the checker wrote that serve noticed, viewed or not.
    sources.mirrorState?.onState((state) => this.lagHistory.observe(state));
    if (sources.mirrorState?.state) this.lagHistory.observe(sources.mirrorState.state);
  }

  /** The current generation, or why there is none. */
  async current(): Promise<Generation | { problem: string }> {
    return this.sources.reader.current().catch((error: unknown) => ({ problem: describeError(error) }));
  }

  factsOf(generation: Generation): Promise<GenerationFacts> {
    let pending = this.facts.get(generation);
    if (!pending) {
      pending = Promise.all(generation.repositoryNames.map((name) => generation.repository(name)!)).then((repos) =>
        generationFacts(generation, repos),
      );
      pending.catch(() => this.facts.delete(generation));
      this.facts.set(generation, pending);
    }
    return pending;
  }

  async overview(): Promise<OverviewModel> {
    const generation = await this.current();
    const { stateDir, listenStateDir } = this.sources;
    const [facts, runs, listener] = await Promise.all([
      'problem' in generation ? generation : this.factsOf(generation),
      stateDir === undefined ? undefined : readLastRuns(stateDir),
      stateDir === undefined ? undefined : readListenerStatus(listenerStateDir(stateDir, listenStateDir)),
    ]);
    return overviewModel({ now: this.now(), facts, runs, listener });
  }

  async mirrors(sort: string): Promise<MirrorsModel> {
    const generation = await this.current();
    const watch = this.sources.mirrorState;
    await watch?.settled();
    const problem = watch?.problem;
    return mirrorsModel({
      now: this.now(),
      list: this.sources.mirrors.mirrors,
      currentGeneration: 'problem' in generation ? null : generation.id,
      state: watch?.state ?? null,
      ...(problem === undefined
        ? {}
        : { stateProblem: watch?.state ? `${problem}; showing the last state read` : problem }),
      redirects: this.redirects.byMirror,
      masterRedirects: this.redirects.master,
      lagHistory: this.lagHistory.samples,
      sort,
    });
  }

  /** undefined: no generation is published. */
  async repositoryList(query: string): Promise<RepositoryListModel | undefined> {
    const generation = await this.current();
    if ('problem' in generation) return undefined;
    const facts = await this.factsOf(generation);
    return repositoryListModel(generation.id, facts.repositoryFacts, query);
  }

  /** undefined: no such repository in the current generation (or none published). */
  async repository(name: string, host: string): Promise<RepositoryModel | undefined> {
    const generation = await this.current();
    if ('problem' in generation) return undefined;
    const pending = generation.repository(name);
    return pending && repositoryModel(generation.id, await pending, host);
  }

  async history(): Promise<HistoryModel> {
    const kept = await this.sources.reader.keptGenerations().catch(() => [] as Generation[]);
    return historyModel(await Promise.all(kept.map((g) => this.factsOf(g))));
  }
}
