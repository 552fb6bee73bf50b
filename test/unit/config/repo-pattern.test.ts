import { describe, expect, it } from 'vitest';
import { matchesAnyRepoPattern, repoPatternMatches } from '../../../src/config/repo-pattern.js';

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

describe('repository globs: edges', () => {
  it('anchors patterns at both ends', () => {
    expect(repoPatternMatches('toolbox', 'fedora/toolbox')).toBe(false);
    expect(repoPatternMatches('fedora', 'fedora/toolbox')).toBe(false);
    expect(repoPatternMatches('fedora/*', 'xfedora/a')).toBe(false);
  });

  it('treats . literally and * as possibly empty', () => {
    expect(repoPatternMatches('a.*', 'a.b')).toBe(true);
    expect(repoPatternMatches('a.*', 'axb')).toBe(false);
    expect(repoPatternMatches('ubi*', 'ubi')).toBe(true);
  });

  it('lets ** in the middle cross any number of components, but not zero', () => {
    expect(repoPatternMatches('a/**/z', 'a/b/z')).toBe(true);
    expect(repoPatternMatches('a/**/z', 'a/b/c/z')).toBe(true);
    expect(repoPatternMatches('a/**/z', 'a/z')).toBe(false);
    expect(repoPatternMatches('**/toolbox', 'x/y/toolbox')).toBe(true);
    expect(repoPatternMatches('**/toolbox', 'toolbox')).toBe(false);
  });

  it('gives the same answer for a pattern asked about repeatedly (compiled patterns are cached)', () => {
    for (let i = 0; i < 3; i++) {
      expect(repoPatternMatches('c/*', 'c/d')).toBe(true);
      expect(repoPatternMatches('c/*', 'c/d/e')).toBe(false);
    }
  });
});
