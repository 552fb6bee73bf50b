// Issue 4: a mirror that runs quick-fedora-mirror's logic stays identical to the master from the
// file lists alone: fetch the module's list, diff it with the previous one, `rsync -aH
// --files-from` only new and changed entries, delete what left the list. Real registry, real
// syncs (tags added, a repository added on a shared base, tags moved, a repository removed as gc
// would remove it), real rsync.
import { execFile } from 'node:child_process';
import { lstat, mkdir, readFile, readdir, readlink, rm, rmdir, unlink, writeFile, copyFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it, vi } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import {
  fileListName,
  parseFileList,
  writeFileLists,
  type FileList,
  type FileListEntry,
} from '../../src/publish/file-list.js';
import { runCli } from '../helpers/cli.js';
import { deleteTag, pushLayout, retag } from '../helpers/push.js';
import { sha256File } from '../helpers/tree-check.js';
import { useTestWorld } from '../helpers/test-world.js';

const run = promisify(execFile);
const KiB = 1024;
const LIST = 'fullfiletimelist-containers';

/** What a quick-fedora-mirror client transfers (new or changed rows) and deletes (gone rows). */
function diff(previous: FileList | undefined, next: FileList): { transfer: FileListEntry[]; removed: FileListEntry[] } {
  const before = new Map((previous?.files ?? []).map((e) => [e.path, e]));
  const transfer = next.files.filter((e) => {
    const old = before.get(e.path);
    return !old || old.mtime !== e.mtime || old.type !== e.type || old.size !== e.size;
  });
  const present = new Set(next.files.map((e) => e.path));
  return { transfer, removed: (previous?.files ?? []).filter((e) => !present.has(e.path)) };
}

/** Everything comparable about a tree: each entry's type, mode, size, mtime (not directories'), content, and which paths share an inode. */
async function treeState(root: string): Promise<{ entries: Record<string, string>; linkGroups: string[][] }> {
  const entries: Record<string, string> = {};
  const inodes = new Map<number, string[]>();
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const rel = path.relative(root, path.join(e.parentPath, e.name));
    const info = await lstat(path.join(root, rel));
    const mode = (info.mode & 0o7777).toString(8);
    if (info.isDirectory()) entries[rel] = `d ${mode}`;
    else if (info.isSymbolicLink()) entries[rel] = `l -> ${await readlink(path.join(root, rel))}`;
    else {
      entries[rel] =
        `f ${mode} ${info.size} ${Math.floor(info.mtimeMs / 1000)} ${await sha256File(path.join(root, rel))}`;
      inodes.set(info.ino, [...(inodes.get(info.ino) ?? []), rel]);
    }
  }
  const linkGroups = [...inodes.values()]
    .filter((g) => g.length > 1)
    .map((g) => g.sort())
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  return { entries, linkGroups };
}

