import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseMirrorConfig } from '../../../src/mirror-list/mirror-config.js';

const valid = `version: 1
master: https://master.example.org/containers/
mirrors:
  - url: https://mirror.example.net/pub/containers
    weight: 10
    country: de
    repositories: ["fedora/**", "centos/*"]
  - url: http://plain.example.com
`;

function errorOf(text: string): string {
  try {
    parseMirrorConfig(text, 'mirrors.yaml');
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error('expected a ConfigError');
}

describe('mirror list file', () => {
  it('parses, normalises and fills defaults', () => {
    const config = parseMirrorConfig(valid, 'mirrors.yaml');
    expect(config.master).toBe('https://master.example.org/containers');
    expect(config.mirrors[0]).toEqual({
      url: 'https://mirror.example.net/pub/containers',
      weight: 10,
      country: 'DE',
      repositories: ['fedora/**', 'centos/*'],
    });
    expect(config.mirrors[1]).toEqual({ url: 'http://plain.example.com', weight: 1, repositories: ['**'] });
    expect(config.urlsPerBlob).toBe(3);
  });

  it('accepts a master alone', () => {
    expect(parseMirrorConfig('version: 1\nmaster: https://m.example.org\n', 'f').mirrors).toEqual([]);
  });

  it('names the key, line and column of a problem', () => {
    expect(errorOf(valid.replace('weight: 10', 'weight: 0'))).toBe(
      'mirrors.yaml: mirrors.0.weight (line 5, column 13): weight must be above 0',
    );
    expect(errorOf(valid.replace('weight:', 'wieght:'))).toContain(
      'mirrors.yaml: mirrors.0.wieght (line 5, column 5): unknown key "wieght" (did you mean "weight"?)',
    );
    expect(errorOf(valid.replace('country: de', 'country: Germany'))).toContain(
      'mirrors.0.country (line 6, column 14): expected a two-letter ISO 3166 country code',
    );
    expect(errorOf(valid.replace('"centos/*"', '"Centos/*"'))).toContain(
      'mirrors.0.repositories.1 (line 7, column 33): "Centos/*" is not a repository name or glob',
    );
    expect(errorOf('version: 1\nmirrors: []\n')).toMatch(/^mirrors.yaml: master \(line 1, column 1\): /);
    expect(errorOf('version: 2\nmaster: https://m\n')).toContain('version (line 1, column 10): expected version: 1');
    expect(errorOf('version: 1\nmaster: [oops\n')).toMatch(/^mirrors.yaml: line \d+, column \d+: YAML syntax error/);
  });

  it('refuses URLs that would leak credentials, break path joining or are not http(s)', () => {
    expect(errorOf('version: 1\nmaster: https://user:pw@m.example.org\n')).toContain('credentials in a mirror URL');
    expect(errorOf('version: 1\nmaster: https://m.example.org/x?y=1\n')).toContain('no query or fragment');
    expect(errorOf('version: 1\nmaster: ftp://m.example.org\n')).toContain('only http:// and https://');
    expect(errorOf('version: 1\nmaster: mirror\n')).toContain('is not a URL');
  });

  it('refuses the same mirror twice', () => {
    const text = 'version: 1\nmaster: https://m\nmirrors:\n  - url: https://a/\n  - url: https://a\n';
    expect(errorOf(text)).toContain('each mirror url may appear only once');
  });
});
