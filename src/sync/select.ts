// PURE: which repositories and tags a config selects.
import { matchesAnyRepoPattern } from '../config/repo-pattern.js';
import { isVersionTag, compareVersions } from '../oci/version-order.js';

export const isGlob = (pattern: string): boolean => pattern.includes('*');

export interface RepositorySelection {
  include: readonly string[];
  exclude: readonly string[];
}

/** Whether one repository is selected: matched by an include, by no exclude. */
export function isRepositorySelected(selection: RepositorySelection, name: string): boolean {
  return matchesAnyRepoPattern(selection.include, name) && !matchesAnyRepoPattern(selection.exclude, name);
}

/** Whether the catalog must be listed: only when an include is a glob. */
export function needsCatalog(selection: RepositorySelection): boolean {
  return selection.include.some(isGlob);
}

/**
 * Selected repositories, sorted. Explicit names are selected even when the catalog does not list
 * them (catalogs can be disabled); globs only match catalog entries. Excludes always win.
 */
export function selectRepositories(selection: RepositorySelection, catalog: readonly string[]): string[] {
  const explicit = selection.include.filter((p) => !isGlob(p));
  const candidates = new Set([
    ...explicit,
    ...catalog.filter((name) => matchesAnyRepoPattern(selection.include, name)),
  ]);
  return [...candidates].filter((name) => !matchesAnyRepoPattern(selection.exclude, name)).sort();
}

export interface TagSelection {
  include: readonly string[];
  exclude: readonly string[];
  keepNewest?: number | undefined;
}

/**
 * Tags matching any include regex (all when none) and no exclude regex. `keepNewest` keeps the N
 * newest version-like tags; tags that are not versions (`latest`, `stable`) are always kept.
 */
export function selectTags(selection: TagSelection, tags: readonly string[]): string[] {
  const includes = selection.include.map((re) => new RegExp(re));
  const excludes = selection.exclude.map((re) => new RegExp(re));
  const matched = [...new Set(tags)].filter(
    (tag) => (includes.length === 0 || includes.some((re) => re.test(tag))) && !excludes.some((re) => re.test(tag)),
  );
  if (selection.keepNewest === undefined) return matched.sort();
  const versions = matched.filter(isVersionTag).sort(compareVersions);
  const kept = new Set(versions.slice(Math.max(0, versions.length - selection.keepNewest)));
  return matched.filter((tag) => !isVersionTag(tag) || kept.has(tag)).sort();
}
