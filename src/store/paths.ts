import path from 'node:path';
import { isDigest, parseDigest, type Digest } from '../oci/digest.js';

// PURE: where things live. Paths are built only from validated digests and repository names,
// so no input can climb out of the directories below.

export const TREE_BLOBS_DIR = '_blobs';

/** `<repository>/_blobs/<alg>/<hex>`, relative to the tree root. */
export function treeBlobPath(repository: string, digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${repository}/${TREE_BLOBS_DIR}/${algorithm}/${hex}`;
}

/** The digest a tree path `[<arch>/]<repository>/_blobs/<alg>/<hex>` holds, or undefined for any other file. */
export function treeBlobDigest(relative: string): Digest | undefined {
  const match = /(?:^|\/)_blobs\/(sha256\/[0-9a-f]{64}|sha512\/[0-9a-f]{128})$/.exec(
    relative.split(path.sep).join('/'),
  );
  return match ? (match[1]!.replace('/', ':') as Digest) : undefined;
}

/** The digest an object path (relative to the objects directory) holds, or undefined for a stray file. */
export function objectDigest(relative: string): Digest | undefined {
  const [algorithm, shard, hex, ...rest] = relative.split(path.sep);
  const digest = `${algorithm}:${hex}`;
  return hex && rest.length === 0 && shard === hex.slice(0, 2) && isDigest(digest) ? digest : undefined;
}

/** `<alg>/<hh>/<hex>`: sharded so no directory holds more than ~1/256 of the objects. */
export function shardedPath(digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return `${algorithm}/${hex.slice(0, 2)}/${hex}`;
}

export interface StateLayout {
  lock: string;
  /** `<command>.json`: each command's last run (report/last-run.ts). */
  lastRuns: string;
  objects: string;
  partial: string;
  tmp: string;
}

export function stateLayout(stateDir: string): StateLayout {
  return {
    lock: path.join(stateDir, 'lock'),
    lastRuns: path.join(stateDir, 'last-run'),
    objects: path.join(stateDir, 'objects'),
    partial: path.join(stateDir, 'partial'),
    tmp: path.join(stateDir, 'tmp'),
  };
}

export function objectPath(layout: StateLayout, digest: Digest): string {
  return path.join(layout.objects, shardedPath(digest));
}

/** Command names are a fixed set (report/run-end.ts), never input. */
export function lastRunPath(layout: StateLayout, command: string): string {
  return path.join(layout.lastRuns, `${command}.json`);
}

export function partialPath(layout: StateLayout, digest: Digest): string {
  const { algorithm, hex } = parseDigest(digest);
  return path.join(layout.partial, `${algorithm}-${hex}`);
}
