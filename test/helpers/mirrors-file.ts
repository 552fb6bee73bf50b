import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';

/** What the tests put in a mirror list (docs/serving.md has every key); `version: 1` is added. */
export interface MirrorListSpec {
  master: string;
  mirrors?: Array<Record<string, unknown> & { url: string }>;
  clientIpHeader?: string;
  check?: Record<string, unknown>;
}

/** Writes `<dir>/<name>` (default `mirrors.yaml`) for `serve --mirrors` or `crawl --mirrors`; returns its path. */
export async function writeMirrorList(dir: string, spec: MirrorListSpec, name = 'mirrors.yaml'): Promise<string> {
  const file = path.join(dir, name);
  await writeFile(file, stringify({ version: 1, mirrors: [], ...spec }));
  return file;
}

/** A mirror list with no mirrors: blob GETs go to the master (never contacted in tests). */
export function masterOnlyMirrors(dir: string): Promise<string> {
  return writeMirrorList(dir, { master: 'http://127.0.0.1:9/tree' });
}