describe('a mirror updated only from the file lists', () => {
  const world = useTestWorld({
    name: 'qfm',
    spec: fixtureSpec({
      seed: 'file-lists',
      repos: 2,
      tagsPerRepo: 2,
      baseBytes: 192 * KiB,
      repoBytes: 32 * KiB,
      tagBytes: 8 * KiB,
      multiPlatform: true,
    }),
    push: { repositories: ['stable/app-1'] },
  });
  let config: string;
  let tree: string;
  let mirror: string;
  let previous: FileList | undefined;

  beforeAll(async () => {
    const written = await world.writeConfig('master');
    config = written.file;
    tree = path.join(written.root, 'tree');
    mirror = path.join(world.work, 'mirror');
    await mkdir(mirror);
  });

  /** sync, then what the lead's sync does at its end: write the lists of the published modules. */
  /** Sync, which writes the file list; true when the list changed. */
  async function syncAndPublish(): Promise<boolean> {
    const listFile = path.join(tree, fileListName('containers'));
    const before = await readFile(listFile, 'utf8').catch(() => undefined);
    const result = await runCli(['sync', '-c', config]);
    expect(result.code, result.stderr).toBe(0);
    const after = await readFile(listFile, 'utf8');
    // Lists carry whole seconds: a change in the second the list was written would look
    // unchanged to the next diff. Syncs are minutes apart in production; here, wait until the
    // clock has left the second the sync ended in.
    const second = Math.floor(Date.now() / 1000);
    await vi.waitFor(() => expect(Math.floor(Date.now() / 1000)).toBeGreaterThan(second), {
      timeout: 2000,
      interval: 20,
    });
    return after !== before;
  }

  /** The mirror side: fetch the list, diff, rsync what changed, delete what left, keep the list. */
  async function updateMirror(): Promise<{ transferred: number; removed: number; listed: number }> {
    const next = parseFileList(await readFile(path.join(tree, LIST), 'utf8'));
    const { transfer, removed } = diff(previous, next);
    const filesFrom = path.join(world.work, 'files-from');
    await writeFile(filesFrom, transfer.map((e) => `${e.path}\n`).join(''));
    await run('rsync', ['-aH', `--files-from=${filesFrom}`, `${tree}/`, `${mirror}/`]);
    // Files first, then directories deepest first, as a delete pass after the copy.
    for (const e of removed.filter((r) => r.type[0] !== 'd')) await unlink(path.join(mirror, e.path));
    for (const e of removed.filter((r) => r.type[0] === 'd').sort((a, b) => b.path.length - a.path.length))
      await rmdir(path.join(mirror, e.path));
    await copyFile(path.join(tree, LIST), path.join(mirror, LIST));
    await run('touch', ['-r', path.join(tree, LIST), path.join(mirror, LIST)]);
    previous = next;
    return { transferred: transfer.length, removed: removed.length, listed: next.files.length };
  }

  async function expectIdentical(): Promise<void> {
    const [master, copy] = await Promise.all([treeState(tree), treeState(mirror)]);
    expect(copy.linkGroups).toEqual(master.linkGroups);
    expect(copy.entries).toEqual(master.entries);
  }

  it('stays identical through added repositories, added and moved tags, and removals', async () => {
    // 1. First sync: the mirror starts empty and takes everything.
    expect(await syncAndPublish()).toBe(true);
    const first = await updateMirror();
    expect(first.transferred).toBe(first.listed);
    await expectIdentical();

    // 2. A repository on the same base (new hardlinks of existing blobs) and a new tag.
    await pushLayout(world.registry, path.join(world.work, 'layout'), { repositories: ['stable/app-2'] });
    await retag(world.registry, 'stable/app-1', '1.0', 'stable');
    expect(await syncAndPublish()).toBe(true);
    const second = await updateMirror();
    expect(second.transferred).toBeGreaterThan(0);
    expect(second.transferred).toBeLessThan(second.listed);
    await expectIdentical();
    expect(
      (await treeState(mirror)).linkGroups.some(
        (g) => g.some((p) => p.startsWith('stable/app-1/')) && g.some((p) => p.startsWith('stable/app-2/')),
      ),
    ).toBe(true);

    // 3. Nothing changed: the list is not rewritten, the mirror has nothing to do.
    expect(await syncAndPublish()).toBe(false);
    expect((await updateMirror()).transferred).toBe(0);

    // 4. A tag moves, a repository goes away, and (as gc does once the grace period is over) its
    //    tree directory is removed: the mirror deletes exactly that.
    await retag(world.registry, 'stable/app-1', '1.0', 'latest');
    for (const tag of ['1.0', '1.1', 'latest']) await deleteTag(world.registry, 'stable/app-2', tag);
    await syncAndPublish();
    await rm(path.join(tree, 'stable/app-2'), { recursive: true });
    const [again] = await writeFileLists(tree, undefined);
    expect(again!.changed).toBe(true);
    const fourth = await updateMirror();
    expect(fourth.removed).toBeGreaterThan(0);
    await expectIdentical();
    expect(await readdir(path.join(mirror, 'stable'))).toEqual(['app-1']);
  });
});
