// PURE: what a sync will do, as a value. `read.ts` gathers the facts (listings, HEADs, manifests,
// what the store holds); this decides; `apply.ts` and `publish.ts` carry it out; the CLI prints it
// for --dry-run.
import { rewriteReason } from '../publish/metadata-types.js';
import type { Digest } from '../oci/digest.js';
import type { Failure } from '../report/failure.js';
import { tagBlobPaths, type ModuleLayout } from './modules.js';
import type { SyncRead } from './read.js';
import type { RepositoryResolution } from './resolve-repository.js';

export interface BlobNeed {
  digest: Digest;
  size: number | undefined;
}

export interface BlobPlan {
  fetch: BlobNeed[];
  reuse: BlobNeed[];
  bytesToFetch: number;
}

/** Distinct blobs to download: each once, however many repositories need it. */
export function planBlobs(needs: Iterable<BlobNeed>, present: (need: BlobNeed) => boolean): BlobPlan {
  const unique = new Map<Digest, BlobNeed>();
  for (const need of needs) if (!unique.has(need.digest)) unique.set(need.digest, need);
  const plan: BlobPlan = { fetch: [], reuse: [], bytesToFetch: 0 };
  for (const need of unique.values()) {
    if (present(need)) plan.reuse.push(need);
    else {
      plan.fetch.push(need);
      plan.bytesToFetch += need.size ?? 0;
    }
  }
  return plan;
}

/** `carried`: kept as published without a look at it (its repository's tag listing failed, or it has too many tags). */
export type TagVerdict = 'new' | 'changed' | 'unchanged' | 'removed' | 'filtered' | 'failed' | 'carried';

export interface TagDecision {
  tag: string;
  verdict: TagVerdict;
  /** What the tag points at now (new, changed, unchanged). */
  digest?: Digest;
  /** What the previous generation published for it. */
  previous?: Digest;
  why: string;
}

export interface RepositoryPlan {
  name: string;
  /** Every tag listed now or published before, sorted. */
  tags: TagDecision[];
  /** What apply works from (resolved manifests, closures kept from the previous generation). */
  resolution: RepositoryResolution;
}

/** A tree path to make a hardlink of a stored object. */
export interface LinkPlan {
  repository: string;
  digest: Digest;
  /** Relative to the tree root. */
  path: string;
}

/** A published repository this run does not sync, and why. */
export interface RepositoryVerdict {
  name: string;
  why: string;
}

export interface GenerationPlan {
  /** The generation this run compares with (none on a first run or after a layout change). */
  base: string | undefined;
  /** A --repo run: the other published repositories are carried over as they are. */
  targeted: boolean;
  /** Published repositories kept as they are: not in --repo, or not listed by an incomplete catalog. */
  carried: RepositoryVerdict[];
  /** Published repositories the next generation drops: no longer selected, or gone from a complete catalog. */
  dropped: RepositoryVerdict[];
  /** Whether a new generation is expected (apply failures keep tags as published, and may make it none). */
  publish: boolean;
  /** The base must be written again even if nothing changed (an older metadata format: rewriteReason). */
  rewrite: boolean;
  why: string;
}

export interface SyncPlan {
  repositories: RepositoryPlan[];
  /** Catalog entries that are no valid name; the repositories' own failures are in their resolution. */
  catalogFailures: Failure[];
  blobs: BlobPlan;
  /** Links of new and changed tags (those a per-architecture layout decides from an image config are `unknown` here). */
  links: LinkPlan[];
  generation: GenerationPlan;
}

