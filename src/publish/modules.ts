// PURE: which modules a generation has and where each blob lives in them (docs/formats.md,
// "Modules"). Metadata written before modules existed has no `modules` keys: it is one module
// `containers` rooted at the tree, holding each blob at its `path`. Every reader goes through
// this one function so that rule lives in one place.

export const DEFAULT_MODULE = 'containers';

export interface ModuleRoot {
  name: string;
  /** Relative to the tree root; '' for the tree itself. */
  root: string;
}

export interface ModuleView {
  /** Sorted by name. */
  modules: ModuleRoot[];
  /** Module name -> the blob's path there, relative to the tree root. */
  blobPaths(blob: { path: string; modules?: Record<string, string> }): Record<string, string>;
}

export function moduleView(index: { modules?: Record<string, { root: string }> }): ModuleView {
  const declared =
    index.modules && Object.keys(index.modules).length > 0 ? index.modules : { [DEFAULT_MODULE]: { root: '' } };
  const modules = Object.entries(declared)
    .map(([name, { root }]) => ({ name, root }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const fallback = modules[0]!.name;
  return {
    modules,
    blobPaths: (blob) =>
      blob.modules && Object.keys(blob.modules).length > 0 ? blob.modules : { [fallback]: blob.path },
  };
}

/** `<module root>/<rel>` relative to the tree root. */
export function inModule(module: ModuleRoot, rel: string): string {
  return module.root === '' ? rel : `${module.root}/${rel}`;
}
