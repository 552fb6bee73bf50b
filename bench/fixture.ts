import { stat } from 'node:fs/promises';
import type { GeneratedImages, ImageSetSpec, RepositorySpec, SharedLayerSpec } from '../src/demo/image-generator.js';
import type { Digest } from '../src/oci/digest.js';
import { layoutBlobPath } from '../src/oci-layout/layout-format.js';

// A distro-like image set: stable repositories on one shared base, some with a shared tools layer,
// each with its own dependency layer (shared by its tags) and an app layer per tag. The newest
// tag of two repositories is a two-platform index (one OCI, one Docker manifest list), so the
// arm64 base and the arm64 images of those tags are blobs too. Candidate repositories sit in the
// same registry and must not be synced.

export type BenchSize = 'small' | 'large';

const KiB = 1024;
const MiB = 1024 * KiB;

interface Scale {
  base: number;
  tools: number;
  dependency: number;
  app: number;
}

// large: 80 MiB base; about 2.5 GB of unique stable blobs. small: the same shape, ~25 MB.
const SCALES: Record<BenchSize, Scale> = {
  large: { base: 80 * MiB, tools: 32 * MiB, dependency: 48 * MiB, app: 16 * MiB },
  small: { base: 2 * MiB, tools: 512 * KiB, dependency: 384 * KiB, app: 128 * KiB },
};

const SEED = 'blobmirror-bench';
const STABLE_REPOS = 16;
const VERSIONS = 5;
const CANDIDATE_REPOS = 3;
/** The stable repository whose newest tag is an OCI index, and the one with a Docker manifest list. */
const OCI_INDEX_REPO = 1;
const DOCKER_LIST_REPO = 2;
/** A single-platform repository: the incremental runs add its new tags, serve is loaded with it. */
export const SINGLE_PLATFORM_REPO = 'stable/app-05';
export const STABLE_PATTERN = 'stable/**';

const name = (prefix: string, n: number) => `${prefix}/app-${String(n).padStart(2, '0')}`;
const shared = (scale: Scale, base: string): SharedLayerSpec[] => [
  { name: base, size: scale.base, perPlatform: true },
  { name: 'tools', size: scale.tools, perPlatform: true },
];

/** Stable repository `n` with the given tags; everything but the tags and base is fixed by `n`. */
function stableRepo(scale: Scale, n: number, base: string, tags: RepositorySpec['tags']): RepositorySpec {
  return {
    name: name('stable', n),
    ...(n === DOCKER_LIST_REPO ? { format: 'docker' as const } : {}),
    layers: n % 2 ? [base, 'tools'] : [base],
    unique: [scale.dependency],
    tags,
  };
}

const multiPlatform = (n: number) => n === OCI_INDEX_REPO || n === DOCKER_LIST_REPO;

export function fixture(size: BenchSize): ImageSetSpec {
  const scale = SCALES[size];
  const stable = Array.from({ length: STABLE_REPOS }, (_, i) => {
    const n = i + 1;
    return stableRepo(
      scale,
      n,
      'base',
      Array.from({ length: VERSIONS }, (_, v) => {
        const newest = v === VERSIONS - 1;
        return {
          tag: `1.${v}`,
          unique: [scale.app],
          ...(newest ? { aliases: ['latest'], multiPlatform: multiPlatform(n) } : {}),
        };
      }),
    );
  });
  const candidates = Array.from({ length: CANDIDATE_REPOS }, (_, i) => ({
    name: name('candidate', i + 1),
    layers: ['base', 'tools'],
    unique: [scale.dependency / 4],
    tags: [
      { tag: '2.0-rc1', unique: [scale.app] },
      { tag: '2.0-rc2', unique: [scale.app], aliases: ['testing'] },
    ],
  }));
  return { seed: SEED, sharedLayers: shared(scale, 'base'), repositories: [...stable, ...candidates] };
}

/** Incremental run `run`: one new tag (and `latest` moved to it) in one repository. */
export function incrementalTag(size: BenchSize, run: number): ImageSetSpec {
  const scale = SCALES[size];
  const n = Number(SINGLE_PLATFORM_REPO.slice(-2));
  const repo = stableRepo(scale, n, 'base', [
    { tag: `1.${VERSIONS - 1 + run}`, unique: [scale.app], aliases: ['latest'] },
  ]);
  return { seed: SEED, sharedLayers: shared(scale, 'base'), repositories: [repo] };
}

/**
 * Base rebuild `run`: a new base layer, and every stable repository gets a new tag on it (its
 * dependency and tools layers unchanged, a new app layer), as a distro rebuild cascade does.
 */
export function baseRebuild(size: BenchSize, run: number): ImageSetSpec {
  const scale = SCALES[size];
  const base = `base-rebuild-${run}`;
  const repositories = Array.from({ length: STABLE_REPOS }, (_, i) =>
    stableRepo(scale, i + 1, base, [
      { tag: `2.${run - 1}`, unique: [scale.app], aliases: ['latest'], multiPlatform: multiPlatform(i + 1) },
    ]),
  );
  return { seed: SEED, sharedLayers: shared(scale, base), repositories };
}

/** Blob sizes by digest, read from the layout the generator wrote. */
export type BlobSizes = Map<Digest, number>;

export async function blobSizes(
  generated: GeneratedImages,
  repositories: (name: string) => boolean,
): Promise<BlobSizes> {
  const digests = new Set(
    Object.entries(generated.repositories).flatMap(([repo, r]) => (repositories(repo) ? r.blobs : [])),
  );
  const sizes: BlobSizes = new Map();
  for (const digest of digests) sizes.set(digest, (await stat(layoutBlobPath(generated.dir, digest))).size);
  return sizes;
}

export const isStable = (repository: string) => repository.startsWith('stable/');

export function totalBytes(sizes: BlobSizes): number {
  let total = 0;
  for (const size of sizes.values()) total += size;
  return total;
}
