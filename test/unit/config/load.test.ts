import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import { parseConfig } from '../../../src/config/load.js';

const FILE = '/etc/blobmirror/config.yaml';

const minimal = `version: 1
source:
  type: registry
  url: https://registry.example.org
repositories:
  include: ["fedora/**", fedora-toolbox]
storage:
  root: /srv/containers
`;

/** `minimal` with one line replaced (matched by its start) or lines added after it. */
function edit(find: string, replace: string, text = minimal): string {
  const lines = text.split('\n');
  const at = lines.findIndex((line) => line.startsWith(find));
  if (at < 0) throw new Error(`no line ${find}`);
  lines[at] = replace;
  return lines.join('\n');
}

function configError(text: string, file = FILE): string {
  try {
    parseConfig(text, file);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('CONFIG_INVALID');
    expect((error as ConfigError).exitCode).toBe(2);
    return (error as ConfigError).message;
  }
  throw new Error('config was accepted');
}

describe('parseConfig: valid configs', () => {
  it('parses a minimal config and fills in every default', () => {
    expect(parseConfig(minimal, FILE)).toEqual({
      version: 1,
      source: {
        type: 'registry',
        url: 'https://registry.example.org',
        insecure: false,
        concurrency: 8,
        timeoutSeconds: 60,
        idleTimeoutSeconds: 30,
        retries: 5,
        blobDeadlineSeconds: 21_600,
        catalogPageSize: 1000,
      },
      repositories: { include: ['fedora/**', 'fedora-toolbox'], exclude: [] },
      tags: { include: [], exclude: [], maxPerRepository: 10_000 },
      platforms: [],
      attachments: { enabled: true, artifactTypes: [], maxDepth: 3 },
      storage: { tree: '/srv/containers/tree', metadata: '/srv/containers/metadata', state: '/srv/containers/state' },
      metadata: { keepGenerations: 5, maxManifestBytes: 4 * 1024 * 1024 },
      modules: { name: 'containers', perArchitecture: false },
      retention: { graceDays: 7, historyDays: 90, gcAfterSync: false },
      file: FILE,
    });
  });

  it('parses every documented key', () => {
    const config = parseConfig(
      `version: 1
source:
  type: registry
  url: http://localhost:5000/
  insecure: true
  tls: { caFile: ca.pem, certFile: c.pem, keyFile: c.key }
  auth: { username: mirror, passwordEnv: MIRROR_PASSWORD }
  concurrency: 2
  timeoutSeconds: 0.5
  idleTimeoutSeconds: 5
  retries: 0
  blobDeadlineSeconds: 600
  runDeadlineSeconds: 3600
  catalogPageSize: 50
repositories:
  include: ["**"]
  exclude: ["fedora/*-candidate"]
tags:
  include: ["^\\\\d"]
  exclude: ["-rc\\\\d*$"]
  keepNewest: 3
  maxPerRepository: 500
platforms: [linux/amd64, linux/arm64/v8]
storage:
  tree: /t
  metadata: /m
  state: /s
metadata:
  keepGenerations: 2
  maxManifestBytes: 1024
`,
      FILE,
    );
    expect(config.source).toMatchObject({
      url: 'http://localhost:5000/',
      insecure: true,
      concurrency: 2,
      idleTimeoutSeconds: 5,
      retries: 0,
      blobDeadlineSeconds: 600,
      runDeadlineSeconds: 3600,
      auth: { username: 'mirror', passwordEnv: 'MIRROR_PASSWORD' },
    });
    expect(config.tags).toEqual({ include: ['^\\d'], exclude: ['-rc\\d*$'], keepNewest: 3, maxPerRepository: 500 });
    expect(config.platforms).toEqual(['linux/amd64', 'linux/arm64/v8']);
    expect(config.storage).toEqual({ tree: '/t', metadata: '/m', state: '/s' });
    expect(config.metadata).toEqual({ keepGenerations: 2, maxManifestBytes: 1024 });
  });

  it("resolves relative storage and layout paths against the config file's directory", () => {
    const config = parseConfig(edit('  root:', '  root: ./data'), FILE);
    expect(config.storage).toEqual({
      tree: '/etc/blobmirror/data/tree',
      metadata: '/etc/blobmirror/data/metadata',
      state: '/etc/blobmirror/data/state',
    });
    const split = parseConfig(edit('  root:', '  tree: ../tree\n  metadata: meta\n  state: /abs/state'), FILE);
    expect(split.storage).toEqual({ tree: '/etc/tree', metadata: '/etc/blobmirror/meta', state: '/abs/state' });
    const layout = parseConfig(
      minimal.replace(/source:\n(?: {2}.*\n)+/, 'source:\n  type: oci-layout\n  path: ./layout\n'),
      FILE,
    );
    expect(layout.source).toEqual({ type: 'oci-layout', path: '/etc/blobmirror/layout' });
  });

  it('resolves against the current directory when the config file path is relative', () => {
    const config = parseConfig(edit('  root:', '  root: data'), 'conf/config.yaml');
    expect(config.storage.tree).toBe(path.resolve('conf', 'data', 'tree'));
    expect(config.file).toBe('conf/config.yaml');
  });

  it('lets explicit tree/metadata/state override root', () => {
    const config = parseConfig(edit('  root:', '  root: /r\n  state: /fast/state'), FILE);
    expect(config.storage).toEqual({ tree: '/r/tree', metadata: '/r/metadata', state: '/fast/state' });
  });
});

