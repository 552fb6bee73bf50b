import { describe, expect, it } from 'vitest';
import { FIRST_PROBLEMS, compareModule, repositoryOf } from '../../../src/check-mirror/compare.js';
import type { Probe } from '../../../src/check-mirror/probe.js';
import { renderMirrorCheck } from '../../../src/cli/check-mirror.js';

const hex = (i: number) => i.toString(16).padStart(64, '0');
const file = (repo: string, i: number, size = 10) => ({
  mtime: 1,
  type: 'f',
  size,
  path: `${repo}/_blobs/sha256/${hex(i)}`,
});

describe('compareModule', () => {
  it('groups by repository and counts missing, wrong size and errors; lists the first few', () => {
    const files = [
      file('a/one', 1),
      file('a/one', 2),
      ...Array.from({ length: 8 }, (_, i) => file('b', 10 + i)),
      file('c', 30),
      { mtime: 1, type: 'f', size: 3, path: 'README' },
    ];
    const root = (rel: string) => `arm64/${rel}`;
    const probes = new Map<string, Probe>(files.map((f) => [root(f.path), { kind: 'present', size: f.size }]));
    probes.set(root(files[1]!.path), { kind: 'present', size: 9 });
    for (const f of files.filter((f) => f.path.startsWith('b/'))) probes.set(root(f.path), { kind: 'missing' });
    probes.set(root('c/_blobs/sha256/' + hex(30)), { kind: 'error', detail: 'HTTP 503' });
    const checks = compareModule('containers-arm64', files, probes, root);
    expect(checks.map((c) => [c.repository, c.upToDate, c.files, c.missing, c.wrongSize, c.errors])).toEqual([
      ['', true, 1, 0, 0, 0],
      ['a/one', false, 2, 0, 1, 0],
      ['b', false, 8, 8, 0, 0],
      ['c', false, 1, 0, 0, 1],
    ]);
    expect(checks[1]!.firstProblems).toEqual([
      { path: `arm64/a/one/_blobs/sha256/${hex(2)}`, problem: 'size', detail: '9 bytes, the master has 10' },
    ]);
    expect(checks[2]!.firstProblems).toHaveLength(FIRST_PROBLEMS);
    const text = renderMirrorCheck({
      mirror: 'https://m.example/c',
      upToDate: false,
      generation: '0000000001',
      modules: [
        {
          module: 'containers-arm64',
          root: 'arm64',
          upToDate: false,
          files: files.length,
          outdated: ['a/one', 'b', 'c'],
        },
      ],
      repositories: checks,
      durationMs: 5,
    });
    expect(text).toContain('module containers-arm64: 3 of 4 repositories not up to date (12 files checked)');
    expect(text).toContain('  NO  c: 0 missing, 0 wrong size, 1 errors of 1 file\n      error arm64/c/_blobs/sha256/');
    expect(text).toContain('  yes (outside repositories)');
  });

  it('counts unanswered files as not checked, with no problem line each', () => {
    const files = [file('a', 1), file('a', 2), file('b', 3)];
    const probes = new Map<string, Probe>([
      [files[0]!.path, { kind: 'present', size: 10 }],
      [files[1]!.path, { kind: 'unreachable', detail: 'HEAD at m.example: connection refused' }],
    ]);
    const checks = compareModule('containers', files, probes, (rel) => rel);
    expect(checks.map((c) => [c.repository, c.upToDate, c.notChecked, c.errors, c.firstProblems])).toEqual([
      ['a', false, 1, 0, []],
      ['b', false, 1, 0, []],
    ]);
  });

  it('renders an unreachable mirror as one line naming it, the error and what was not checked', () => {
    const text = renderMirrorCheck({
      mirror: 'https://m.example/c',
      upToDate: false,
      generation: '0000000004',
      unreachable: {
        error: 'HEAD at m.example (the <mirror> argument): connection refused',
        filesNotChecked: 40,
        files: 42,
      },
      modules: [],
      repositories: [],
      durationMs: 5,
    });
    expect(text).toBe(
      'https://m.example/c: UNREACHABLE: HEAD at m.example (the <mirror> argument): connection refused; 40 of 42 files not checked (generation 0000000004)\ndone in 5 ms\n',
    );
  });

  it('finds the repository of a blob path', () => {
    expect(repositoryOf(`fedora/toolbox/_blobs/sha256/${hex(1)}`)).toBe('fedora/toolbox');
    expect(repositoryOf('fullfiletimelist-containers')).toBe('');
  });
});
