// Issue 4: `verify` against a real sync of a real registry. A flipped byte in a stored object (all
// its tree paths share the inode) and a tree path replaced by a copy are found (exit 1) and fixed
// by --repair (quarantine + fetch again, relink); verify is clean afterwards. Also: every module
// of a per-architecture tree is checked, the lock is honoured, and temp files are removed.
import { copyFile, open, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type ImageSetSpec } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { acquireLock } from '../../src/store/lock.js';
import type { VerifyReport } from '../../src/verify/run.js';
import { jsonOf, runCli } from '../helpers/cli.js';
import { pushLayout } from '../helpers/push.js';
import { sha256File } from '../helpers/tree-check.js';
import { useTestWorld } from '../helpers/test-world.js';
import { readIndex, readRepositoryFile } from '../helpers/published.js';

const KiB = 1024;

interface BlobRecord {
  size: number;
  path: string;
  modules?: Record<string, string>;
}

/** digest -> blob entry, over the current generation's repositories. */
async function currentBlobs(root: string): Promise<Map<string, BlobRecord & { repositories: string[] }>> {
  const index = await readIndex(path.join(root, 'metadata'));
  const blobs = new Map<string, BlobRecord & { repositories: string[] }>();
  for (const name of Object.keys(index.repositories)) {
    const repo = (await readRepositoryFile(path.join(root, 'metadata'), name)) as {
      blobs: Record<string, BlobRecord>;
    };
    for (const [digest, blob] of Object.entries(repo.blobs)) {
      const known = blobs.get(digest);
      if (known) known.repositories.push(name);
      else blobs.set(digest, { ...blob, repositories: [name] });
    }
  }
  return blobs;
}

const objectOf = (root: string, digest: string) =>
  path.join(root, 'state/objects/sha256', digest.slice(7, 9), digest.slice(7));