describe('parseConfig: errors name the key path, line and column', () => {
  it.each([
    [
      'a URL with a path',
      edit('  url:', '  url: https://registry.example.org/v2/'),
      'source.url (line 4, column 8): expected http(s)://host[:port] with no path',
    ],
    [
      'a URL without a scheme',
      edit('  url:', '  url: registry.example.org'),
      'source.url (line 4, column 8): expected http(s)://host[:port] with no path',
    ],
    [
      'plain http without insecure',
      edit('  url:', '  url: http://registry.example.org'),
      'source.url (line 4, column 8): plain http:// needs insecure: true',
    ],
    [
      'a typo in a key',
      edit('  url:', '  url: https://registry.example.org\n  retires: 3'),
      'source.retires (line 5, column 3): unknown key "retires" (did you mean "retries"?)',
    ],
    [
      'a typo in a nested key',
      `${minimal}tags:\n  keepNewset: 3\n`,
      'tags.keepNewset (line 10, column 3): unknown key "keepNewset" (did you mean "keepNewest"?)',
    ],
    [
      'an unknown top-level key',
      `${minimal}verison: 1\n`,
      'verison (line 9, column 1): unknown key "verison" (did you mean "version"?)',
    ],
    [
      'an invalid tag regex',
      `${minimal}tags:\n  include: ["(unclosed"]\n`,
      'tags.include.0 (line 10, column 13): not a valid regular expression',
    ],
    [
      'an invalid exclude regex',
      `${minimal}tags:\n  exclude: ["ok", "[z-a]"]\n`,
      'tags.exclude.1 (line 10, column 19): not a valid regular expression',
    ],
    [
      'a bad platform',
      `${minimal}platforms: [linux/amd64, linux]\n`,
      'platforms.1 (line 9, column 26): expected os/architecture[/variant], e.g. linux/amd64 or linux/arm64/v8',
    ],
    [
      'an uppercase repository pattern',
      edit('  include:', '  include: [Fedora/*]'),
      'repositories.include.0 (line 6, column 13): "Fedora/*" is not a repository name or glob',
    ],
    [
      'a traversal repository pattern',
      edit('  include:', '  include: ["../etc"]'),
      'repositories.include.0 (line 6, column 13): "../etc" is not a repository name or glob',
    ],
    [
      'an empty include',
      edit('  include:', '  include: []'),
      'repositories.include (line 6, column 12): select at least one repository or pattern',
    ],
    [
      'a password without a username',
      edit('  url:', '  url: https://registry.example.org\n  auth:\n    password: secret'),
      'source.auth (line 6, column 5): a password needs a username',
    ],
    [
      'two password sources',
      edit(
        '  url:',
        '  url: https://registry.example.org\n  auth:\n    username: u\n    password: p\n    passwordEnv: P',
      ),
      'source.auth (line 6, column 5): give only one of password, passwordEnv, passwordFile',
    ],
    [
      'a client certificate without its key',
      edit('  url:', '  url: https://registry.example.org\n  tls:\n    certFile: c.pem'),
      'source.tls (line 6, column 5): certFile and keyFile go together',
    ],
    [
      'an unknown source type',
      edit('  type:', '  type: s3'),
      'source.type (line 3, column 9): expected type: registry or type: oci-layout',
    ],
    ['a wrong version', edit('version:', 'version: 2'), 'version (line 1, column 10): expected version: 1'],
    [
      'concurrency 0',
      edit('  url:', '  url: https://registry.example.org\n  concurrency: 0'),
      'source.concurrency (line 5, column 16)',
    ],
    ['a fractional keepNewest', `${minimal}tags:\n  keepNewest: 1.5\n`, 'tags.keepNewest (line 10, column 15)'],
    ['keepNewest 0', `${minimal}tags:\n  keepNewest: 0\n`, 'tags.keepNewest (line 10, column 15)'],
    [
      'maxPerRepository over the listing limit',
      `${minimal}tags:\n  maxPerRepository: 100001\n`,
      'tags.maxPerRepository (line 10, column 21)',
    ],
    [
      'storage without root or all three paths',
      edit('  root:', '  tree: /t\n  state: /s'),
      'storage (line 8, column 3): give root, or all of tree, metadata and state',
    ],
  ])('reports %s', (_what, text, expected) => {
    expect(configError(text)).toContain(`${FILE}: ${expected}`);
  });

  it('still fails on a typo in a required key, with the missing key and the typo each at its line', () => {
    expect(configError(edit('  include:', '  includes: ["fedora/**"]'))).toBe(
      `${FILE}: 2 problems\n` +
        '  repositories.include (line 6, column 3): Invalid input: expected array, received undefined\n' +
        '  repositories.includes (line 6, column 3): unknown key "includes" (did you mean "include"?)',
    );
  });

  it('reports a missing key at its parent', () => {
    expect(configError(minimal.replace('  url: https://registry.example.org\n', ''))).toMatch(
      /^\/etc\/blobmirror\/config\.yaml: source\.url \(line 3, column 3\): /,
    );
    expect(configError(minimal.replace('version: 1\n', ''))).toBe(
      `${FILE}: version (line 1, column 1): expected version: 1`,
    );
  });

  it('reports every problem at once, each at its own line and column, in file order', () => {
    expect(
      configError('version: 2\nsource: {type: registry, url: ftp://x}\nrepositories: {include: []}\nstorage: {}\n'),
    ).toBe(
      `${FILE}: 4 problems\n` +
        '  version (line 1, column 10): expected version: 1\n' +
        '  source.url (line 2, column 31): expected http(s)://host[:port] with no path\n' +
        '  repositories.include (line 3, column 25): select at least one repository or pattern\n' +
        '  storage (line 4, column 10): give root, or all of tree, metadata and state',
    );
  });

  it('reports every unknown key at its own line, suggesting only near misses', () => {
    const text = edit('  root:', '  root: /srv\n  tre: /t\n  flavour: x', `${minimal}tgas:\n  keepNewest: 3\n`);
    expect(configError(text)).toBe(
      `${FILE}: 3 problems\n` +
        '  storage.tre (line 9, column 3): unknown key "tre" (did you mean "tree"?)\n' +
        '  storage.flavour (line 10, column 3): unknown key "flavour"\n' +
        '  tgas (line 11, column 1): unknown key "tgas" (did you mean "tags"?)',
    );
  });

  it('suggests keys of the source type in use', () => {
    const layout =
      'version: 1\nsource:\n  type: oci-layout\n  path: x\n  uri: y\nrepositories:\n  include: [a]\nstorage:\n  root: /r\n';
    expect(configError(layout)).toBe(`${FILE}: source.uri (line 5, column 3): unknown key "uri"`);
    expect(configError(edit('  url:', '  url: https://registry.example.org\n  uri: y'))).toBe(
      `${FILE}: source.uri (line 5, column 3): unknown key "uri" (did you mean "url"?)`,
    );
  });

  it('reports YAML syntax errors with their line and column', () => {
    expect(configError('version: 1\nsource:\n  type: registry\n   url: x\n')).toMatch(
      /^\/etc\/blobmirror\/config\.yaml: line 3, column 9: YAML syntax error: /,
    );
    expect(configError('version: 1\nrepositories: [unclosed\n')).toMatch(/: line \d+, column \d+: YAML syntax error: /);
    expect(configError('version: 1\n\tsource: x\n')).toMatch(/: line 2, column 1: YAML syntax error: /);
  });

  it('reports a duplicate key as a YAML error at the second occurrence', () => {
    expect(configError(`${minimal}version: 1\n`)).toBe(
      `${FILE}: line 9, column 1: YAML syntax error: Map keys must be unique`,
    );
  });

  it('reports an empty file and a file that is not a mapping', () => {
    expect(configError('')).toBe(`${FILE}: (root) (top level): Invalid input: expected object, received null`);
    expect(configError('- version: 1\n')).toMatch(/^\/etc\/blobmirror\/config\.yaml: \(root\) \(line 1, column 1\): /);
  });

  it('reports aliases it cannot expand as ConfigError, naming the file', () => {
    expect(configError(`${minimal}x: *nowhere\n`)).toMatch(
      /^\/etc\/blobmirror\/config\.yaml: YAML error: Unresolved alias .*nowhere/,
    );
    const bomb =
      'a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n';
    expect(configError(bomb)).toMatch(/^\/etc\/blobmirror\/config\.yaml: YAML error: Excessive alias count/);
  });

  it('never repeats a password value in its message', () => {
    const message = configError(
      edit(
        '  url:',
        '  url: https://registry.example.org\n  auth:\n    password: hunter2-secret\n    passwordFile: /p',
      ),
    );
    expect(message).not.toContain('hunter2-secret');
  });
});

