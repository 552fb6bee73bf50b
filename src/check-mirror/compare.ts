// PURE: a module's file list and a mirror's answers -> up to date or not, per repository.
import type { FileListEntry } from '../publish/file-list.js';
import { TREE_BLOBS_DIR } from '../store/paths.js';
import type { Probe } from './probe.js';

/** Problem paths listed per repository (the counts cover all of them). */
export const FIRST_PROBLEMS = 5;

export interface PathProblem {
  /** Relative to the mirror's tree root. */
  path: string;
  problem: 'missing' | 'size' | 'error';
  detail: string;
}

export interface RepositoryCheck {
  module: string;
  /** '' for files outside any repository. */
  repository: string;
  upToDate: boolean;
  files: number;
  missing: number;
  wrongSize: number;
  errors: number;
  /** Not answered: the mirror became unreachable before or while asking (`MirrorCheckReport.unreachable`). */
  notChecked: number;
  firstProblems: PathProblem[];
}

/** `<repository>/_blobs/<alg>/<hex>` -> the repository. */
export function repositoryOf(relativePath: string): string {
  const at = relativePath.indexOf(`/${TREE_BLOBS_DIR}/`);
  return at > 0 ? relativePath.slice(0, at) : '';
}

/**
 * Up to date, as MirrorManager decides it: every file the master lists exists on the mirror with
 * the same size. `files` are a module's `f` rows; `mirrorPath` maps a row to the probed path.
 */
export function compareModule(
  module: string,
  files: readonly FileListEntry[],
  probes: ReadonlyMap<string, Probe>,
  mirrorPath: (rel: string) => string,
): RepositoryCheck[] {
  const byRepository = new Map<string, RepositoryCheck>();
  for (const file of files) {
    const repository = repositoryOf(file.path);
    let check = byRepository.get(repository);
    if (!check) {
      check = {
        module,
        repository,
        upToDate: true,
        files: 0,
        missing: 0,
        wrongSize: 0,
        errors: 0,
        notChecked: 0,
        firstProblems: [],
      };
      byRepository.set(repository, check);
    }
    check.files++;
    const where = mirrorPath(file.path);
    const probe = probes.get(where);
    let problem: PathProblem | undefined;
    // An unanswered file is no finding about the file: the mirror-wide error says why, once.
    if (!probe || probe.kind === 'unreachable') {
      check.notChecked++;
      check.upToDate = false;
    } else if (probe.kind === 'missing') {
      check.missing++;
      problem = { path: where, problem: 'missing', detail: 'missing' };
    } else if (probe.kind === 'error') {
      check.errors++;
      problem = { path: where, problem: 'error', detail: probe.detail };
    } else if (probe.size !== file.size) {
      check.wrongSize++;
      problem = { path: where, problem: 'size', detail: `${probe.size} bytes, the master has ${file.size}` };
    }
    if (problem) {
      check.upToDate = false;
      if (check.firstProblems.length < FIRST_PROBLEMS) check.firstProblems.push(problem);
    }
  }
  return [...byRepository.values()].sort((a, b) =>
    a.repository < b.repository ? -1 : a.repository > b.repository ? 1 : 0,
  );
}
