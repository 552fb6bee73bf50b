// The scalable image set the tests and the benchmark generate (it never ships: the demo has its
// own embedded default in src/demo/image-spec.ts).
import type { ImageFormat, ImageSetSpec, RepositorySpec } from '../../src/demo/image-spec.js';

const KiB = 1024;
const MiB = 1024 * KiB;

export interface FixtureOptions {
  seed?: string;
  /** `stable/app-<n>` repositories (default 5), all on one shared base. */
  repos?: number;
  /** `candidate/app-<n>` repositories alongside (default 0), sharing the same base and tools. */
  candidateRepos?: number;
  /** Tags per repository (default 2): `1.0`, `1.1`, ...; the newest is also `latest`. */
  tagsPerRepo?: number;
  baseBytes?: number;
  /** Default: baseBytes / 8. */
  toolsBytes?: number;
  /** Per repository, shared by its tags (default 1 MiB). */
  repoBytes?: number;
  /** Per tag (default 64 KiB). */
  tagBytes?: number;
  /** The newest tag of each repository becomes a two-platform index. */
  multiPlatform?: boolean;
  format?: ImageFormat;
}

/** A scalable set for tests and benchmarks; unique bytes ≈ base + tools + repos × (repo + tags × tag). */
export function fixtureSpec(options: FixtureOptions = {}): ImageSetSpec {
  const baseBytes = options.baseBytes ?? 8 * MiB;
  const tagsPerRepo = options.tagsPerRepo ?? 2;
  const repository = (name: string): RepositorySpec => ({
    name,
    layers: ['base', 'tools'],
    unique: [options.repoBytes ?? MiB],
    tags: Array.from({ length: tagsPerRepo }, (_, i) => {
      const newest = i === tagsPerRepo - 1;
      return {
        tag: `1.${i}`,
        unique: [options.tagBytes ?? 64 * KiB],
        ...(newest ? { aliases: ['latest'] } : {}),
        ...(newest && options.multiPlatform ? { multiPlatform: true } : {}),
      };
    }),
  });
  const names = (prefix: string, count: number) => Array.from({ length: count }, (_, i) => `${prefix}/app-${i + 1}`);
  return {
    seed: options.seed ?? 'blobmirror-fixture',
    format: options.format ?? 'oci',
    sharedLayers: [
      { name: 'base', size: baseBytes, perPlatform: true },
      { name: 'tools', size: options.toolsBytes ?? Math.floor(baseBytes / 8), perPlatform: true },
    ],
    repositories: [...names('stable', options.repos ?? 5), ...names('candidate', options.candidateRepos ?? 0)].map(
      repository,
    ),
  };
}
