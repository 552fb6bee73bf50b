import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import {
  MAX_REPOSITORY_LENGTH,
  assertRepositoryName,
  assertTag,
  isRepositoryName,
  isTag,
  parseReference,
} from '../../../src/oci/reference.js';

// Any code point, lone surrogates included (fast-check's 'binary' unit is slow to set up).
const anyChar = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const digestArb = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

// The distribution grammar, generated rather than matched: alnum runs joined by separators.
const alnum = fc.string({
  unit: fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789'),
  minLength: 1,
  maxLength: 8,
});
const separator = fc.constantFrom('.', '_', '__', '-', '--', '---');
const component = fc
  .tuple(alnum, fc.array(fc.tuple(separator, alnum), { maxLength: 3 }))
  .map(([first, rest]) => first + rest.map(([sep, run]) => sep + run).join(''));
const repositoryArb = fc
  .array(component, { minLength: 1, maxLength: 5 })
  .map((parts) => parts.join('/'))
  .filter((name) => name.length <= MAX_REPOSITORY_LENGTH);
const tagArb = fc
  .tuple(fc.constantFrom(...'ABCxyz019_'), fc.string({ unit: fc.constantFrom(...'ABCxyz019_.-'), maxLength: 127 }))
  .map(([first, rest]) => first + rest);

describe('repository names', () => {
  it.each([
    'library/alpine',
    'a',
    'fedora/toolbox',
    'a.b_c__d-e---f/g0',
    'x/y/z/w',
    '0/1',
    'a'.repeat(MAX_REPOSITORY_LENGTH),
  ])('accepts %j', (name) => {
    expect(isRepositoryName(name)).toBe(true);
    expect(assertRepositoryName(name)).toBe(name);
  });

  it.each([
    ['empty', ''],
    ['parent directory', '..'],
    ['parent inside a path', 'a/../b'],
    ['current directory', 'a/./b'],
    ['double dot between runs', 'a..b'],
    ['leading slash', '/library/alpine'],
    ['trailing slash', 'library/alpine/'],
    ['empty component', 'library//alpine'],
    ['backslash', 'library\\alpine'],
    ['NUL', 'library/alp\0ine'],
    ['newline', 'library/alpine\n'],
    ['tab', 'library/\talpine'],
    ['space', 'library/al pine'],
    ['uppercase', 'Library/alpine'],
    ['component starting with _', '_blobs'],
    ['nested component starting with _', 'library/_blobs'],
    ['component starting with .', '.hidden/x'],
    ['component ending with -', 'alpine-'],
    ['triple underscore', 'a___b'],
    ['mixed separators', 'a._b'],
    ['colon', 'library:alpine'],
    ['at sign', 'library@alpine'],
    ['cyrillic а look-alike', 'library/аlpine'],
    ['fullwidth solidus', 'library／alpine'],
    ['division slash', 'library∕alpine'],
    ['one over the length limit', 'a'.repeat(MAX_REPOSITORY_LENGTH + 1)],
  ])('rejects %s', (_what, name) => {
    expect(isRepositoryName(name)).toBe(false);
    expect(() => assertRepositoryName(name)).toThrow(InvalidInputError);
  });

  it.each([undefined, null, 7, ['a'], { toString: () => 'a' }])('rejects the non-string %s', (name) => {
    expect(isRepositoryName(name)).toBe(false);
    expect(() => assertRepositoryName(name)).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });

  it('names the offending value and what was expected', () => {
    expect(() => assertRepositoryName('Bad/Name', 'repository in catalog')).toThrow(
      /^invalid repository in catalog "Bad\/Name": expected lowercase components/,
    );
  });
});

describe('tags', () => {
  it.each(['latest', '1.2.3', 'v1.0.0-rc1', '_private', 'A', 'a'.repeat(128), '39-1.2', 'x.-_'])(
    'accepts %j',
    (tag) => {
      expect(isTag(tag)).toBe(true);
      expect(assertTag(tag)).toBe(tag);
    },
  );

  it.each([
    ['empty', ''],
    ['leading dot', '.hidden'],
    ['leading dash', '-rc'],
    ['129 characters', 'a'.repeat(129)],
    ['slash', 'a/b'],
    ['parent directory', '..'],
    ['colon', 'a:b'],
    ['at sign', 'a@b'],
    ['plus', '1.0+build'],
    ['NUL', 'a\0'],
    ['trailing newline', 'latest\n'],
    ['space', 'la test'],
    ['non-ASCII letter', 'lätest'],
  ])('rejects %s', (_what, tag) => {
    expect(isTag(tag)).toBe(false);
    expect(() => assertTag(tag)).toThrow(expect.objectContaining({ code: 'TAG_INVALID' }));
  });

  it('rejects non-strings', () => {
    expect(isTag(1)).toBe(false);
    expect(() => assertTag(undefined)).toThrow(InvalidInputError);
  });
});