describe('verify and repair', () => {
  const world = useTestWorld({
    name: 'verify',
    spec: fixtureSpec({
      seed: 'verify',
      repos: 2,
      tagsPerRepo: 2,
      baseBytes: 512 * KiB,
      repoBytes: 64 * KiB,
      tagBytes: 16 * KiB,
      multiPlatform: true,
    }),
  });

  beforeAll(async () => {
    // A two-platform index whose `certs` layer is the same blob for both architectures.
    const arch: ImageSetSpec = {
      seed: 'verify-arch',
      sharedLayers: [
        { name: 'base', size: 64 * KiB, perPlatform: true },
        { name: 'certs', size: 16 * KiB },
      ],
      repositories: [{ name: 'arch/multi', layers: ['base', 'certs'], tags: [{ tag: '1', multiPlatform: true }] }],
    };
    await generateImages(arch, path.join(world.work, 'arch-layout'));
    await pushLayout(world.registry, path.join(world.work, 'arch-layout'));
  });

  const verify = async (config: string, ...args: string[]) => {
    const result = await runCli(['verify', '-c', config, '--json', ...args]);
    return { code: result.code, report: jsonOf<VerifyReport>(result), stderr: result.stderr };
  };

  it('finds a corrupted object and a copied link, repairs both, and is clean after', async () => {
    const { file: config, root } = await world.writeConfig('single');
    expect((await runCli(['sync', '-c', config])).code).toBe(0);
    const clean = await verify(config, '--full');
    expect(clean.code).toBe(0);
    expect(clean.report).toMatchObject({ result: 'ok', problems: [], warnings: [], left: 0 });
    expect(clean.report.full!.bytes).toBeGreaterThan(512 * KiB);

    const blobs = await currentBlobs(root);
    // The shared base layer of both repositories: one inode at several tree paths.
    const [shared] = [...blobs]
      .filter(([, b]) => b.repositories.length === 2)
      .sort(([, a], [, b]) => b.size - a.size)[0]!;
    const sharedPaths = [...blobs.get(shared)!.repositories].map((repo) =>
      path.join(root, 'tree', repo, '_blobs/sha256', shared.slice(7)),
    );
    const handle = await open(objectOf(root, shared), 'r+');
    const [byte] = [Buffer.alloc(1)];
    await handle.read(byte, 0, 1, 1000);
    await handle.write(Buffer.from([byte![0]! ^ 0xff]), 0, 1, 1000);
    await handle.close();
    // A path of another blob restored without -H: same bytes, its own inode.
    const [copied, copiedBlob] = [...blobs].find(([digest, b]) => digest !== shared && b.repositories.length === 1)!;
    const copiedPath = path.join(root, 'tree', copiedBlob.path);
    await copyFile(copiedPath, `${copiedPath}.restore`);
    await rename(`${copiedPath}.restore`, copiedPath);
    const stray = path.join(root, 'tree/stable/app-1/_blobs/sha256/partial.tmp-4242-abcdef');
    await writeFile(stray, 'left by a crash');

    const broken = await verify(config, '--full');
    expect(broken.code).toBe(1);
    expect(broken.report.problems.map((p) => [p.kind, p.path]).sort()).toEqual(
      [
        ['corrupt-object', objectOf(root, shared)],
        ['broken-link', copiedPath],
        ['stray-temp', stray],
      ].sort(),
    );
    expect(broken.report.left).toBe(3);
    // Without --full only the cheap checks run: a flipped byte keeps the size.
    expect((await verify(config)).report.problems.map((p) => p.kind).sort()).toEqual(['broken-link', 'stray-temp']);

    const metrics = path.join(world.work, 'blobmirror-verify.prom');
    const repaired = await verify(config, '--full', '--repair', '--metrics-file', metrics);
    expect(repaired.code, repaired.stderr).toBe(0);
    const samples = Object.fromEntries(
      parsePrometheusTextFormat(await readFile(metrics, 'utf8')).map((f) => [f.name, Number(f.metrics[0]!.value)]),
    );
    expect(samples).toMatchObject({
      blobmirror_verify_problems_found: 3,
      blobmirror_verify_problems_fixed: 3,
      blobmirror_verify_problems_left: 0,
      blobmirror_last_run_success: 1,
    });
    expect(repaired.report).toMatchObject({ result: 'ok', repaired: 3, left: 0 });
    expect(repaired.report.problems.every((p) => p.repair?.done)).toBe(true);
    const quarantined = await readdir(path.join(root, 'state/quarantine'));
    expect(quarantined).toEqual([expect.stringMatching(new RegExp(`^sha256-${shared.slice(7)}\\.\\d+$`))]);
    // Every path of the corrupted blob is again one inode with the verified object.
    const object = await stat(objectOf(root, shared));
    expect(await sha256File(objectOf(root, shared))).toBe(shared.slice(7));
    for (const p of sharedPaths) expect((await stat(p)).ino).toBe(object.ino);
    expect((await stat(copiedPath)).ino).toBe((await stat(objectOf(root, copied))).ino);

    const after = await verify(config, '--full');
    expect(after.code).toBe(0);
    expect(after.report).toMatchObject({ result: 'ok', problems: [], left: 0 });
  });

  it('checks every module of a per-architecture tree, reports orphans as warnings, and honours the lock', async () => {
    const { file: config, root } = await world.writeConfig('per-arch', {
      include: ['arch/**'],
      extra: { modules: { perArchitecture: true } },
    });
    expect((await runCli(['sync', '-c', config])).code).toBe(0);
    const blobs = await currentBlobs(root);
    const multi = [...blobs.values()].find((b) => Object.keys(b.modules ?? {}).length > 1)!;
    const [, second] = Object.values(multi.modules!);
    await unlink(path.join(root, 'tree', second!));
    const orphan = path.join(root, 'tree', 'amd64/arch/multi/_blobs/sha256', 'f'.repeat(64));
    await writeFile(orphan, 'nobody references this');

    const found = await verify(config);
    expect(found.code).toBe(1);
    expect(found.report.problems.map((p) => [p.kind, p.path])).toEqual([
      ['missing-link', path.join(root, 'tree', second!)],
    ]);
    expect(found.report.warnings.map((w) => [w.kind, w.path])).toEqual([['orphan-file', orphan]]);

    const lock = await acquireLock(path.join(root, 'state/lock'), { command: 'test holder' });
    try {
      const locked = await runCli(['verify', '-c', config, '--repair']);
      expect(locked.code).toBe(3);
      expect(locked.stderr).toMatch(/test holder/);
    } finally {
      await lock.release();
    }
    const repaired = await verify(config, '--repair');
    expect(repaired.code).toBe(0);
    expect(repaired.report.warnings).toHaveLength(1);
    expect((await stat(path.join(root, 'tree', second!))).ino).toBe(
      (await stat(path.join(root, 'tree', Object.values(multi.modules!)[0]!))).ino,
    );
  });
});
