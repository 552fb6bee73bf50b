import { link, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { CrossDeviceError, NoHardlinksError, fsError } from '../errors.js';

/**
 * Check once, before any work, that the store can hardlink into the tree: same filesystem, and
 * a filesystem that supports links. Failing here beats silently copying blobs N times.
 */
export async function checkHardlinks(storeDir: string, treeDir: string): Promise<void> {
  for (const dir of [storeDir, treeDir])
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw fsError('creating', dir, error);
    });
  const [store, tree] = await Promise.all([stat(storeDir), stat(treeDir)]);
  if (store.dev !== tree.dev) {
    throw new CrossDeviceError(
      `the store ${storeDir} and the tree ${treeDir} are on different filesystems; hardlinks need one filesystem (put storage.state and storage.tree on the same mount)`,
    );
  }
  const probe = path.join(storeDir, `.linkcheck-${process.pid}`);
  const linked = path.join(treeDir, `.blobmirror-linkcheck-${process.pid}`);
  await writeFile(probe, '').catch((error: unknown) => {
    throw fsError('writing', probe, error);
  });
  try {
    await link(probe, linked);
    await unlink(linked);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EXDEV')
      throw new CrossDeviceError(`the store ${storeDir} and the tree ${treeDir} are on different filesystems (EXDEV)`);
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK') {
      throw new NoHardlinksError(
        `the filesystem of ${treeDir} cannot hardlink (${code}); blobmirror needs hardlinks to store each blob once`,
      );
    }
    throw error;
  } finally {
    await unlink(probe).catch(() => {});
  }
}
