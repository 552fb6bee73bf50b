import { writeFile } from 'node:fs/promises';
import path from 'node:path';

/** A mirror list for `blobmirror serve` with no mirrors: blob GETs go to the master (never contacted in tests). */
export async function masterOnlyMirrors(dir: string): Promise<string> {
  const file = path.join(dir, 'mirrors.yaml');
  await writeFile(file, 'version: 1\nmaster: http://127.0.0.1:9/tree\nmirrors: []\n');
  return file;
}
