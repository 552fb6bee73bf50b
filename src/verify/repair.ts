import { mkdir, rename, unlink } from 'node:fs/promises';
import path from 'node:path';
import { describeError } from '../errors.js';
import { parseDigest, type Digest } from '../oci/digest.js';
import { fsyncPath, writeFileAtomic } from '../store/fs-durable.js';
import type { ObjectStore } from '../store/object-store.js';
import type { Source } from '../source/source.js';
import type { Expected } from './expected.js';
import type { Finding } from './findings.js';

export interface RepairContext {
  store: ObjectStore;
  metadataDir: string;
  expected: Expected;
  /** Where corrupt objects go: kept for a person to look at, never served again. */
  quarantineDir: string;
  /** Opened only when something must be fetched again. */
  source: () => Promise<Source>;
}

const done = (detail: string) => ({ done: true, detail });
const failed = (error: unknown) => ({ done: false, detail: describeError(error) });

async function quarantine(ctx: RepairContext, object: string, digest: Digest): Promise<string> {
  await mkdir(ctx.quarantineDir, { recursive: true });
  const { algorithm, hex } = parseDigest(digest);
  const target = path.join(ctx.quarantineDir, `${algorithm}-${hex}.${Date.now()}`);
  await rename(object, target);
  await fsyncPath(ctx.quarantineDir);
  return target;
}

/** Fetch a blob into the store again (verified while streaming), then link every tree path to it. */
async function refetch(ctx: RepairContext, digest: Digest): Promise<string> {
  const blob = ctx.expected.blobs.get(digest);
  if (!blob) throw new Error('no kept generation references it, so there is no repository to fetch it from');
  const source = await ctx.source();
  const { fetched } = await ctx.store.ingest(
    digest,
    blob.size,
    `blob ${digest} of ${blob.repository}`,
    (offset) => source.openBlob(blob.repository, digest, offset),
    () => {},
  );
  for (const rel of blob.paths) await ctx.store.linkIntoTree(rel, digest);
  return `fetched again from ${blob.repository} (${fetched} bytes) and relinked at ${blob.paths.size} tree path(s)`;
}

/**
 * Fix what can be fixed, in dependency order: temp files, then objects (quarantine a corrupt one,
 * fetch it again, relink all its paths), then single links, then manifests. Each finding gets
 * `repair` saying what happened; callers re-check afterwards instead of trusting this.
 */
export async function repairFindings(findings: readonly Finding[], ctx: RepairContext): Promise<void> {
  const refetched = new Map<Digest, { done: boolean; detail: string }>();
  const of = (kind: Finding['kind']) => findings.filter((f) => f.kind === kind);

  for (const f of of('stray-temp')) f.repair = await unlink(f.path).then(() => done('removed'), failed);

  for (const f of [...of('corrupt-object'), ...of('missing-object')]) {
    const digest = f.digest!;
    if (refetched.has(digest)) {
      f.repair = refetched.get(digest);
      continue;
    }
    try {
      const moved = f.kind === 'corrupt-object' ? `quarantined to ${await quarantine(ctx, f.path, digest)}; ` : '';
      f.repair = ctx.expected.blobs.has(digest)
        ? done(moved + (await refetch(ctx, digest)))
        : done(`${moved}unreferenced, not fetched again`);
    } catch (error) {
      f.repair = failed(error);
    }
    refetched.set(digest, f.repair);
  }

  for (const f of [...of('missing-link'), ...of('broken-link')]) {
    const after = refetched.get(f.digest!);
    if (after) {
      f.repair = after.done
        ? done('relinked with the object fetched again')
        : { done: false, detail: `the object could not be fetched again: ${after.detail}` };
      continue;
    }
    const rel = path.relative(ctx.store.treeDir, f.path);
    f.repair = await ctx.store
      .linkIntoTree(rel, f.digest!)
      .then((outcome) => done(outcome === 'created' ? 'linked' : 'relinked to the stored object'), failed);
  }

  for (const f of [...of('manifest-missing'), ...of('manifest-corrupt')]) {
    const manifest = ctx.expected.manifests.get(f.digest!)!;
    try {
      const fetched = await (await ctx.source()).getManifest(manifest.repository, manifest.digest);
      await writeFileAtomic(f.path, fetched.bytes);
      f.repair = done(`fetched again from ${manifest.repository}`);
    } catch (error) {
      f.repair = failed(error);
    }
  }
  await ctx.store.syncDirectories();
}
