import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Config } from '../config/load.js';
import { NotFoundError, TooLargeError, errorCode } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import { manifestRelPath } from '../publish/metadata-paths.js';
import type { AttachmentEntry, RepositoryMetadata } from '../publish/metadata-types.js';
import type { Source } from '../source/source.js';
import { followAttachments, isOrdinaryTag, ordinaryTags, type Resolved } from './attachments.js';
import { planTags, previousClosure, type Closure, type TagPlan } from './tag-plan.js';
import { resolveTag, type ManifestCache, type ResolvedTag } from './resolve.js';
import { explainTags, surelySelected, type FilteredTag } from './select.js';
import { failure, type Failure } from '../report/failure.js';
import { SingleFlight } from './single-flight.js';

/** Tags of one repository HEADed, resolved or applied at once: bounds files and requests whatever the tag count. */
export const TAG_CONCURRENCY = 16;

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
  /** Why every published tag is kept as it was without a look at the tags (the listing failed, too many tags). */
  carried: string | undefined;
  /** The source lists no tags at all (404 on the tags list, `"tags": null`, `[]`): an empty repository, no failure. */
  empty: boolean;
  tags: Map<string, TagState>;
  /** Referrers no tag names (the referrers API listed them): published with the repository, untagged. */
  attached: Map<Digest, TagState>;
  /** Subject digest -> its attachments (entries whose manifests fail to apply are dropped then). */
  attachments: Map<Digest, AttachmentEntry[]>;
  failures: Failure[];
}

/** The slices of the config that resolving reads. */
export type ResolveConfig = Pick<Config, 'tags' | 'platforms' | 'attachments'> & {
  storage: Pick<Config['storage'], 'metadata'>;
};

/** Keep what the previous generation published for a tag that failed now: nothing is lost. */
export function keptTag(previous: RepositoryMetadata | undefined, tag: string): KeptTag | undefined {
  const digest = previous?.tags[tag]?.digest;
  return digest ? keptDigest(previous, digest) : undefined;
}

function keptDigest(previous: RepositoryMetadata | undefined, digest: Digest): KeptTag | undefined {
  const closure = previous ? previousClosure(previous, digest) : undefined;
  return closure ? { kind: 'kept', digest, closure } : undefined;
}

const resolvedOf = (state: TagState): Resolved => ({
  digest: state.digest,
  manifests: [...(state.kind === 'kept' ? state.closure : state.resolved).manifests.keys()],
});

