import { chmod, link, mkdir, mkdtemp, readFile, rm, stat, symlink, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { renderFileList } from '../../../src/publish/file-list-format.js';
import { parseFileList, writeFileLists, type FileListEntry } from '../../../src/publish/file-list.js';

const segment = fc.stringMatching(/^[a-z0-9._-]{1,12}$/).filter((s) => s !== '.' && s !== '..');
const entry = fc.record({
  mtime: fc.integer({ min: 0, max: 2 ** 40 }),
  type: fc.constantFrom('f', 'd', 'l', 'f*', 'd-', 'l*'),
  size: fc.integer({ min: 0, max: 2 ** 45 }),
  path: fc.array(segment, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('/')),
});

describe('file list format', () => {
  it('parses what it renders (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(entry, { selector: (e) => e.path, maxLength: 30 }),
        fc.boolean(),
        (files, withSums) => {
          const checksums = withSums
            ? Object.fromEntries(files.filter((f) => f.type.startsWith('f')).map((f) => [f.path, 'a'.repeat(40)]))
            : {};
          expect(parseFileList(renderFileList({ files, checksums }))).toEqual({ version: 2, files, checksums });
        },
      ),
    );
  });

  it('renders the quick-fedora-mirror layout', () => {
    const text = renderFileList({
      files: [
        { mtime: 1700000000, type: 'd', size: 0, path: 'a' },
        { mtime: 1700000001, type: 'f', size: 5, path: 'a/b' },
      ],
      checksums: {},
    });
    expect(text).toBe('[Version]\n2\n\n[Files]\n1700000000\td\t0\ta\n1700000001\tf\t5\ta/b\n\n[End]\n');
  });

  it('treats paths named like Object.prototype members as plain paths', () => {
    const files = ['constructor', '__proto__', 'toString'].map((path) => ({ mtime: 0, type: 'f', size: 0, path }));
    const parsed = parseFileList(
      renderFileList({
        files,
        checksums: { __proto__: null, toString: 'b'.repeat(40) } as unknown as Record<string, string>,
      }),
    );
    expect(parsed.files).toEqual(files);
    expect({ ...parsed.checksums }).toEqual({ toString: 'b'.repeat(40) });
  });

  it('skips sections it does not know and reads checksums', () => {
    const sha1 = 'b'.repeat(40);
    const text = `[Version]\n2\n\n[Files]\n1\tf\t3\tx\n\n[Checksums SHA256]\n${'c'.repeat(64)}\tx\n\n[Checksums SHA1]\n${sha1}\tx\n\n[End]\n`;
    expect(parseFileList(text)).toEqual({
      version: 2,
      files: [{ mtime: 1, type: 'f', size: 3, path: 'x' }],
      checksums: { x: sha1 },
    });
  });

  it.each([
    ['a list cut short', '[Version]\n2\n\n[Files]\n1\tf\t3\tx\n', /cut short/],
    ['another version', '[Version]\n3\n\n[End]\n', /version 3/],
    ['a malformed row', '[Version]\n2\n\n[Files]\n1\tf\tx\n\n[End]\n', /line 5/],
    ['an absolute path', '[Version]\n2\n\n[Files]\n1\tf\t3\t/etc/passwd\n\n[End]\n', /unsafe path/],
    ['a path climbing out', '[Version]\n2\n\n[Files]\n1\tf\t3\ta/../../x\n\n[End]\n', /unsafe path/],
  ])('refuses %s', (_what, text, message) => {
    expect(() => parseFileList(text)).toThrow(message);
  });
});

