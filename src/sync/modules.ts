// PURE: which module(s) of the tree hold a blob, and its path in each (docs/formats.md, Modules).
import path from 'node:path';
import type { Digest } from '../oci/digest.js';
import { isImagePlatform } from '../oci/platform.js';
import type { GenerationIndex, ManifestEntry } from '../publish/metadata-types.js';
import { treeBlobPath } from '../store/paths.js';

export interface ModuleLayout {
  name: string;
  perArchitecture: boolean;
}

/** An architecture that is not a safe, plain directory name is filed under `unknown`. */
function architectureDir(architecture: string | undefined): string {
  return architecture && /^[a-z0-9][a-z0-9_.-]{0,31}$/.test(architecture) ? architecture : 'unknown';
}

export function moduleOf(layout: ModuleLayout, architecture: string | undefined): { name: string; root: string } {
  if (!layout.perArchitecture) return { name: layout.name, root: '' };
  const dir = architectureDir(architecture);
  return { name: `${layout.name}-${dir}`, root: dir };
}

/** `modules` for index.json: every module some blob of `repositories` lives in. */
export function indexModules(
  layout: ModuleLayout,
  blobModules: Iterable<Record<string, string>>,
): GenerationIndex['modules'] {
  const roots: GenerationIndex['modules'] = {};
  if (!layout.perArchitecture) return { [layout.name]: { root: '' } };
  for (const modules of blobModules) {
    for (const [name, blobPath] of Object.entries(modules)) roots[name] = { root: blobPath.split('/')[0]! };
  }
  return Object.fromEntries(Object.entries(roots).sort(([a], [b]) => (a < b ? -1 : 1)));
}

/** The layout a generation was written with, to notice a config change between runs. */
export function sameLayout(index: Pick<GenerationIndex, 'modules'>, layout: ModuleLayout): boolean {
  const names = Object.keys(index.modules);
  if (!layout.perArchitecture)
    return names.length === 1 && names[0] === layout.name && index.modules[layout.name]!.root === '';
  return names.every((name) => name.startsWith(`${layout.name}-`) && index.modules[name]!.root !== '');
}

/**
 * Architectures using each blob of a tag: an image's own (its platform), and for an index's
 * non-image entries (attestations) every architecture of that index's images.
 */
export function blobArchitectures(
  manifests: ReadonlyMap<Digest, ManifestEntry>,
  root: Digest,
): Map<Digest, Set<string>> {
  const result = new Map<Digest, Set<string>>();
  const add = (blobs: readonly Digest[], architectures: Iterable<string>) => {
    for (const blob of blobs) {
      const set = result.get(blob) ?? new Set<string>();
      for (const architecture of architectures) set.add(architecture);
      result.set(blob, set);
    }
  };
  const visit = (digest: Digest, inherited: readonly string[], seen: Set<Digest>): string[] => {
    const entry = manifests.get(digest);
    if (!entry || seen.has(digest)) return [];
    seen.add(digest);
    if (entry.manifests.length === 0) {
      const own = isImagePlatform(entry.platform)
        ? [architectureDir(entry.platform.architecture)]
        : inherited.length
          ? [...inherited]
          : ['unknown'];
      add(entry.blobs, own);
      return own;
    }
    const images = entry.manifests.filter((child) => isImagePlatform(manifests.get(child)?.platform));
    const architectures = images.flatMap((child) => visit(child, inherited, seen));
    for (const child of entry.manifests) if (!images.includes(child)) visit(child, architectures, seen);
    add(entry.blobs, architectures);
    return architectures;
  };
  visit(root, [], new Set());
  return result;
}

/** Paths of a blob in each module that holds it, sorted by module name; `path` is the first. */
export function blobPaths(
  layout: ModuleLayout,
  repository: string,
  digest: Digest,
  architectures: Iterable<string> | undefined,
): { path: string; modules: Record<string, string> } {
  const relative = treeBlobPath(repository, digest);
  const modules: Record<string, string> = {};
  for (const architecture of layout.perArchitecture ? (architectures ?? ['unknown']) : [undefined]) {
    const { name, root } = moduleOf(layout, architecture);
    modules[name] = root ? path.posix.join(root, relative) : relative;
  }
  const sorted = Object.fromEntries(Object.entries(modules).sort(([a], [b]) => (a < b ? -1 : 1)));
  return { path: Object.values(sorted)[0]!, modules: sorted };
}

/** Manifests no other manifest of the tag names: the tag's own (resolved once per tag). */
function rootsOf(manifests: ReadonlyMap<Digest, ManifestEntry>): Digest[] {
  const children = new Set([...manifests.values()].flatMap((entry) => entry.manifests));
  return [...manifests.keys()].filter((digest) => !children.has(digest));
}

/**
 * Where each blob of a tag goes in the tree, from the platforms its manifests declare (with
 * modules per architecture, an image whose platform only its config says is `unknown` until
 * that config is read and the platform set on its entry).
 */
export function tagBlobPaths(
  layout: ModuleLayout,
  repository: string,
  manifests: ReadonlyMap<Digest, ManifestEntry>,
  blobs: Iterable<Digest>,
): Map<Digest, { path: string; modules: Record<string, string> }> {
  const architectures = new Map<Digest, Set<string>>();
  for (const root of rootsOf(manifests))
    for (const [blob, set] of blobArchitectures(manifests, root))
      architectures.set(blob, new Set([...(architectures.get(blob) ?? []), ...set]));
  return new Map([...blobs].map((blob) => [blob, blobPaths(layout, repository, blob, architectures.get(blob))]));
}
