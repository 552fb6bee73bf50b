// The last step of a sync: the next generation from the applied repositories and those the plan
// carries forward as published, written only when something changed. A repository unchanged since
// the previous generation keeps its file there: only changed ones are written. A --repo run that
// read only its repositories' files (read.census) takes the others' index entries as they are
// and updates the totals and modules from the census.
import type { Config } from '../config/load.js';
import { describeError } from '../errors.js';
import {
  censusOf,
  censusTotals,
  readCensus,
  updateCensus,
  writeCensus,
  type BlobCensus,
} from '../publish/blob-census.js';
import {
  FORMAT_VERSION,
  type GenerationIndex,
  type GenerationTotals,
  type RepositoryMetadata,
} from '../publish/metadata-types.js';
import { publishGeneration, type PublishedRepository } from '../publish/publish-generation.js';
import { GENERATOR } from '../version.js';
import type { SyncEvents } from './events.js';
import { indexModules } from './modules.js';
import type { GenerationPlan } from './plan.js';
import type { SyncRead } from './read.js';

/** The slices of the config that publishing reads. */
export type PublishConfig = Pick<Config, 'modules'> & {
  storage: Pick<Config['storage'], 'metadata' | 'state'>;
  metadata: Pick<Config['metadata'], 'keepGenerations'>;
};

export interface Published {
  id: string;
  /** False when nothing changed and the current generation stays. */
  published: boolean;
  modules: GenerationIndex['modules'];
  totals: GenerationTotals;
}

export async function publishRun(
  config: PublishConfig,
  sourceDescription: string,
  read: Pick<SyncRead, 'previous' | 'census'>,
  /** The applied repositories (an unchanged one is the previous generation's object itself). */
  repositories: readonly RepositoryMetadata[],
  generation: Pick<GenerationPlan, 'carried' | 'rewrite'>,
  at: Date,
  warn?: SyncEvents['warn'],
): Promise<Published> {
  const { previous } = read;
  const refs = previous?.index.formatVersion === FORMAT_VERSION ? previous.index.repositories : undefined;
  const next = new Map<string, PublishedRepository>();
  /** Each next repository's content, where this run read it (every one unless read.census). */
  const contents = new Map<string, RepositoryMetadata>();
  const keep = (name: string, metadata: RepositoryMetadata | undefined) => {
    const ref = refs?.[name];
    if (metadata) contents.set(name, metadata);
    if (ref) next.set(name, { name, ref });
    else if (metadata) next.set(name, { metadata });
  };
  for (const { name } of generation.carried) keep(name, previous?.repositories.get(name));
  for (const repo of repositories) {
    if (!Object.keys(repo.tags).length) continue;
    if (previous?.repositories.get(repo.name) === repo) keep(repo.name, repo);
    else {
      next.set(repo.name, { metadata: repo });
      contents.set(repo.name, repo);
    }
  }
  const unchanged =
    previous &&
    !generation.rewrite &&
    next.size === Object.keys(previous.index.repositories).length &&
    [...next.values()].every((entry) => 'ref' in entry);
  if (unchanged) {
    const index = previous.index as GenerationIndex;
    // A full run also keeps the census there for the --repo runs after it.
    if (!read.census && !(await readCensus(config.storage.state, previous.id)))
      await keepCensus(config.storage.state, censusOf(previous.id, contents.values()), warn);
    return { id: previous.id, published: false, modules: index.modules, totals: index.totals! };
  }
  const census = read.census
    ? updateCensus(
        read.census,
        '',
        repositories.flatMap((repo) => previous?.repositories.get(repo.name) ?? []),
        repositories.filter((repo) => next.has(repo.name)),
      )
    : censusOf('', contents.values());
  let tags = 0;
  for (const entry of next.values()) tags += 'ref' in entry ? entry.ref.tags : Object.keys(entry.metadata.tags).length;
  const totals = censusTotals(census, tags);
  const modules = indexModules(config.modules, [
    Object.fromEntries([...census.modules].map(([name, [root]]) => [name, root])),
  ]);
  const id = await publishGeneration(config.storage.metadata, {
    modules,
    totals,
    source: sourceDescription,
    generator: GENERATOR,
    createdAt: at.toISOString(),
    repositories: [...next.values()],
    keepGenerations: config.metadata.keepGenerations,
  });
  // After the switch: a crash before it leaves the census of the generation before, which the
  // next --repo run does not take (it reads every file then).
  census.generation = id;
  await keepCensus(config.storage.state, census, warn);
  return { id, published: true, modules, totals };
}

/**
 * The census is derived data: a run that cannot write it has still published (or kept) its
 * generation. What stays on disk is none or a census of another generation, which the next
 * --repo run does not take: it reads every repository file and writes the census again.
 */
async function keepCensus(stateDir: string, census: BlobCensus, warn: SyncEvents['warn']): Promise<void> {
  await writeCensus(stateDir, census).catch((error: unknown) =>
    warn?.(`blob census not written (${describeError(error)}): the next --repo run reads every repository file`),
  );
}
