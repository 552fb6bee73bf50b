// The last step of a sync: the next generation from the applied repositories (a --repo run
// carries the others over), written only when something changed.
import type { Config } from '../config/load.js';
import type { Generation } from '../publish/generations.js';
import { publishGeneration } from '../publish/generations.js';
import type { GenerationIndex, RepositoryMetadata } from '../publish/metadata-types.js';
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
  targeted: boolean,
  at: Date,
): Promise<Published> {
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
    source: sourceDescription,
    generator: GENERATOR,
    createdAt: at.toISOString(),
    repositories: [...next.values()],
    keepGenerations: config.metadata.keepGenerations,
  });
  return { id, published: true, repositories: [...next.values()], modules };
}
