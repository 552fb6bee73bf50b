import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** `du -sb`: apparent bytes, each hardlinked inode counted once (as a mirror's disk holds it). */
export async function diskBytes(dir: string): Promise<number> {
  const { stdout } = await run('du', ['-sb', dir]);
  return Number(stdout.split('\t')[0]);
}

/**
 * `sync`: write back every dirty page. skopeo does not fsync its 17 GB; left to the kernel, that
 * writeback would land on whatever is measured next.
 */
export async function flushDirtyPages(): Promise<void> {
  await run('sync');
}

export interface RsyncResult {
  /** rsync's "Total bytes sent": file data plus protocol, what a mirror would download. */
  bytesSent: number;
  wallMs: number;
}

/** `rsync -aH --stats` of `dir` into an empty directory next to `scratchDir`, removed afterwards. */
export async function rsyncInto(dir: string, scratchDir: string): Promise<RsyncResult> {
  const target = await mkdtemp(path.join(scratchDir, 'rsync-'));
  try {
    const started = performance.now();
    const { stdout } = await run('rsync', ['-aH', '--stats', `${dir}/`, `${target}/`], { maxBuffer: 16 * 1024 * 1024 });
    const wallMs = performance.now() - started;
    const sent = /^Total bytes sent: ([\d,]+)/m.exec(stdout);
    if (!sent) throw new Error(`rsync --stats printed no "Total bytes sent":\n${stdout}`);
    return { bytesSent: Number(sent[1]!.replaceAll(',', '')), wallMs };
  } finally {
    await rm(target, { recursive: true, force: true });
  }
}