/**
 * Phase 1 for one repository: list and select tags, HEAD each (cheap: unchanged tags cost no
 * manifest GET), fetch the manifests of new or moved tags, then follow what is attached to every
 * manifest kept. Failures are per tag.
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
  const attached = new Map<Digest, TagState>();
  const plan: TagPlan = { added: [], changed: [], unchanged: [], removed: [] };
  const heads = new Map<string, Digest>();
  const resolution: RepositoryResolution = {
    name,
    previous,
    plan,
    filtered: [],
    heads,
    carried: undefined,
    empty: false,
    tags,
    attached,
    attachments: new Map(),
    failures,
  };
  /** Keep every published tag as it was (nothing is lost), and say why. */
  const carry = (error: unknown, why: string): RepositoryResolution => {
    failures.push(failure(error, { repository: name }));
    resolution.carried = why;
    for (const tag of Object.keys(previous?.tags ?? {})) {
      const kept = keptTag(previous, tag);
      if (kept) tags.set(tag, kept);
    }
    for (const [digest, state] of previousUntagged(previous)) attached.set(digest, state);
    resolution.attachments = new Map(Object.entries(previous?.attachments ?? {}) as Array<[Digest, AttachmentEntry[]]>);
    return resolution;
  };
  const max = config.tags.maxPerRepository;
  /** `selected` is unknown when the listing stopped at the limit. */
  const overLimit = (selected?: number) => {
    const count = selected === undefined ? 'more tags selected than' : `${selected} tags selected, more than`;
    return new TooLargeError(
      `${name}: ${count} tags.maxPerRepository (${max}); narrow tags.include/exclude/keepNewest or raise the limit (its published tags are kept)`,
    );
  };
  const refuse = (error: TooLargeError) => carry(error, `over tags.maxPerRepository (${max})`);
  // Over the limit is known while the listing is read: the source stops there and keeps no names.
  const sure = surelySelected(config.tags);
  let refusal: TooLargeError | undefined;
  const limit = {
    max,
    counts: (tag: string) => isOrdinaryTag(tag, config.attachments) && sure(tag),
    refuse: () => (refusal = overLimit()),
  };
  let listing: string[];
  try {
    listing = await source.listTags(name, limit);
  } catch (error) {
    if (refusal && error === refusal) return refuse(refusal);
    // A repository the catalog names but the tags list does not know has no tags: empty, not failed.
    if (error instanceof NotFoundError) listing = [];
    // An incomplete listing too: the tag filters (keepNewest) need every tag to decide.
    else return carry(error, `tag listing failed (${errorCode(error)})`);
  }
  resolution.empty = listing.length === 0;

  // Bounded whatever the tag count; tags naming one manifest share one resolution (and one apply).
  const concurrent = pLimit(TAG_CONCURRENCY);
  const resolutions = new SingleFlight<Digest, ResolvedTag>();
  const resolve = (digest: Digest) =>
    resolutions.run(digest, () => concurrent(() => resolveTag(source, cache, name, digest, config.platforms)));
  const resolveTags = async (selected: string[]): Promise<Map<string, Resolved>> => {
    await Promise.all(
      selected.map(async (tag) => {
        try {
          heads.set(tag, (await concurrent(() => source.headManifest(name, tag))).digest);
        } catch (error) {
          failures.push(failure(error, { repository: name, tag }));
          const kept = keptTag(previous, tag);
          if (kept) tags.set(tag, kept);
        }
      }),
    );
    const part = planTags(
      new Map(selected.flatMap((tag) => (heads.has(tag) ? [[tag, heads.get(tag)!]] : []))),
      previous,
    );
    plan.added.push(...part.added);
    plan.changed.push(...part.changed);
    plan.unchanged.push(...part.unchanged);
    for (const tag of part.unchanged) tags.set(tag, keptTag(previous, tag)!);
    await Promise.all(
      [...part.added, ...part.changed].map(async (tag) => {
        const digest = heads.get(tag)!;
        try {
          tags.set(tag, { kind: 'new', digest, resolved: await resolve(digest) });
        } catch (error) {
          failures.push(failure(error, { repository: name, tag, digest }));
          const kept = keptTag(previous, tag);
          if (kept) tags.set(tag, kept);
        }
      }),
    );
    return new Map(selected.flatMap((tag) => (tags.has(tag) ? [[tag, resolvedOf(tags.get(tag)!)] as const] : [])));
  };

  const resolveUntagged = async (digests: Digest[]): Promise<Map<Digest, Resolved>> => {
    await Promise.all(
      digests.map(async (digest) => {
        try {
          attached.set(
            digest,
            keptDigest(previous, digest) ?? { kind: 'new', digest, resolved: await resolve(digest) },
          );
        } catch (error) {
          failures.push(failure(error, { repository: name, digest }));
        }
      }),
    );
    return new Map(digests.flatMap((d) => (attached.has(d) ? [[d, resolvedOf(attached.get(d)!)] as const] : [])));
  };

  const { selected, filtered } = explainTags(config.tags, ordinaryTags(listing, config.attachments));
  // keepNewest's versions are not counted while listing: the whole selection is checked again.
  if (selected.length > max) return refuse(overLimit(selected.length));
  resolution.filtered = filtered;
  const roots = await resolveTags(selected);
  if (config.attachments.enabled) {
    const followed = await followAttachments(
      {
        source,
        repository: name,
        listing: new Set(listing),
        resolveTags,
        resolveUntagged,
        manifestBytes: (digest) => manifestBytes(config.storage.metadata, tags, attached, digest),
      },
      config.attachments,
      [...roots.values()].flatMap((r) => r.manifests),
    );
    resolution.attachments = followed.attachments;
    failures.push(...followed.failures);
  }
  for (const list of Object.values(plan) as string[][]) list.sort();
  plan.removed = Object.keys(previous?.tags ?? {})
    .filter((tag) => !heads.has(tag))
    .sort();
  return resolution;
}

/** What a previous generation published untagged: the closures of its API-listed referrers. */
function previousUntagged(previous: RepositoryMetadata | undefined): Map<Digest, KeptTag> {
  const out = new Map<Digest, KeptTag>();
  for (const entries of Object.values(previous?.attachments ?? {}))
    for (const entry of entries) {
      const kept = entry.tag === undefined ? keptDigest(previous, entry.digest) : undefined;
      if (kept) out.set(entry.digest, kept);
    }
  return out;
}

/** A manifest's bytes: fetched in this run, else as an earlier run stored them. */
async function manifestBytes(
  metadataDir: string,
  tags: ReadonlyMap<string, TagState>,
  attached: ReadonlyMap<Digest, TagState>,
  digest: Digest,
): Promise<Buffer | undefined> {
  for (const state of [...tags.values(), ...attached.values()]) {
    const bytes = state.kind === 'new' ? state.resolved.bytes.get(digest) : undefined;
    if (bytes) return bytes;
  }
  return readFile(path.join(metadataDir, manifestRelPath(digest))).catch(() => undefined);
}