describe('writeFileLists', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-filelist-'));
  });
  afterEach(async () => {
    await chmod(path.join(dir, 'tree/closed'), 0o755).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  });

  const list = async (file: string) => parseFileList(await readFile(file, 'utf8'));
  const byPath = (files: FileListEntry[]) => Object.fromEntries(files.map((f) => [f.path, f]));

  it('lists files, directories and symlinks with max(mtime, ctime), type suffixes, and skips temp files', async () => {
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'repo/_blobs/sha256'), { recursive: true });
    await writeFile(path.join(tree, 'repo/_blobs/sha256/aaa'), 'hello');
    await utimes(path.join(tree, 'repo/_blobs/sha256/aaa'), 1_000_000, 1_000_000);
    await symlink('_blobs', path.join(tree, 'repo/link'));
    await writeFile(path.join(tree, 'repo/private'), 'x', { mode: 0o600 });
    await mkdir(path.join(tree, 'closed'));
    await writeFile(path.join(tree, 'closed/inside'), 'y');
    await chmod(path.join(tree, 'closed'), 0o750);
    for (const temp of ['repo/x.tmp-123-abc', 'repo/x.link-9-zz', '.blobmirror-linkcheck-42'])
      await writeFile(path.join(tree, temp), '');
    await writeFile(path.join(tree, 'fullfiletimelist-old'), 'stale list of a renamed module');

    const [written] = await writeFileLists(tree, undefined);
    expect(written).toMatchObject({
      module: 'containers',
      file: path.join(tree, 'fullfiletimelist-containers'),
      changed: true,
    });
    const files = byPath((await list(written!.file)).files);
    expect(Object.keys(files)).toEqual([
      'closed',
      'closed/inside',
      'repo',
      'repo/_blobs',
      'repo/_blobs/sha256',
      'repo/_blobs/sha256/aaa',
      'repo/link',
      'repo/private',
    ]);
    const blob = await stat(path.join(tree, 'repo/_blobs/sha256/aaa'));
    // utimes set mtime far in the past; ctime (now) is what a mirror must see.
    expect(files['repo/_blobs/sha256/aaa']).toEqual({
      mtime: Math.floor(blob.ctimeMs / 1000),
      type: 'f',
      size: 5,
      path: 'repo/_blobs/sha256/aaa',
    });
    expect(files['repo/link']).toMatchObject({ type: 'l', size: '_blobs'.length });
    expect(files['repo/private']!.type).toBe('f-');
    expect(files['closed']!.type).toBe('d-');
    expect(files['closed/inside']!.type).toBe('f*');
  });

  it('replaces a list only when its content changed', async () => {
    const tree = path.join(dir, 'tree');
    await mkdir(path.join(tree, 'r'), { recursive: true });
    await writeFile(path.join(tree, 'r/a'), 'a');
    const [first] = await writeFileLists(tree, { containers: { root: '' } });
    const before = await stat(first!.file);
    const [again] = await writeFileLists(tree, { containers: { root: '' } });
    expect(again!.changed).toBe(false);
    expect((await stat(again!.file)).ino).toBe(before.ino);
    await writeFile(path.join(tree, 'r/b'), 'b');
    const [third] = await writeFileLists(tree, { containers: { root: '' } });
    expect(third!.changed).toBe(true);
    expect((await list(third!.file)).files.map((f) => f.path)).toEqual(['r', 'r/a', 'r/b']);
  });

  it('writes one list per module at its root, with SHA1s cached by inode', async () => {
    const tree = path.join(dir, 'tree');
    const state = path.join(dir, 'state');
    for (const arch of ['amd64', 'arm64']) await mkdir(path.join(tree, arch, 'r/_blobs'), { recursive: true });
    await writeFile(path.join(tree, 'amd64/r/_blobs/shared'), 'abc');
    await link(path.join(tree, 'amd64/r/_blobs/shared'), path.join(tree, 'arm64/r/_blobs/shared'));
    const modules = { 'containers-amd64': { root: 'amd64' }, 'containers-arm64': { root: 'arm64' } };
    const written = await writeFileLists(tree, modules, { checksums: true, stateDir: state });
    expect(written.map((w) => path.relative(tree, w.file))).toEqual([
      'amd64/fullfiletimelist-containers-amd64',
      'arm64/fullfiletimelist-containers-arm64',
    ]);
    const sha1 = 'a9993e364706816aba3e25717850c26c9cd0d89d';
    for (const w of written) expect((await list(w.file)).checksums).toEqual({ 'r/_blobs/shared': sha1 });
    const cache = JSON.parse(await readFile(path.join(state, 'file-list-sha1.json'), 'utf8')) as Record<
      string,
      unknown[]
    >;
    expect(Object.values(cache)).toEqual([[3, expect.any(Number), sha1]]);
    // A cached sum is trusted while inode, size and mtime match: prove it is used.
    const [key] = Object.keys(cache);
    await writeFile(
      path.join(state, 'file-list-sha1.json'),
      JSON.stringify({ [key!]: [3, cache[key!]![1], 'f'.repeat(40)] }),
    );
    await writeFile(path.join(tree, 'amd64/r/extra'), 'x');
    const [amd64] = await writeFileLists(tree, modules, { checksums: true, stateDir: state });
    expect((await list(amd64!.file)).checksums['r/_blobs/shared']).toBe('f'.repeat(40));
  });
});
