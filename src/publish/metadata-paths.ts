import path from 'node:path';
import { isDigest, type Digest } from '../oci/digest.js';
import { shardedPath } from '../store/paths.js';

// PURE: where things live in the metadata directory (docs/formats.md, "Metadata"). Paths are
// built from validated digests and generation ids only.

export const CURRENT = 'current';
export const GENERATIONS = 'generations';
export const MANIFESTS = 'manifests';
/** Content-addressed repository files (format 2), shared by every generation that names them. */
export const REPOSITORIES = 'repositories';
export const INDEX_FILE = 'index.json';
/** A generation being written: `.staging-<id>-<pid>`, renamed to `<id>` when complete. */
export const STAGING_PREFIX = '.staging-';
export const GENERATION_ID = /^\d{10}$/;

/** Relative (to the metadata dir) path of a manifest's bytes. */
export function manifestRelPath(digest: Digest): string {
  return `${MANIFESTS}/${shardedPath(digest)}`;
}

/** Relative (to the metadata dir) path of a repository file whose bytes hash to `digest`. */
export function repositoryFileRelPath(digest: Digest): string {
  return `${REPOSITORIES}/${shardedPath(digest)}.json`;
}

/** The digest a repository file path (relative to the repositories directory) holds, or undefined for a stray file. */
export function repositoryFileDigest(relative: string): Digest | undefined {
  const match = /^([a-z0-9]+)\/([0-9a-f]{2})\/([0-9a-f]+)\.json$/.exec(relative.split(path.sep).join('/'));
  const digest = match && match[2] === match[3]!.slice(0, 2) ? `${match[1]}:${match[3]}` : undefined;
  return digest !== undefined && isDigest(digest) ? digest : undefined;
}

export function generationDir(metadataDir: string, id: string): string {
  return path.join(metadataDir, GENERATIONS, id);
}
