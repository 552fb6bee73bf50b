import { open, rename, mkdir, link, unlink } from 'node:fs/promises';
import path from 'node:path';
import { fsError } from '../errors.js';

/** fsync a file or directory by path (directories: so a rename or link survives a crash). */
export async function fsyncPath(target: string): Promise<void> {
  const handle = await open(target, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** Write bytes so the final path only ever holds complete content: temp, fsync, rename. */
export async function writeFileAtomic(target: string, data: string | Buffer): Promise<void> {
  await mkdir(path.dirname(target), { recursive: true }).catch((error: unknown) => {
    throw fsError('creating the directory of', target, error);
  });
  const temp = `${target}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const handle = await open(temp, 'wx').catch((error: unknown) => {
    throw fsError('writing', target, error);
  });
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (error) {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    throw fsError('writing', target, error);
  }
  await handle.close();
  await rename(temp, target).catch((error: unknown) => {
    throw fsError('renaming a new file to', target, error);
  });
}

/**
 * Replace `target` with a hardlink to `source` atomically (link to a temp name, rename over). The
 * temp name is in `tempDir` (same filesystem, outside the tree) so an rsync of the tree can never
 * catch it, even from a run killed in between.
 */
export async function replaceWithLink(source: string, target: string, tempDir: string): Promise<void> {
  const temp = path.join(
    tempDir,
    `${path.basename(target)}.link-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
  await link(source, temp);
  try {
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => {});
    throw error;
  }
}

// Names of files that never outlive a run: writeFileAtomic's and replaceWithLink's temps above,
// and the link-check probes (link-check.ts). Found anywhere later, they were left by a crash.
const TEMP_NAME = /\.(tmp|link)-\d+-[a-z0-9]*$|^\.(blobmirror-)?linkcheck-\d+$/;

export function isTempFileName(name: string): boolean {
  return TEMP_NAME.test(name);
}
