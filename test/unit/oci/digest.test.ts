import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import { asDigest, digestPath, isDigest, makeDigest, parseDigest, type Digest } from '../../../src/oci/digest.js';

// Any code point, lone surrogates included (fast-check's 'binary' unit is slow to set up).
const anyChar = fc.integer({ min: 0, max: 0x10ffff }).map((c) => String.fromCodePoint(c));

const SHA256 = `sha256:${'a1'.repeat(32)}`;
const SHA512 = `sha512:${'0f'.repeat(64)}`;

const hex = (length: number) =>
  fc.string({ unit: fc.constantFrom(...'0123456789abcdef'), minLength: length, maxLength: length });
const digestArb = fc.oneof(
  hex(64).map((h) => `sha256:${h}`),
  hex(128).map((h) => `sha512:${h}`),
);

function digestError(value: unknown): InvalidInputError {
  try {
    parseDigest(value);
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    expect((error as InvalidInputError).code).toBe('DIGEST_INVALID');
    return error as InvalidInputError;
  }
  throw new Error(`parseDigest accepted ${JSON.stringify(value)}`);
}

describe('parseDigest', () => {
  it('accepts sha256 with 64 and sha512 with 128 lowercase hex characters', () => {
    expect(parseDigest(SHA256)).toEqual({ algorithm: 'sha256', hex: 'a1'.repeat(32) });
    expect(parseDigest(SHA512)).toEqual({ algorithm: 'sha512', hex: '0f'.repeat(64) });
    expect(isDigest(SHA256)).toBe(true);
    expect(asDigest(SHA512)).toBe(SHA512);
  });

  it.each([
    ['sha256 one character short', `sha256:${'a'.repeat(63)}`],
    ['sha256 one character long', `sha256:${'a'.repeat(65)}`],
    ['sha512 with sha256 length', `sha512:${'a'.repeat(64)}`],
    ['sha256 with sha512 length', `sha256:${'a'.repeat(128)}`],
    ['uppercase hex', `sha256:${'A'.repeat(64)}`],
    ['uppercase algorithm', `SHA256:${'a'.repeat(64)}`],
    ['unknown algorithm', `md5:${'a'.repeat(32)}`],
    ['blake3 (not verifiable while streaming here)', `blake3:${'a'.repeat(64)}`],
    ['no colon', 'a'.repeat(64)],
    ['empty string', ''],
    ['only a colon', ':'],
    ['path traversal', 'sha256:../../etc/passwd'],
    ['path traversal padded to length', `sha256:../../${'a'.repeat(58)}`],
    ['NUL inside', `sha256:${'a'.repeat(32)}\0${'a'.repeat(31)}`],
    ['trailing newline', `sha256:${'a'.repeat(64)}\n`],
    ['leading space', ` sha256:${'a'.repeat(64)}`],
    ['two colons', `sha256::${'a'.repeat(63)}`],
    ['non-hex letter', `sha256:${'g'.repeat(64)}`],
    ['fullwidth digits', `sha256:${'１'.repeat(64)}`],
    ['prototype key as algorithm', `toString:${'a'.repeat(64)}`],
    ['__proto__ as algorithm', `__proto__:${'a'.repeat(64)}`],
  ])('rejects %s', (_what, value) => {
    digestError(value);
    expect(isDigest(value)).toBe(false);
  });

  it.each([undefined, null, 42, {}, [SHA256], Buffer.from(SHA256)])('rejects the non-string %s', (value) => {
    expect(digestError(value).message).toContain('not a string');
  });

  it('names what was invalid and shows the value, cut short when long', () => {
    const message = digestError(`sha256:${'z'.repeat(500)}`).message;
    expect(message).toContain('expected 64 lowercase hex characters after "sha256:"');
    expect(message.length).toBeLessThan(250);
    expect(() => parseDigest('nope', 'layer digest')).toThrow(
      /^invalid layer digest "nope": algorithm must be sha256 or sha512$/,
    );
  });

  it('says which algorithms are allowed when the algorithm is a key of Object.prototype', () => {
    expect(digestError(`toString:${'a'.repeat(64)}`).message).toMatch(/algorithm must be sha256 or sha512/);
    expect(digestError(`constructor:${'a'.repeat(64)}`).message).toMatch(/algorithm must be sha256 or sha512/);
  });

  it('makeDigest validates what it builds', () => {
    expect(makeDigest('sha256', 'a1'.repeat(32))).toBe(SHA256);
    expect(() => makeDigest('sha256', 'A1'.repeat(32))).toThrow(InvalidInputError);
  });
});

describe('digest properties', () => {
  it('accepts every well-formed digest and splits it back into its parts', () => {
    fc.assert(
      fc.property(digestArb, (value) => {
        const { algorithm, hex: h } = parseDigest(value);
        expect(`${algorithm}:${h}`).toBe(value);
      }),
    );
  });

  it('accepts nothing that is not algorithm:lowercase-hex of the right length', () => {
    const shape = /^(?:sha256:[0-9a-f]{64}|sha512:[0-9a-f]{128})$/;
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: anyChar, maxLength: 140 }),
          digestArb.map((d) => d.slice(0, -1)),
          digestArb.map((d) => `${d}0`),
        ),
        (value) => {
          expect(isDigest(value)).toBe(shape.test(value));
        },
      ),
    );
  });

  it('digestPath is always two plain components below the directory it is joined to', () => {
    fc.assert(
      fc.property(digestArb, (value) => {
        const rel = digestPath(value as Digest);
        const parts = rel.split('/');
        expect(parts).toHaveLength(2);
        expect(parts[0]).toMatch(/^sha(?:256|512)$/);
        expect(parts[1]).toMatch(/^[0-9a-f]+$/);
        const base = '/srv/tree/_blobs';
        expect(path.resolve(base, rel).startsWith(`${base}/`)).toBe(true);
      }),
    );
  });

  it('digestPath refuses a value that was never validated', () => {
    expect(() => digestPath('sha256:../../etc/passwd' as Digest)).toThrow(InvalidInputError);
  });
});
