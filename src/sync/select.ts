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

/** A listed tag the selection leaves out, and the rule that did. */
export interface FilteredTag {
  tag: string;
  rule: string;
}

/**
 * Tags matching any include regex (all when none) and no exclude regex. `keepNewest` keeps the N
 * newest version-like tags; tags that are not versions (`latest`, `stable`) are always kept.
 */
export function selectTags(selection: TagSelection, tags: readonly string[]): string[] {
  return explainTags(selection, tags).selected;
}

/** The include or exclude rule that leaves a tag out (first match wins), or undefined when both keep it. */
function tagFilter(selection: TagSelection): (tag: string) => string | undefined {
  const includes = selection.include.map((re) => new RegExp(re));
  const excludes = selection.exclude.map((re) => new RegExp(re));
  return (tag) => {
    if (includes.length > 0 && !includes.some((re) => re.test(tag)))
      return `tags.include (matches none of ${selection.include.join(', ')})`;
    const exclude = excludes.findIndex((re) => re.test(tag));
    return exclude === -1 ? undefined : `tags.exclude ${selection.exclude[exclude]}`;
  };
}

/**
 * Whether a tag is selected whatever the other tags are: include/exclude keep it and keepNewest
 * cannot drop it (it is no version). Counting these while a listing is read is a lower bound of
 * what `selectTags` will select.
 */
export function surelySelected(selection: TagSelection): (tag: string) => boolean {
  const filter = tagFilter(selection);
  return (tag) => filter(tag) === undefined && (selection.keepNewest === undefined || !isVersionTag(tag));
}

/** `selectTags`, saying for every tag left out which rule left it out (first match wins). */
export function explainTags(
  selection: TagSelection,
  tags: readonly string[],
): { selected: string[]; filtered: FilteredTag[] } {
  const filter = tagFilter(selection);
  const filtered: FilteredTag[] = [];
  const matched = [...new Set(tags)].filter((tag) => {
    const rule = filter(tag);
    if (rule !== undefined) filtered.push({ tag, rule });
    return rule === undefined;
  });
  const byTag = (a: FilteredTag, b: FilteredTag) => (a.tag < b.tag ? -1 : 1);
  if (selection.keepNewest === undefined) return { selected: matched.sort(), filtered: filtered.sort(byTag) };
  const versions = matched.filter(isVersionTag).sort(compareVersions);
  const kept = new Set(versions.slice(Math.max(0, versions.length - selection.keepNewest)));
  const selected: string[] = [];
  for (const tag of matched) {
    if (!isVersionTag(tag) || kept.has(tag)) selected.push(tag);
    else filtered.push({ tag, rule: `tags.keepNewest ${selection.keepNewest} (older version)` });
  }
  return { selected: selected.sort(), filtered: filtered.sort(byTag) };
}