function tagDecisions(r: RepositoryResolution): TagDecision[] {
  const decisions = new Map<string, TagDecision>();
  const before = (tag: string) => r.previous?.tags[tag]?.digest;
  const failed = new Set(r.failures.flatMap((f) => (f.tag ? [f.tag] : [])));
  for (const tag of r.plan.added)
    decisions.set(tag, { tag, verdict: 'new', digest: r.heads.get(tag)!, why: 'not published before' });
  for (const tag of r.plan.changed) {
    const digest = r.heads.get(tag)!;
    const previous = before(tag)!;
    const why = previous === digest ? 'published closure incomplete: fetched again' : `moved from ${previous}`;
    decisions.set(tag, { tag, verdict: 'changed', digest, previous, why });
  }
  for (const tag of r.plan.unchanged)
    decisions.set(tag, {
      tag,
      verdict: 'unchanged',
      digest: r.heads.get(tag)!,
      previous: before(tag)!,
      why: 'same digest',
    });
  for (const { tag, rule } of r.filtered) {
    const previous = before(tag);
    decisions.set(
      tag,
      previous
        ? { tag, verdict: 'removed', previous, why: `no longer selected: ${rule}` }
        : { tag, verdict: 'filtered', why: rule },
    );
  }
  for (const tag of r.plan.removed) {
    if (decisions.has(tag)) continue;
    const previous = before(tag)!;
    if (failed.has(tag))
      decisions.set(tag, { tag, verdict: 'failed', previous, why: 'HEAD failed: kept as published' });
    else decisions.set(tag, { tag, verdict: 'removed', previous, why: 'no longer in the source' });
  }
  if (r.carried)
    for (const tag of Object.keys(r.previous?.tags ?? {}))
      decisions.set(tag, { tag, verdict: 'carried', previous: before(tag)!, why: `${r.carried}: kept as published` });
  // Resolving a new or moved tag's manifests failed: it keeps what was published, if anything.
  for (const [tag, decision] of decisions)
    if ((decision.verdict === 'new' || decision.verdict === 'changed') && r.tags.get(tag)?.kind !== 'new') {
      const previous = decision.previous;
      decisions.set(tag, {
        tag,
        verdict: 'failed',
        ...(decision.digest ? { digest: decision.digest } : {}),
        ...(previous ? { previous } : {}),
        why: previous ? 'manifest failed: kept as published' : 'manifest failed: not published',
      });
    }
  return [...decisions.values()].sort((a, b) => (a.tag < b.tag ? -1 : 1));
}

function generationPlan(read: SyncRead, repositories: RepositoryPlan[], targeted: boolean): GenerationPlan {
  const { published, previous: base } = read;
  const names = new Set(repositories.map((r) => r.name));
  const unlisted = new Set(read.unlisted);
  const carried: RepositoryVerdict[] = [];
  const dropped: RepositoryVerdict[] = [];
  // From the index: a --repo run may have read only its own repositories' files.
  for (const name of Object.keys(base?.index.repositories ?? {})) {
    if (names.has(name)) continue;
    if (targeted) carried.push({ name, why: 'not in --repo: kept as published' });
    else if (!unlisted.has(name)) dropped.push({ name, why: 'no longer selected by repositories.include/exclude' });
    else if (read.catalogComplete) dropped.push({ name, why: 'no longer in the catalog' });
    else carried.push({ name, why: 'not listed: the catalog is incomplete (LISTING_INCOMPLETE): kept as published' });
  }
  const changes = repositories
    .flatMap((r) => r.tags)
    .filter((t) => ['new', 'changed', 'removed'].includes(t.verdict)).length;
  // A generation of an older metadata format is written again in the current one (docs/formats.md).
  const rewrite = base ? rewriteReason(base.index) : undefined;
  const why = !published
    ? 'first generation'
    : !base
      ? `the module layout differs from generation ${published.id}`
      : changes || dropped.length
        ? [
            changes ? `${changes} tag change(s)` : '',
            dropped.length ? `${dropped.length} repositories no longer selected or listed` : '',
          ]
            .filter(Boolean)
            .join(', ')
        : (rewrite ?? `nothing changed since generation ${base.id}`);
  const publish = !base || rewrite !== undefined || changes > 0 || dropped.length > 0;
  return { base: base?.id, targeted, carried, dropped, publish, rewrite: rewrite !== undefined, why };
}

/** From what was read, the whole sync's plan. */
export function planSync(read: SyncRead, layout: ModuleLayout, targeted: boolean): SyncPlan {
  const repositories = read.resolutions.map((resolution) => ({
    name: resolution.name,
    tags: tagDecisions(resolution),
    resolution,
  }));
  const needs = new Map<Digest, BlobNeed>();
  const links: LinkPlan[] = [];
  for (const { resolution: r } of repositories) {
    // Tags naming one manifest share its resolution: its links are planned once.
    const seen = new Set<object>();
    for (const state of [...r.tags.values(), ...r.attached.values()]) {
      if (state.kind !== 'new' || seen.has(state.resolved)) continue;
      seen.add(state.resolved);
      const { blobs, manifests } = state.resolved;
      for (const blob of blobs.values()) if (!needs.has(blob.digest)) needs.set(blob.digest, blob);
      for (const [digest, { modules }] of tagBlobPaths(layout, r.name, manifests, blobs.keys()))
        for (const path of Object.values(modules)) links.push({ repository: r.name, digest, path });
    }
  }
  const unique = [...new Map(links.map((link) => [link.path, link])).values()].sort((a, b) =>
    a.path < b.path ? -1 : 1,
  );
  return {
    repositories,
    catalogFailures: read.catalogFailures,
    blobs: planBlobs(needs.values(), (need) => read.present.has(need.digest)),
    links: unique,
    generation: generationPlan(read, repositories, targeted),
  };
}
