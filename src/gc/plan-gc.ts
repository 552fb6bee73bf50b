// PURE: what gc removes, each with why, from what the store and the kept generations say.
// run-gc.ts reads the facts, this decides, apply-gc.ts removes.
import type { Digest } from '../oci/digest.js';

const DAY_MS = 86_400_000;
/** A temp file this old cannot belong to a running writer (the lock is held, too). */
export const TEMP_AGE_MS = 3_600_000;

export interface StoredFile {
  /** Absolute. */
  path: string;
  size: number;
  mtimeMs: number;
}

export interface GcFacts {
  now: Date;
  graceDays: number;
  /** Tree-relative paths any kept generation references: never removed. */
  referencedPaths: ReadonlySet<string>;
  referencedDigests: ReadonlySet<string>;
  /** Digests the current generation references (a subset of `referencedDigests`). */
  currentDigests: ReadonlySet<string>;
  /** Manifest paths (relative to the metadata directory) a kept generation names. */
  referencedManifests: ReadonlySet<string>;
  /** Tree blob links on disk: tree-relative path -> its digest, and its inode when unreferenced. */
  treeLinks: ReadonlyMap<string, { digest: Digest; ino?: number }>;
  /** Unreferenced paths seen by earlier runs -> when first seen unreferenced (ISO). */
  pending: Readonly<Record<string, string>>;
  /** Store objects, with their digest (undefined: a stray file) and link count. */
  objects: ReadonlyArray<StoredFile & { digest: Digest | undefined; links: number; ino: number }>;
  /** Manifest files, with their path relative to the metadata directory. */
  manifests: ReadonlyArray<StoredFile & { relative: string }>;
  /** Repository file paths (relative to the metadata directory) a kept generation's index names (format 2). */
  referencedRepositoryFiles: ReadonlySet<string>;
  /** Files under the metadata's `repositories/`, with their path relative to the metadata directory. */
  repositoryFiles: ReadonlyArray<StoredFile & { relative: string }>;
  temps: readonly StoredFile[];
  partials: readonly StoredFile[];
  /** `metadata/generations/.staging-*` directories a killed or failed publish left (size: their files). */
  staging: readonly StoredFile[];
  /** Generation ids, oldest first, and how many to keep. */
  generations: readonly string[];
  keepGenerations: number;
}

export interface Removal {
  path: string;
  size: number;
  why: string;
}

export interface GcPlan {
  /** Tree-relative paths of links to remove. */
  links: Array<{ path: string; why: string }>;
  /** Still in their grace period, for the next run. */
  pending: Record<string, string>;
  objects: Removal[];
  manifests: Removal[];
  /** Repository files (format 2) no kept generation names: those of removed generations, and strays. */
  repositoryFiles: Removal[];
  temps: Removal[];
  partials: Removal[];
  staging: Removal[];
  /** Generation ids beyond the kept count. */
  generations: Array<{ id: string; why: string }>;
  /** Why things stay: the generations kept, and what only the older of them still reference. */
  retained: Retained;
}

export interface Retained {
  keepGenerations: number;
  /** Generation ids kept, oldest first (the last is the current one). */
  generations: string[];
  /** Store objects the current generation no longer references that an older kept one does. */
  olderOnly: { blobs: number; bytes: number };
}

/**
 * A link no kept generation references is removed once it has been unreferenced for the grace
 * period (mirrors and clients still hold older metadata); a path referenced again is forgotten.
 * An object goes when no kept generation references it and no link but the store's is left once
 * the planned links are gone.
 */
export function planGc(facts: GcFacts): GcPlan {
  const now = facts.now.getTime();
  const graceMs = facts.graceDays * DAY_MS;
  const removed = Math.max(0, facts.generations.length - facts.keepGenerations);
  const plan: GcPlan = {
    links: [],
    pending: {},
    objects: [],
    manifests: [],
    repositoryFiles: [],
    temps: [],
    partials: [],
    staging: [],
    generations: [],
    retained: {
      keepGenerations: facts.keepGenerations,
      generations: facts.generations.slice(removed),
      olderOnly: { blobs: 0, bytes: 0 },
    },
  };
  // Inodes whose link count drops by one per removed link (a copy in the tree drops none).
  const unlinked = new Map<number, number>();
  for (const [file, { ino }] of [...facts.treeLinks].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (facts.referencedPaths.has(file)) continue;
    const since = facts.pending[file] ?? facts.now.toISOString();
    if (now - Date.parse(since) < graceMs) plan.pending[file] = since;
    else {
      plan.links.push({ path: file, why: `unreferenced since ${since} (grace ${facts.graceDays} days)` });
      if (ino !== undefined) unlinked.set(ino, (unlinked.get(ino) ?? 0) + 1);
    }
  }
  for (const object of facts.objects) {
    if (object.digest && facts.referencedDigests.has(object.digest)) {
      if (!facts.currentDigests.has(object.digest)) {
        plan.retained.olderOnly.blobs++;
        plan.retained.olderOnly.bytes += object.size;
      }
      continue;
    }
    if (object.links - (unlinked.get(object.ino) ?? 0) > 1) continue;
    const why = object.digest ? 'no kept generation references it; linked nowhere in the tree' : 'not an object name';
    plan.objects.push({ path: object.path, size: object.size, why });
  }
  for (const m of facts.manifests)
    if (!facts.referencedManifests.has(m.relative))
      plan.manifests.push({ path: m.path, size: m.size, why: 'no kept generation names it' });
  for (const r of facts.repositoryFiles)
    if (!facts.referencedRepositoryFiles.has(r.relative))
      plan.repositoryFiles.push({ path: r.path, size: r.size, why: 'no kept generation names it' });
  for (const t of facts.temps)
    if (now - t.mtimeMs >= TEMP_AGE_MS) plan.temps.push({ path: t.path, size: t.size, why: 'left by a killed run' });
  for (const p of facts.partials)
    if (now - p.mtimeMs >= graceMs)
      plan.partials.push({ path: p.path, size: p.size, why: `abandoned for over ${facts.graceDays} days` });
  plan.staging = facts.staging.map((s) => ({ ...s, why: 'a generation a killed or failed publish never switched to' }));
  plan.generations = facts.generations
    .slice(0, removed)
    .map((id) => ({ id, why: `older than the newest ${facts.keepGenerations} (metadata.keepGenerations)` }));
  return plan;
}
