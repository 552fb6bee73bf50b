import { lstat, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { Digest } from '../oci/digest.js';
import { manifestDigest } from '../oci/manifest.js';
import { fileListName } from '../publish/file-list.js';
import { inModule } from '../publish/modules.js';
import { isTempFileName } from '../store/fs-durable.js';
import type { ObjectStore } from '../store/object-store.js';
import { objectDigest } from '../store/paths.js';
import { walkFiles } from '../store/walk.js';
import type { Expected, ExpectedBlob, ExpectedManifest } from './expected.js';
import type { Finding } from './findings.js';

// The cheap checks (stat, and reading manifests, which are small); `--full` adds re-hashing.

/** Stats at once: enough to keep a disk queue busy, few enough for file descriptors. */
const STAT_CONCURRENCY = 32;

async function statOrUndefined(file: string, follow = true) {
  return (follow ? stat(file) : lstat(file)).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return undefined;
    throw error;
  });
}

/** The stored object exists with the metadata's size, and each tree path is a hardlink of it. */
async function checkBlob(store: ObjectStore, blob: ExpectedBlob): Promise<Finding[]> {
  const findings: Finding[] = [];
  const object = store.objectPath(blob.digest);
  const stored = await statOrUndefined(object);
  const digest = blob.digest;
  if (!stored) findings.push({ kind: 'missing-object', path: object, digest, detail: 'not in the store' });
  else if (stored.size !== blob.size)
    findings.push({
      kind: 'corrupt-object',
      path: object,
      digest,
      detail: `${stored.size} bytes, metadata says ${blob.size}`,
    });
  for (const rel of [...blob.paths].sort()) {
    const target = path.join(store.treeDir, rel);
    const info = await statOrUndefined(target, false);
    if (!info) findings.push({ kind: 'missing-link', path: target, digest, detail: 'missing from the tree' });
    else if (!info.isFile()) findings.push({ kind: 'broken-link', path: target, digest, detail: 'not a regular file' });
    else if (stored && (info.ino !== stored.ino || info.dev !== stored.dev)) {
      findings.push({
        kind: 'broken-link',
        path: target,
        digest,
        detail: `a separate copy (${info.size} bytes), not a hardlink of the stored object`,
      });
    }
  }
  return findings;
}

export async function checkBlobs(store: ObjectStore, blobs: Iterable<ExpectedBlob>): Promise<Finding[]> {
  const limit = pLimit(STAT_CONCURRENCY);
  return (await Promise.all([...blobs].map((blob) => limit(() => checkBlob(store, blob))))).flat();
}

/** Each manifest file holds bytes of the recorded size that hash to its digest. */
export async function checkManifests(metadataDir: string, manifests: Iterable<ExpectedManifest>): Promise<Finding[]> {
  const limit = pLimit(STAT_CONCURRENCY);
  const check = async (m: ExpectedManifest): Promise<Finding[]> => {
    const file = path.join(metadataDir, m.path);
    const bytes = await readFile(file).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!bytes) return [{ kind: 'manifest-missing', path: file, digest: m.digest, detail: 'missing' }];
    if (bytes.length !== m.size)
      return [
        {
          kind: 'manifest-corrupt',
          path: file,
          digest: m.digest,
          detail: `${bytes.length} bytes, metadata says ${m.size}`,
        },
      ];
    let actual: string;
    try {
      actual = manifestDigest(bytes, m.mediaType);
    } catch (error) {
      actual = `(unreadable: ${(error as Error).message})`;
    }
    return actual === m.digest
      ? []
      : [{ kind: 'manifest-corrupt', path: file, digest: m.digest, detail: `content hashes to ${actual}` }];
  };
  return (await Promise.all([...manifests].map((m) => limit(() => check(m))))).flat();
}

/** Absolute paths of the files under `dir` (the store's one walker). */
const filesUnder = async (dir: string) => (await walkFiles(dir)).map((relative) => path.join(dir, relative));

/** Temp files a crash left (never while we hold the lock: no writer is running). */
export async function strayTempFiles(dirs: readonly string[]): Promise<Finding[]> {
  const found = (await Promise.all(dirs.map(filesUnder))).flat().filter((file) => isTempFileName(path.basename(file)));
  return found.sort().map((file) => ({ kind: 'stray-temp', path: file, detail: 'left by an interrupted run' }));
}

/** Tree files no generation references (file lists and temp files aside). */
export async function orphanTreeFiles(treeDir: string, expected: Expected): Promise<Finding[]> {
  const referenced = new Set<string>();
  for (const blob of expected.blobs.values()) for (const rel of blob.paths) referenced.add(rel);
  for (const [name, root] of expected.moduleRoots) referenced.add(inModule({ name, root }, fileListName(name)));
  const orphans = (await filesUnder(treeDir)).filter((file) => {
    const rel = path.relative(treeDir, file);
    return !referenced.has(rel) && !isTempFileName(path.basename(file));
  });
  return orphans.sort().map((file) => ({
    kind: 'orphan-file',
    path: file,
    detail: 'no kept generation references it (gc removes it after the grace period)',
  }));
}

export interface StoredObject {
  digest: Digest;
  path: string;
  size: number;
  links: number;
}

/** Every object in the store (`<objects>/<alg>/<hh>/<hex>`). */
export async function storedObjects(objectsDir: string): Promise<StoredObject[]> {
  const objects: StoredObject[] = [];
  for (const file of await filesUnder(objectsDir)) {
    const digest = objectDigest(path.relative(objectsDir, file));
    if (!digest) continue;
    const info = await statOrUndefined(file, false);
    if (info?.isFile()) objects.push({ digest, path: file, size: info.size, links: info.nlink });
  }
  return objects;
}

/** Objects with no tree path at all (link count 1) that no generation references. */
export function orphanObjects(objects: readonly StoredObject[], expected: Expected): Finding[] {
  return objects
    .filter((o) => o.links === 1 && !expected.blobs.has(o.digest))
    .map((o) => ({
      kind: 'orphan-object',
      path: o.path,
      digest: o.digest,
      detail: `${o.size} bytes linked nowhere (gc deletes it)`,
    }));
}
