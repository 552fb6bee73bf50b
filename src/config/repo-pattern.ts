// Repository globs, as the config documents them: an exact name, or a pattern where `*` matches
// within one path component and `**` across components (`stable/**` is everything under stable/).
// Used by every place that selects repositories by pattern, so they all agree on the meaning.

const cache = new Map<string, RegExp>();

function compile(pattern: string): RegExp {
  let regex = cache.get(pattern);
  if (!regex) {
    // Names are [a-z0-9._/-] only (validated by the schema), so `.` is the one regex metacharacter.
    const body = pattern
      .split('**')
      .map((part) => part.replace(/\./g, '\\.').replace(/\*/g, '[^/]*'))
      .join('.*');
    regex = new RegExp(`^${body}$`);
    cache.set(pattern, regex);
  }
  return regex;
}

export function repoPatternMatches(pattern: string, repository: string): boolean {
  return compile(pattern).test(repository);
}

export function matchesAnyRepoPattern(patterns: readonly string[], repository: string): boolean {
  return patterns.some((pattern) => repoPatternMatches(pattern, repository));
}
