// The last step of a sync: the next generation from the applied repositories and those the plan
// carries forward as published, written only when something changed. A repository unchanged since
// the previous generation keeps its file there: only changed ones are written.
import type { Config } from '../config/load.js';
import type { Generation } from '../publish/generations.js';
import { FORMAT_VERSION, type GenerationIndex, type RepositoryMetadata } from '../publish/metadata-types.js';
import { publishGeneration } from '../publish/publish-generation.js';
import { GENERATOR } from '../version.js';
import { indexModules } from './modules.js';

/** The slices of the config that publishing reads. */
export type PublishConfig = Pick<Config, 'modules'> & {
  storage: Pick<Config['storage'], 'metadata'>;
  metadata: Pick<Config['metadata'], 'keepGenerations'>;
};

export interface Published {
  id: string;
  /** False when nothing changed and the current generation stays. */
  published: boolean;
  repositories: RepositoryMetadata[];
  modules: GenerationIndex['modules'];
}

export async function publishRun(
  config: PublishConfig,
  sourceDescription: string,
  previous: Generation | undefined,
  repositories: readonly RepositoryMetadata[],
  /** Published repositories kept as they are (plan.generation.carried). */
  carried: readonly string[],
  at: Date,
): Promise<Published> {
  const next = new Map(
    carried.flatMap((name) =>
      previous?.repositories.has(name) ? [[name, previous.repositories.get(name)!] as const] : [],
    ),
  );
  for (const repo of repositories) {
    if (Object.keys(repo.tags).length) next.set(repo.name, repo);
    else next.delete(repo.name);
  }
  // An unchanged repository is the previous generation's object itself (apply keeps it).
  const kept = (name: string, repo: RepositoryMetadata) => previous?.repositories.get(name) === repo;
  const unchanged =
    previous &&
    // A format-1 generation is rewritten in format 2 by the first sync after the upgrade.
    previous.index.formatVersion === FORMAT_VERSION &&
    next.size === previous.repositories.size &&
    [...next].every(([name, repo]) => kept(name, repo));
  if (unchanged)
    return { id: previous.id, published: false, repositories: [...next.values()], modules: previous.index.modules };
  const modules = indexModules(
    config.modules,
    [...next.values()].flatMap((repo) => Object.values(repo.blobs).map((blob) => blob.modules)),
  );
  const id = await publishGeneration(config.storage.metadata, {
    modules,
    source: sourceDescription,
    generator: GENERATOR,
    createdAt: at.toISOString(),
    repositories: [...next].map(([name, metadata]) => {
      const ref = previous?.index.formatVersion === FORMAT_VERSION ? previous.index.repositories[name] : undefined;
      return ref && kept(name, metadata) ? { metadata, ref } : { metadata };
    }),
    keepGenerations: config.metadata.keepGenerations,
  });
  return { id, published: true, repositories: [...next.values()], modules };
}
