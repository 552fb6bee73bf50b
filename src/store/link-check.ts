import { link, mkdir, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ExitCode, StoreError } from '../errors.js';

// A storage layout that cannot link is a configuration problem: exit 2, like a bad config.
const asConfig = { exitCode: ExitCode.usage };

/**
 * Check once, before any work, that the store can hardlink into the tree: same filesystem, and
 * a filesystem that supports links. Failing here beats silently copying blobs N times.
 */
export async function checkHardlinks(storeDir: string, treeDir: string): Promise<void> {
  await mkdir(storeDir, { recursive: true });
  await mkdir(treeDir, { recursive: true });
  const [store, tree] = await Promise.all([stat(storeDir), stat(treeDir)]);
  if (store.dev !== tree.dev) {
    throw new StoreError(
      'CROSS_DEVICE',
      `the store ${storeDir} and the tree ${treeDir} are on different filesystems; hardlinks need one filesystem (put storage.state and storage.tree on the same mount)`,
      asConfig,
    );
  }
  const probe = path.join(storeDir, `.linkcheck-${process.pid}`);
  const linked = path.join(treeDir, `.blobmirror-linkcheck-${process.pid}`);
  await writeFile(probe, '');
  try {
    await link(probe, linked);
    await unlink(linked);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EXDEV')
      throw new StoreError(
        'CROSS_DEVICE',
        `the store ${storeDir} and the tree ${treeDir} are on different filesystems (EXDEV)`,
        asConfig,
      );
    if (code === 'EPERM' || code === 'ENOTSUP' || code === 'EOPNOTSUPP' || code === 'EMLINK') {
      throw new StoreError(
        'NO_HARDLINKS',
        `the filesystem of ${treeDir} cannot hardlink (${code}); blobmirror needs hardlinks to store each blob once`,
        asConfig,
      );
    }
    throw error;
  } finally {
    await unlink(probe).catch(() => {});
  }
}
