import type { Config } from '../config/load.js';
import type { Digest } from '../oci/digest.js';
import type { RepositoryMetadata } from '../publish/metadata-types.js';
import type { Source } from '../source/source.js';
import { planTags, previousClosure, type Closure, type TagPlan } from './tag-plan.js';
import { resolveTag, type ManifestCache, type ResolvedTag } from './resolve.js';
import { explainTags, type FilteredTag } from './select.js';
import { failure, type Failure } from '../report/failure.js';

/** One tag after phase 1: either carried over from the previous generation or fetched now. */
export interface KeptTag {
  kind: 'kept';
  digest: Digest;
  closure: Closure;
}
export type TagState = KeptTag | { kind: 'new'; digest: Digest; resolved: ResolvedTag };

export interface RepositoryResolution {
  name: string;
  previous: RepositoryMetadata | undefined;
  plan: TagPlan;
  /** Listed tags the config leaves out, with the rule (empty when the listing failed). */
  filtered: FilteredTag[];
  /** What each selected tag's HEAD answered (absent: it failed). */
  heads: Map<string, Digest>;
  /** The tag listing failed: every published tag is kept as it was. */
  listingFailed: boolean;
  tags: Map<string, TagState>;
  failures: Failure[];
}

/** The slices of the config that resolving reads. */
export type ResolveConfig = Pick<Config, 'tags' | 'platforms'>;

/** Keep what the previous generation published for a tag that failed now: nothing is lost. */
export function keptTag(previous: RepositoryMetadata | undefined, tag: string): KeptTag | undefined {
  const digest = previous?.tags[tag]?.digest;
  const closure = digest ? previousClosure(previous!, digest) : undefined;
  return digest && closure ? { kind: 'kept', digest, closure } : undefined;
}

/**
 * Phase 1 for one repository: list and select tags, HEAD each (cheap: unchanged tags cost no
 * manifest GET), and fetch the manifests of new or moved tags. Failures are per tag.
 */
export async function resolveRepository(
  config: ResolveConfig,
  source: Source,
  cache: ManifestCache,
  name: string,
  previous: RepositoryMetadata | undefined,
): Promise<RepositoryResolution> {
  const failures: Failure[] = [];
  const tags = new Map<string, TagState>();
  const keepAll = () => {
    for (const tag of Object.keys(previous?.tags ?? {})) {
      const kept = keptTag(previous, tag);
      if (kept) tags.set(tag, kept);
    }
  };
  let selected: string[];
  let filtered: FilteredTag[];
  try {
    ({ selected, filtered } = explainTags(config.tags, await source.listTags(name)));
  } catch (error) {
    failures.push(failure(error, { repository: name }));
    keepAll();
    const plan = { added: [], changed: [], unchanged: [], removed: [] };
    return { name, previous, plan, filtered: [], heads: new Map(), listingFailed: true, tags, failures };
  }
  const heads = new Map<string, Digest>();
  await Promise.all(
    selected.map(async (tag) => {
      try {
        heads.set(tag, (await source.headManifest(name, tag)).digest);
      } catch (error) {
        failures.push(failure(error, { repository: name, tag }));
        const kept = keptTag(previous, tag);
        if (kept) tags.set(tag, kept);
      }
    }),
  );
  const plan = planTags(heads, previous);
  for (const tag of plan.unchanged) tags.set(tag, keptTag(previous, tag)!);
  await Promise.all(
    [...plan.added, ...plan.changed].map(async (tag) => {
      const digest = heads.get(tag)!;
      try {
        tags.set(tag, {
          kind: 'new',
          digest,
          resolved: await resolveTag(source, cache, name, digest, config.platforms),
        });
      } catch (error) {
        failures.push(failure(error, { repository: name, tag, digest }));
        const kept = keptTag(previous, tag);
        if (kept) tags.set(tag, kept);
      }
    }),
  );
  return { name, previous, plan, filtered, heads, listingFailed: false, tags, failures };
}
