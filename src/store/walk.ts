import { readdir } from 'node:fs/promises';
import path from 'node:path';

/**
 * The one recursive walk over the tree, the store and the state directory: every entry that is
 * not a directory, as a path relative to `root`. A missing root is empty (nothing synced yet).
 */
export async function walkFiles(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true, withFileTypes: true }).catch(
    (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    },
  );
  return entries.filter((e) => !e.isDirectory()).map((e) => path.relative(root, path.join(e.parentPath, e.name)));
}
