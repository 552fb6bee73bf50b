/** `docker` writes Docker v2 manifests and manifest lists with Docker media types; `oci` OCI ones. */
export type ImageFormat = 'oci' | 'docker';

export interface SharedLayerSpec {
  name: string;
  /** Bytes of file content (the gzip blob is slightly larger: random data does not compress). */
  size: number;
  /** Different bytes per platform (a base OS layer); otherwise one blob for every platform. */
  perPlatform?: boolean;
}

export interface TagSpec {
  tag: string;
  /** More tags for the same manifest (same digest). */
  aliases?: string[];
  /** Shared layers bottom first; defaults to the repository's `layers`. */
  layers?: string[];
  /** Sizes of layers only this tag has, stacked above the repository's unique layers. */
  unique?: number[];
  /** An index (or Docker manifest list) for linux/amd64 and linux/arm64/v8. */
  multiPlatform?: boolean;
}

export interface RepositorySpec {
  name: string;
  format?: ImageFormat;
  /** Shared layers bottom first for every tag that does not name its own. */
  layers?: string[];
  /** Sizes of layers every tag of this repository has and no other repository has. */
  unique?: number[];
  tags: TagSpec[];
}

export interface ImageSetSpec {
  /** Everything generated derives from the seed: same spec and seed, same digests. */
  seed: string;
  /** Default for repositories that do not say; `oci` when absent. */
  format?: ImageFormat;
  /** ISO time used in configs, history and tar entries (default 2024-01-01T00:00:00Z). */
  created?: string;
  sharedLayers: SharedLayerSpec[];
  repositories: RepositorySpec[];
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The `blobmirror demo` image set: three repositories stacking base -> tools -> service, aliases,
 * a two-platform index and a Docker-format repository; about 10 MB.
 */
export function demoSpec(seed = 'blobmirror-demo'): ImageSetSpec {
  return {
    seed,
    sharedLayers: [
      { name: 'base', size: 2 * MiB, perPlatform: true },
      { name: 'ca-certificates', size: 128 * KiB },
      { name: 'tools', size: 768 * KiB, perPlatform: true },
    ],
    repositories: [
      {
        name: 'stable/base',
        layers: ['base', 'ca-certificates'],
        tags: [
          { tag: '39', aliases: ['latest', 'stable'], multiPlatform: true },
          { tag: '38', unique: [64 * KiB] },
        ],
      },
      {
        name: 'stable/toolbox',
        layers: ['base', 'ca-certificates', 'tools'],
        unique: [256 * KiB],
        tags: [
          { tag: '39.1', aliases: ['latest'], unique: [32 * KiB] },
          { tag: '39.0', unique: [32 * KiB] },
        ],
      },
      {
        name: 'stable/httpd',
        format: 'docker',
        layers: ['base', 'ca-certificates', 'tools'],
        unique: [512 * KiB],
        tags: [
          { tag: '2.4', aliases: ['2', 'latest'], unique: [64 * KiB], multiPlatform: true },
          { tag: '2.2', unique: [64 * KiB] },
        ],
      },
    ],
  };
}