describe('parseConfig property', () => {
  it('arbitrary YAML-ish text gives a config or a ConfigError, nothing else', () => {
    const token = fc.oneof(
      fc.constantFrom(
        'version: 1\n',
        'source:\n',
        '  type: registry\n',
        '  url: https://r.example\n',
        'repositories:\n',
        '  include: [a]\n',
        'storage:\n',
        '  root: /s\n',
        '- ',
        ': ',
        '&a ',
        '*a',
        '*b ',
        '&b [*a, *a]\n',
        '? ',
        '!!binary ',
        '!!str ',
        '!tag ',
        '---\n',
        '...\n',
        '"',
        "'",
        '[',
        ']',
        '{',
        '}',
        ',',
        '#',
        '|\n',
        '>\n',
        '\t',
        '  ',
        '\n',
        '%YAML 1.2\n',
        '<<: *a\n',
        '~',
        'null',
        '1e999',
        '0x1F',
      ),
      fc.string({ maxLength: 8 }),
    );
    fc.assert(
      fc.property(
        fc.array(token, { maxLength: 25 }).map((parts) => parts.join('')),
        (text) => {
          try {
            parseConfig(text, FILE);
          } catch (error) {
            if (!(error instanceof ConfigError)) throw error;
            expect(error.message.startsWith(`${FILE}: `)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
