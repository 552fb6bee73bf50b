import { rm, rmdir, unlink } from 'node:fs/promises';
import path from 'node:path';
import { pruneGenerations } from '../publish/publish-generation.js';
import type { GcSummary } from '../report/gc-summary.js';
import { writeFileAtomic } from '../store/fs-durable.js';
import type { GcPlan } from './plan-gc.js';

/** Remove now-empty directories up to (not including) `root`. */
async function pruneEmptyDirs(root: string, file: string): Promise<void> {
  for (let dir = path.dirname(path.join(root, file)); dir.startsWith(`${root}${path.sep}`); dir = path.dirname(dir)) {
    if (
      !(await rmdir(dir).then(
        () => true,
        () => false,
      ))
    )
      return;
  }
}

/** What a gc plan removes, counted; `removed` lists each file with why, in the order they go. */
export function gcSummary(plan: GcPlan, tree: string, dryRun: boolean): GcSummary {
  const line = (what: string) => (r: { path: string; why: string }) => `${what} ${r.path} (${r.why})`;
  return {
    dryRun,
    linksRemoved: plan.links.length,
    linksPending: Object.keys(plan.pending).length,
    objectsRemoved: plan.objects.length,
    manifestsRemoved: plan.manifests.length,
    repositoryFilesRemoved: plan.repositoryFiles.length,
    generationsRemoved: plan.generations.length,
    tempFilesRemoved: plan.temps.length,
    stagingRemoved: plan.staging.length,
    bytesFreed: [...plan.objects, ...plan.manifests, ...plan.repositoryFiles, ...plan.partials, ...plan.staging].reduce(
      (sum, r) => sum + r.size,
      0,
    ),
    retained: plan.retained,
    removed: [
      ...plan.links.map((l) => line('link')({ path: path.join(tree, l.path), why: l.why })),
      ...plan.objects.map(line('object')),
      ...plan.manifests.map(line('manifest')),
      ...plan.repositoryFiles.map(line('repository file')),
      ...plan.temps.map(line('temp')),
      ...plan.partials.map(line('partial')),
      ...plan.staging.map(line('staging')),
      ...plan.generations.map((g) => `generation ${g.id} (${g.why})`),
    ],
    durationMs: 0,
  };
}

/** Carry out a gc plan under the tree lock: links first, so objects they held can go. */
export async function applyGc(
  plan: GcPlan,
  dirs: { tree: string; metadata: string; pendingFile: string },
  keepGenerations: number,
): Promise<number> {
  for (const link of plan.links) {
    await unlink(path.join(dirs.tree, link.path));
    await pruneEmptyDirs(dirs.tree, link.path);
  }
  await writeFileAtomic(dirs.pendingFile, `${JSON.stringify(plan.pending, null, 1)}\n`);
  for (const removal of [...plan.objects, ...plan.manifests, ...plan.temps, ...plan.partials])
    await unlink(removal.path);
  for (const staging of plan.staging) await rm(staging.path, { recursive: true, force: true });
  const generations = (await pruneGenerations(dirs.metadata, keepGenerations)).length;
  // After the generations that named them; pruning may already have removed some.
  for (const removal of plan.repositoryFiles) await rm(removal.path, { force: true });
  return generations;
}
