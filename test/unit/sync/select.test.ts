import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, isVersionTag } from '../../../src/oci/version-order.js';
import { isGlob, needsCatalog, selectRepositories, selectTags, surelySelected } from '../../../src/sync/select.js';

const catalog = [
  'fedora/fedora',
  'fedora/toolbox',
  'fedora/toolbox-candidate',
  'fedora/x/deep',
  'fedora-toolbox',
  'ubi/base',
  'other',
];

describe('selectRepositories', () => {
  it('matches globs against the catalog, * within a component and ** across', () => {
    expect(selectRepositories({ include: ['fedora/*'], exclude: [] }, catalog)).toEqual([
      'fedora/fedora',
      'fedora/toolbox',
      'fedora/toolbox-candidate',
    ]);
    expect(selectRepositories({ include: ['fedora/**'], exclude: [] }, catalog)).toEqual([
      'fedora/fedora',
      'fedora/toolbox',
      'fedora/toolbox-candidate',
      'fedora/x/deep',
    ]);
    expect(selectRepositories({ include: ['*'], exclude: [] }, catalog)).toEqual(['fedora-toolbox', 'other']);
  });

  it('lets excludes win over includes, explicit names included', () => {
    expect(
      selectRepositories({ include: ['fedora/**', 'other'], exclude: ['fedora/*-candidate', 'other'] }, catalog),
    ).toEqual(['fedora/fedora', 'fedora/toolbox', 'fedora/x/deep']);
  });

  it('selects explicit names even when the catalog does not list them (or is empty)', () => {
    expect(selectRepositories({ include: ['private/thing', 'fedora-toolbox'], exclude: [] }, [])).toEqual([
      'fedora-toolbox',
      'private/thing',
    ]);
  });

  it('returns each name once, sorted', () => {
    expect(
      selectRepositories({ include: ['other', 'o*', '**', 'other'], exclude: ['fedora/**', 'ubi/*', 'fedora-*'] }, [
        ...catalog,
        'other',
      ]),
    ).toEqual(['other']);
  });

  it('selects nothing when no glob matches', () => {
    expect(selectRepositories({ include: ['nothing/*'], exclude: [] }, catalog)).toEqual([]);
  });

  it('lists the catalog only when an include is a glob', () => {
    expect(needsCatalog({ include: ['a', 'b/c'], exclude: ['x/*'] })).toBe(false);
    expect(needsCatalog({ include: ['a', 'b/*'], exclude: [] })).toBe(true);
    expect(needsCatalog({ include: ['**'], exclude: [] })).toBe(true);
    expect(isGlob('a/b')).toBe(false);
    expect(isGlob('a/**')).toBe(true);
  });

  it('property: sorted, unique, nothing excluded, every explicit include kept unless excluded', () => {
    const name: fc.Arbitrary<string> = fc.constantFrom('a', 'b', 'a/x', 'a/y', 'a/x/z', 'b/x', 'c-d');
    const pattern: fc.Arbitrary<string> = fc.oneof(name, fc.constantFrom('*', '**', 'a/*', 'a/**', '*/x', 'b*'));
    fc.assert(
      fc.property(
        fc.array(pattern, { maxLength: 4 }),
        fc.array(pattern, { maxLength: 3 }),
        fc.array(name),
        (include, exclude, list) => {
          const selected = selectRepositories({ include, exclude }, list);
          expect(selected).toEqual([...new Set(selected)].sort());
          // Nothing selected matches an exclude.
          for (const repo of selected) expect(selectRepositories({ include: [repo], exclude }, [])).toEqual([repo]);
          for (const explicit of include.filter((p) => !isGlob(p))) {
            const excluded = selectRepositories({ include: [explicit], exclude }, []).length === 0;
            expect(selected.includes(explicit)).toBe(!excluded);
          }
          // Names that come only from the catalog are listed there.
          for (const repo of selected) expect(list.includes(repo) || include.includes(repo)).toBe(true);
        },
      ),
    );
  });
});

