// The mirror list's model: a mirror and the set serve and the checker work from. Mirror URLs are
// the tree root on the mirror: `<url>/<repository>/_blobs/...`.

export interface Mirror {
  url: string;
  weight: number;
  country?: string;
  /** Globs of the repositories the mirror carries. */
  repositories: string[];
  /** Tree modules the mirror carries (`containers-arm64`, ...); absent: all of them. */
  modules?: string[];
}

export interface MirrorSet {
  /** Fallback base URL: the master tree, used when no mirror carries a repository. */
  master: string;
  mirrors: Mirror[];
}

/** `<base>/<tree path>`, each path segment percent-encoded (tree paths are plain, but be exact). */
export function joinUrl(base: string, treePath: string): string {
  return `${base}/${treePath.split('/').map(encodeURIComponent).join('/')}`;
}