describe('parseReference', () => {
  const digest = `sha256:${'ab'.repeat(32)}`;

  it('splits repository, tag and digest', () => {
    expect(parseReference('library/alpine')).toEqual({ repository: 'library/alpine' });
    expect(parseReference('library/alpine:3.20')).toEqual({ repository: 'library/alpine', tag: '3.20' });
    expect(parseReference(`library/alpine@${digest}`)).toEqual({ repository: 'library/alpine', digest });
    expect(parseReference(`library/alpine:3.20@${digest}`)).toEqual({
      repository: 'library/alpine',
      tag: '3.20',
      digest,
    });
  });

  it('rejects a registry host with a port (references here never carry a host)', () => {
    expect(() => parseReference('localhost:5000/alpine')).toThrow(expect.objectContaining({ code: 'NAME_INVALID' }));
  });

  it.each([
    ['bad digest', 'alpine@sha256:abc', 'DIGEST_INVALID'],
    ['traversal digest', 'alpine@sha256:../../etc/passwd', 'DIGEST_INVALID'],
    ['two digests', `alpine@${digest}@${digest}`, 'DIGEST_INVALID'],
    ['empty tag', 'alpine:', 'TAG_INVALID'],
    ['tag with a leading dot', 'alpine:.x', 'TAG_INVALID'],
    ['empty repository', ':latest', 'NAME_INVALID'],
    ['uppercase repository', 'Alpine:latest', 'NAME_INVALID'],
    ['two tags', 'alpine:a:b', 'NAME_INVALID'],
    ['traversal repository', '../etc:latest', 'NAME_INVALID'],
  ])('rejects a %s', (_what, value, code) => {
    expect(() => parseReference(value)).toThrow(expect.objectContaining({ code }));
  });
});

describe('name, tag and reference properties', () => {
  it('accepts every generated grammar-valid repository name', () => {
    fc.assert(
      fc.property(repositoryArb, (name) => {
        expect(isRepositoryName(name)).toBe(true);
      }),
    );
  });

  it('accepts every generated valid tag', () => {
    fc.assert(
      fc.property(tagArb, (tag) => {
        expect(isTag(tag)).toBe(true);
      }),
    );
  });

  it('round-trips any valid repository, tag and digest through parseReference', () => {
    fc.assert(
      fc.property(
        repositoryArb,
        fc.option(tagArb, { nil: undefined }),
        fc.option(digestArb, { nil: undefined }),
        (repository, tag, digest) => {
          const text = `${repository}${tag === undefined ? '' : `:${tag}`}${digest === undefined ? '' : `@${digest}`}`;
          const expected: Record<string, string> = { repository };
          if (tag !== undefined) expected.tag = tag;
          if (digest !== undefined) expected.digest = digest;
          expect(parseReference(text)).toEqual(expected);
        },
      ),
    );
  });

  // What makes `<tree>/<repository>/_blobs/...` safe: nothing accepted can climb out or collide.
  // Returns whether the name was accepted, so each test can also show it exercised accepted names.
  function checkSafeIfAccepted(name: string): boolean {
    if (!isRepositoryName(name)) return false;
    expect(name).not.toContain('..');
    expect(name).not.toContain('\\');
    expect(name.startsWith('/')).toBe(false);
    for (const part of name.split('/')) {
      expect(part).not.toBe('');
      expect(part[0]).not.toBe('_');
      expect(part[0]).not.toBe('.');
    }
    const tree = '/srv/tree';
    expect(path.resolve(tree, name).startsWith(`${tree}/`)).toBe(true);
    expect(path.normalize(name)).toBe(name);
    return true;
  }

  function assertSafe(arb: fc.Arbitrary<string>, numRuns: number): void {
    let accepted = 0;
    fc.assert(
      fc.property(arb, (name) => {
        if (checkSafeIfAccepted(name)) accepted++;
      }),
      { numRuns },
    );
    // The property must have looked at accepted names, or it proves nothing.
    expect(accepted).toBeGreaterThan(numRuns / 50);
  }

  it('anything accepted as a repository name is a safe relative path (strings over the name alphabet)', () => {
    assertSafe(fc.string({ unit: fc.constantFrom(...'ab0._-/\\'), minLength: 1, maxLength: 10 }), 5000);
  });

  it('anything accepted as a repository name is a safe relative path (valid names with an edit)', () => {
    const edited = fc
      .tuple(repositoryArb, fc.nat(), fc.constantFrom('.', '..', '/', '_', '\\', '/.', '/_', './', '\0', 'а', '／'))
      .map(([name, at, insert]) => name.slice(0, at % (name.length + 1)) + insert + name.slice(at % (name.length + 1)));
    assertSafe(edited, 3000);
  });

  it('anything accepted as a repository name is a safe relative path (lowercase mixed with arbitrary unicode)', () => {
    const unit = fc.oneof({ arbitrary: fc.constantFrom(...'abc0/._-'), weight: 6 }, { arbitrary: anyChar, weight: 1 });
    assertSafe(fc.string({ unit, minLength: 1, maxLength: 8 }), 3000);
    expect(isRepositoryName('a\u0301')).toBe(false);
  });
});