describe('selectTags', () => {
  const tags = ['latest', 'stable', '1.0', '1.1', '1.2-rc1', '1.2', '1.10', 'v2.0', '2.0-alpine', 'nightly-2024'];

  it('selects every tag, sorted and once, without rules', () => {
    expect(selectTags({ include: [], exclude: [] }, ['b', 'a', 'b'])).toEqual(['a', 'b']);
  });

  it('keeps tags matching any include and no exclude (regexes are not anchored)', () => {
    expect(selectTags({ include: ['^1\\.'], exclude: [] }, tags)).toEqual(['1.0', '1.1', '1.10', '1.2', '1.2-rc1']);
    expect(selectTags({ include: ['^1\\.', 'stable'], exclude: ['-rc\\d*$'] }, tags)).toEqual([
      '1.0',
      '1.1',
      '1.10',
      '1.2',
      'stable',
    ]);
    expect(selectTags({ include: [], exclude: ['alpine', 'nightly'] }, tags)).not.toContain('2.0-alpine');
    expect(selectTags({ include: ['table'], exclude: [] }, tags)).toEqual(['stable']);
  });

  it('keepNewest keeps the N newest version tags and every non-version tag', () => {
    expect(selectTags({ include: [], exclude: [], keepNewest: 3 }, tags)).toEqual([
      '1.10',
      '2.0-alpine',
      'latest',
      'nightly-2024',
      'stable',
      'v2.0',
    ]);
    expect(selectTags({ include: [], exclude: ['alpine'], keepNewest: 2 }, tags)).toEqual([
      '1.10',
      'latest',
      'nightly-2024',
      'stable',
      'v2.0',
    ]);
  });

  it('keepNewest counts 1.10 as newer than 1.9 and a release as newer than its rc', () => {
    expect(selectTags({ include: [], exclude: [], keepNewest: 1 }, ['1.9', '1.10'])).toEqual(['1.10']);
    expect(selectTags({ include: [], exclude: [], keepNewest: 1 }, ['1.2', '1.2-rc1'])).toEqual(['1.2']);
    expect(selectTags({ include: [], exclude: [], keepNewest: 1 }, ['39-1.9', '39-1.10', '38-2.0'])).toEqual([
      '39-1.10',
    ]);
  });

  it('keepNewest picks the same tags whatever order the registry lists them in', () => {
    const list = ['1.0-alpine', '1.0-rc1', '1.0', '0.9'];
    fc.assert(
      fc.property(fc.shuffledSubarray(list, { minLength: list.length }), (shuffled) => {
        expect(selectTags({ include: [], exclude: [], keepNewest: 2 }, shuffled)).toEqual(['1.0', '1.0-alpine']);
      }),
    );
  });

  it('keepNewest larger than the number of versions keeps them all', () => {
    expect(selectTags({ include: [], exclude: [], keepNewest: 100 }, tags)).toEqual(
      selectTags({ include: [], exclude: [] }, tags),
    );
  });

  it('keepNewest applies after include and exclude', () => {
    expect(selectTags({ include: ['^1\\.'], exclude: ['^1\\.10$'], keepNewest: 1 }, tags)).toEqual(['1.2']);
  });

  it('property: keepNewest keeps exactly the N greatest version tags, all others, whatever the input order', () => {
    const tag = fc.oneof(
      fc
        .tuple(fc.nat(12), fc.nat(12), fc.constantFrom('', '-rc1', '-alpine', '-beta'))
        .map(([a, b, s]) => `${a}.${b}${s}`),
      fc.constantFrom('latest', 'stable', 'edge', 'nightly'),
    );
    fc.assert(
      fc.property(
        fc
          .uniqueArray(tag, { maxLength: 20 })
          .chain((list) => fc.tuple(fc.constant(list), fc.shuffledSubarray(list, { minLength: list.length }))),
        fc.integer({ min: 1, max: 8 }),
        ([list, shuffled], n) => {
          const kept = selectTags({ include: [], exclude: [], keepNewest: n }, list);
          expect(selectTags({ include: [], exclude: [], keepNewest: n }, shuffled)).toEqual(kept);
          const versions = list.filter(isVersionTag).sort(compareVersions);
          const keptVersions = kept.filter(isVersionTag);
          expect(keptVersions).toHaveLength(Math.min(n, versions.length));
          const oldestKept = keptVersions.sort(compareVersions)[0];
          for (const v of versions) if (!kept.includes(v)) expect(compareVersions(v, oldestKept!)).toBeLessThan(0);
          for (const other of list.filter((t) => !isVersionTag(t))) expect(kept).toContain(other);
        },
      ),
    );
  });

  it('surelySelected: every tag it counts is selected, so its count never exceeds the selection', () => {
    const tag = fc.oneof(
      fc.tuple(fc.nat(12), fc.nat(12), fc.constantFrom('', '-rc1', '-alpine')).map(([a, b, s]) => `${a}.${b}${s}`),
      fc.constantFrom('latest', 'stable', 'edge', 'nightly'),
    );
    fc.assert(
      fc.property(
        fc.uniqueArray(tag, { maxLength: 20 }),
        fc.constantFrom([], ['^1\\.'], ['e']),
        fc.constantFrom([], ['alpine'], ['^edge$']),
        fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
        (list, include, exclude, keepNewest) => {
          const selection = { include, exclude, keepNewest };
          const selected = selectTags(selection, list);
          const sure = list.filter(surelySelected(selection));
          for (const t of sure) expect(selected).toContain(t);
          // Without keepNewest it is the selection itself.
          if (keepNewest === undefined) expect(sure.sort()).toEqual(selected);
        },
      ),
    );
  });
});
