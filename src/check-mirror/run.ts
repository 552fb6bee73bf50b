import { readFile } from 'node:fs/promises';
import path from 'node:path';
import pLimit from 'p-limit';
import type { StoragePaths } from '../config/load.js';
import { NotFoundError, UsageError } from '../errors.js';
import { fileListName, parseFileList, type FileListEntry } from '../publish/file-list.js';
import { readCurrentGeneration } from '../publish/generations.js';
import { inModule, moduleView, type ModuleRoot } from '../publish/modules.js';
import { compareModule, type RepositoryCheck } from './compare.js';
import { proberFor, type Probe } from './probe.js';

export interface CheckMirrorOptions {
  concurrency: number;
  timeoutMs: number;
  /** Aborted (SIGINT/SIGTERM): no new request; the check rejects with its reason. */
  signal?: AbortSignal;
}

export interface ModuleCheck {
  module: string;
  root: string;
  upToDate: boolean;
  files: number;
  /** Repositories not up to date. */
  outdated: string[];
}

/** The mirror stopped answering: the first such error, and how many listed files got no answer. */
export interface MirrorUnreachable {
  error: string;
  filesNotChecked: number;
  files: number;
}

export interface MirrorCheckReport {
  mirror: string;
  upToDate: boolean;
  generation: string;
  /** Set when the mirror did not answer (refused, DNS, TLS, timeout): the rest was not asked. */
  unreachable?: MirrorUnreachable;
  modules: ModuleCheck[];
  repositories: RepositoryCheck[];
  durationMs: number;
}

/** What every mirror is compared with: the current generation and its modules' listed files. */
export interface MasterLists {
  generation: string;
  modules: { module: ModuleRoot; files: FileListEntry[] }[];
}

async function masterList(treeDir: string, module: ModuleRoot) {
  const file = path.join(treeDir, module.root, fileListName(module.name));
  const text = await readFile(file, 'utf8').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
    throw new NotFoundError(`the master has no file list ${file} yet (sync and gc write it)`);
  });
  return parseFileList(text);
}

/**
 * Read the master's current generation and file lists (of `module` only, when given) once, so
 * that several mirrors checked in one run are compared with the same generation, and a sync
 * publishing between two of them changes nothing the run reports.
 */
export async function readMasterLists(storage: StoragePaths, module?: string): Promise<MasterLists> {
  const generation = await readCurrentGeneration(storage.metadata);
  if (!generation) throw new NotFoundError(`nothing published yet in ${storage.metadata}: run sync first`);
  const all = moduleView(generation.index).modules;
  const modules = module === undefined ? all : all.filter((m) => m.name === module);
  if (!modules.length)
    throw new UsageError(
      `no module ${JSON.stringify(module)}; the current generation has ${all.map((m) => m.name).join(', ')}`,
    );
  const lists: MasterLists['modules'] = [];
  for (const m of modules)
    lists.push({ module: m, files: (await masterList(storage.tree, m)).files.filter((f) => f.type.startsWith('f')) });
  return { generation: generation.id, modules: lists };
}

/** Compare a mirror (`base`: its copy of the tree root, URL or directory) with the master's file lists. */
export async function checkMirror(
  master: MasterLists,
  base: string,
  options: CheckMirrorOptions,
): Promise<MirrorCheckReport> {
  const started = Date.now();
  const probe = proberFor(base, options.timeoutMs);
  const limit = pLimit(options.concurrency);
  const report: MirrorCheckReport = {
    mirror: base,
    upToDate: true,
    generation: master.generation,
    modules: [],
    repositories: [],
    durationMs: 0,
  };
  // The first unanswered request stops the check: asking an unreachable mirror for every other
  // file would only repeat the same error once per file (and wait a timeout for each).
  let unreachable: string | undefined;
  const ask = async (rel: string, probes: Map<string, Probe>) => {
    if (unreachable !== undefined || options.signal?.aborted) return;
    const answer = await probe(rel);
    if (answer.kind === 'unreachable') unreachable ??= answer.detail;
    else probes.set(rel, answer);
  };
  let total = 0;
  let notChecked = 0;
  for (const { module, files } of master.modules) {
    const where = (rel: string) => inModule(module, rel);
    const probes = new Map<string, Probe>();
    await Promise.all(files.map((f) => limit(() => ask(where(f.path), probes))));
    options.signal?.throwIfAborted();
    total += files.length;
    notChecked += files.length - probes.size;
    const repositories = compareModule(module.name, files, probes, where);
    const outdated = repositories.filter((r) => !r.upToDate).map((r) => r.repository);
    report.modules.push({
      module: module.name,
      root: module.root,
      upToDate: outdated.length === 0,
      files: files.length,
      outdated,
    });
    report.repositories.push(...repositories);
    report.upToDate &&= outdated.length === 0;
  }
  if (unreachable !== undefined) report.unreachable = { error: unreachable, filesNotChecked: notChecked, files: total };
  report.durationMs = Date.now() - started;
  return report;
}
