import { describe, expect, it } from 'vitest';
import { matchesAnyRepoPattern, repoPatternMatches } from '../../src/config/repo-pattern.js';

describe('repository globs', () => {
  it('matches exact names only exactly', () => {
    expect(repoPatternMatches('fedora/toolbox', 'fedora/toolbox')).toBe(true);
    expect(repoPatternMatches('fedora/toolbox', 'fedora/toolbox2')).toBe(false);
    expect(repoPatternMatches('a.b', 'axb')).toBe(false);
  });

  it('keeps * within one component and lets ** cross components', () => {
    expect(repoPatternMatches('fedora/*', 'fedora/toolbox')).toBe(true);
    expect(repoPatternMatches('fedora/*', 'fedora/x/y')).toBe(false);
    expect(repoPatternMatches('fedora/**', 'fedora/x/y')).toBe(true);
    expect(repoPatternMatches('fedora/**', 'fedora')).toBe(false);
    expect(repoPatternMatches('**', 'anything/at/all')).toBe(true);
    expect(repoPatternMatches('*-base', 'ubi-base')).toBe(true);
  });

  it('matches any of a list', () => {
    expect(matchesAnyRepoPattern(['a', 'b/**'], 'b/c')).toBe(true);
    expect(matchesAnyRepoPattern([], 'b/c')).toBe(false);
  });
});
