// Checks shared by the hostile-conditions tests: every tree file's content matches its name, no
// temp files anywhere, a directory snapshot (the canary), and a comparable view of the metadata.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readlink } from 'node:fs/promises';
import path from 'node:path';
import { readIndex, readRepositoryFile } from './published.js';

export async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** Every entry under `dir` (files, symlinks, other), relative, sorted. */
export async function listAll(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

const BLOB_PATH = /^(.+)\/_blobs\/(sha256)\/([0-9a-f]{64})$/;
const FILE_LIST = /^([^/]+\/)?fullfiletimelist-[^/]+$/;

/** A module's file list: its content carries times, so two equal trees may differ in it. */
export const isFileList = (rel: string): boolean => FILE_LIST.test(rel);

/**
 * Problems in a tree: a file not at `<repo>/_blobs/sha256/<hex>` (nor a file list), or whose
 * bytes do not hash to `<hex>`. Empty means every file is a verified blob.
 */
export async function treeProblems(tree: string): Promise<string[]> {
  const problems: string[] = [];
  for (const rel of await listAll(tree)) {
    // A module's file list (at the tree root, or at <arch>/ with modules per architecture).
    if (isFileList(rel)) continue;
    const match = BLOB_PATH.exec(rel);
    const info = await lstat(path.join(tree, rel));
    if (!match || !info.isFile()) {
      problems.push(`stray ${info.isFile() ? 'file' : 'entry'} ${rel}`);
      continue;
    }
    const actual = await sha256File(path.join(tree, rel));
    if (actual !== match[3]) problems.push(`${rel} holds content hashing to ${actual}`);
  }
  return problems;
}

/** Temp files blobmirror writes while working (and a lock it holds), anywhere under a storage `root`. */
export async function tempFiles(root: string): Promise<string[]> {
  return (await listAll(root)).filter((rel) =>
    /\.tmp-|\.link-|\.staging-|\/\.current-|linkcheck|^state\/partial\/|^state\/tmp\/.|^state\/lock/.test(rel),
  );
}

/** path -> sha256 of every file (and symlink target) under `dir`: equal snapshots, untouched dir. */
export async function snapshot(dir: string): Promise<Record<string, string>> {
  const result: Record<string, string> = {};
  for (const rel of await listAll(dir)) {
    const full = path.join(dir, rel);
    const info = await lstat(full);
    result[rel] = info.isSymbolicLink()
      ? `-> ${await readlink(full)}`
      : `${await sha256File(full)} ${info.mode.toString(8)}`;
  }
  return result;
}

export interface RepositoryView {
  tags: Record<string, string>;
  manifests: string[];
  blobs: string[];
}

/** The current generation without timestamps: what two syncs of the same source must agree on. */
export async function metadataView(metadataDir: string): Promise<Record<string, RepositoryView>> {
  const index = await readIndex(metadataDir);
  const view: Record<string, RepositoryView> = {};
  for (const name of Object.keys(index.repositories)) {
    const repo = (await readRepositoryFile(metadataDir, name)) as {
      tags: Record<string, { digest: string }>;
      manifests: object;
      blobs: object;
    };
    view[name] = {
      tags: Object.fromEntries(Object.entries(repo.tags).map(([tag, t]) => [tag, t.digest])),
      manifests: Object.keys(repo.manifests).sort(),
      blobs: Object.keys(repo.blobs).sort(),
    };
  }
  return view;
}
