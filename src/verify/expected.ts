// PURE: what the tree, the store and the manifest files must hold for a set of generations.
import type { Digest } from '../oci/digest.js';
import type { Generation } from '../publish/generations.js';
import { moduleView } from '../publish/modules.js';

export interface ExpectedBlob {
  digest: Digest;
  size: number;
  /** Every tree path (relative to the tree root) in every module of every generation. */
  paths: Set<string>;
  /** A repository that references it: the pull scope when it must be fetched again. */
  repository: string;
}

export interface ExpectedManifest {
  digest: Digest;
  size: number;
  mediaType: string;
  /** Relative to the metadata directory. */
  path: string;
  repository: string;
}

export interface Expected {
  blobs: Map<Digest, ExpectedBlob>;
  manifests: Map<Digest, ExpectedManifest>;
  /** Module name -> root, over all generations (file lists live at these roots). */
  moduleRoots: Map<string, string>;
}

/** Union over the generations; the first (current) generation's repository wins as pull scope. */
export function expectedContent(generations: readonly Generation[]): Expected {
  const expected: Expected = { blobs: new Map(), manifests: new Map(), moduleRoots: new Map() };
  for (const generation of generations) {
    const view = moduleView(generation.index);
    for (const module of view.modules) expected.moduleRoots.set(module.name, module.root);
    for (const [name, repo] of generation.repositories) {
      for (const [digest, blob] of Object.entries(repo.blobs) as Array<[Digest, (typeof repo.blobs)[string]]>) {
        let entry = expected.blobs.get(digest);
        if (!entry) {
          entry = { digest, size: blob.size, paths: new Set(), repository: name };
          expected.blobs.set(digest, entry);
        }
        for (const treePath of Object.values(view.blobPaths(blob))) entry.paths.add(treePath);
      }
      for (const [digest, manifest] of Object.entries(repo.manifests) as Array<
        [Digest, (typeof repo.manifests)[string]]
      >) {
        if (!expected.manifests.has(digest))
          expected.manifests.set(digest, {
            digest,
            size: manifest.size,
            mediaType: manifest.mediaType,
            path: manifest.path,
            repository: name,
          });
      }
    }
  }
  return expected;
}
