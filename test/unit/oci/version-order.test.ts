import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareVersions, isVersionTag } from '../../../src/oci/version-order.js';

const sign = (n: number) => (n > 0 ? 1 : n < 0 ? -1 : 0);
const sorted = (tags: string[]) => [...tags].sort(compareVersions);

describe('isVersionTag', () => {
  it.each(['1', '1.2.3', 'v1.2.3', '39-1.2', '2024.01.02', '0.1-alpine', 'v2'])('%j is a version', (tag) => {
    expect(isVersionTag(tag)).toBe(true);
  });

  it.each(['latest', 'stable', 'edge', 'v', 'version1', 'rc1', '_1', 'V1.0'])('%j is not a version', (tag) => {
    expect(isVersionTag(tag)).toBe(false);
  });
});

describe('compareVersions', () => {
  it.each([
    ['1.2.9', '1.2.10'],
    ['1.9', '1.10'],
    ['1.0.0-rc1', '1.0.0'],
    ['1.0.0-rc1', '1.0.0-rc2'],
    ['1.0.0-alpha', '1.0.0-beta'],
    ['1.0.0-beta', '1.0.0-rc1'],
    ['1.0.0-rc.9', '1.0.0-rc.10'],
    ['1.0.0-RC1', '1.0.0'],
    ['2.0.0-dev', '2.0.0'],
    ['1.0.0', '1.0.1-rc1'],
    ['39-1.1', '39-1.2'],
    ['39-9', '39-10'],
    ['38-1.99', '39-1.1'],
    ['1.0-p5-19026_2', '1.0-p5-19026_10'],
    ['1.0-p5-19026_2', '1.0-p6-1'],
    ['1.0-p5-19026_2', '1.1-p1-1'],
    ['v1.2.3', 'v1.2.4'],
    ['v1.9', '1.10'],
    ['1.2.3', 'v1.2.4'],
    ['9', '10'],
    ['1.0', '1.0.1'],
    ['1.0', '1.0-alpine'],
    ['1.0-rc1', '1.0-alpine'],
    ['1.0a', '1.0.1'],
    ['2023.12.31', '2024.01.01'],
    ['1.' + '9'.repeat(30), '1.1' + '0'.repeat(30)],
  ])('%j is older than %j', (older, newer) => {
    expect(sign(compareVersions(older, newer))).toBe(-1);
    expect(sign(compareVersions(newer, older))).toBe(1);
  });

  it('orders equal versions written differently consistently, and a tag equal to itself', () => {
    expect(compareVersions('1.2.3', '1.2.3')).toBe(0);
    expect(sign(compareVersions('1.02', '1.2'))).toBe(sign(-compareVersions('1.2', '1.02')));
    expect(compareVersions('1.02', '1.2')).not.toBe(0);
    expect(sign(compareVersions('v1.0', '1.0'))).toBe(sign(-compareVersions('1.0', 'v1.0')));
  });

  it('sorts a realistic tag list newest last', () => {
    expect(sorted(['1.10.0', '1.9.1', '1.10.0-rc2', 'v1.9.0', '1.10.0-rc1', '1.8', '1.10.1'])).toEqual([
      '1.8',
      'v1.9.0',
      '1.9.1',
      '1.10.0-rc1',
      '1.10.0-rc2',
      '1.10.0',
      '1.10.1',
    ]);
    expect(sorted(['39-1.10', '39-1.9', '40-1.1', '39-2.1'])).toEqual(['39-1.9', '39-1.10', '39-2.1', '40-1.1']);
  });

  it('sorts pre-releases, releases and variants of a release the same whatever the input order', () => {
    const tags = ['1.0-alpine', '1.0-rc1', '1.0', '1.0-beta', '1.0-slim', '1.1-rc1', '0.9'];
    const expected = ['0.9', '1.0-beta', '1.0-rc1', '1.0', '1.0-alpine', '1.0-slim', '1.1-rc1'];
    fc.assert(
      fc.property(fc.shuffledSubarray(tags, { minLength: tags.length }), (shuffled) => {
        expect(sorted(shuffled)).toEqual(expected);
      }),
    );
  });
});

describe('compareVersions is a total order', () => {
  const word = fc.constantFrom(
    'rc',
    'RC',
    'alpha',
    'beta',
    'dev',
    'pre',
    'p',
    'alpine',
    'slim',
    'a',
    'z',
    'ubuntu',
    'v',
  );
  const number = fc.oneof(
    fc.nat({ max: 20 }).map(String),
    fc.constantFrom('0', '00', '007', '10', '123456789012345678901234567890'),
  );
  const separator = fc.constantFrom('.', '-', '_', '', '+', '~');
  const version = fc
    .tuple(fc.boolean(), number, fc.array(fc.tuple(separator, fc.oneof(number, word)), { maxLength: 5 }))
    .map(([v, first, rest]) => `${v ? 'v' : ''}${first}${rest.map(([s, x]) => s + x).join('')}`);
  const anyTag = fc.oneof(version, fc.string({ maxLength: 12 }));

  it('is reflexive and antisymmetric', () => {
    fc.assert(
      fc.property(anyTag, anyTag, (a, b) => {
        expect(compareVersions(a, a)).toBe(0);
        expect(sign(compareVersions(a, b))).toBe(sign(-compareVersions(b, a)));
        if (compareVersions(a, b) === 0) expect(a).toBe(b);
      }),
      { numRuns: 3000 },
    );
  });

  it('is transitive', () => {
    fc.assert(
      fc.property(version, version, version, (a, b, c) => {
        const [x, y, z] = [a, b, c].sort(compareVersions) as [string, string, string];
        expect(sign(compareVersions(x, y))).toBeLessThanOrEqual(0);
        expect(sign(compareVersions(y, z))).toBeLessThanOrEqual(0);
        expect(sign(compareVersions(x, z))).toBeLessThanOrEqual(0);
      }),
      { numRuns: 5000 },
    );
  });

  it('gives one order for a set of tags whatever order they arrive in', () => {
    fc.assert(
      fc.property(fc.uniqueArray(version, { minLength: 2, maxLength: 10 }), fc.integer(), (tags, seed) => {
        const reversed = [...tags].reverse();
        const rotated = tags.map((_, i) => tags[(i + Math.abs(seed)) % tags.length]!);
        expect(sorted(reversed)).toEqual(sorted(tags));
        expect(sorted(rotated)).toEqual(sorted(tags));
      }),
      { numRuns: 2000 },
    );
  });
});
