import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RegistryError } from '../../../src/errors.js';
import { nextPageUrl } from '../../../src/registry/link-header.js';

const request = 'https://registry.example.org/v2/_catalog?n=100';

function refused(link: string): RegistryError {
  try {
    nextPageUrl(link, request);
  } catch (error) {
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).code).toBe('REGISTRY_ERROR');
    return error as RegistryError;
  }
  throw new Error(`followed ${link}`);
}

describe('nextPageUrl', () => {
  it('has no next page without a header', () => {
    expect(nextPageUrl(undefined, request)).toBeUndefined();
    expect(nextPageUrl('', request)).toBeUndefined();
  });

  it('resolves a relative next link against the request URL', () => {
    expect(nextPageUrl('</v2/_catalog?last=b&n=100>; rel="next"', request)).toBe(
      'https://registry.example.org/v2/_catalog?last=b&n=100',
    );
    expect(nextPageUrl('<tags/list?last=1.0>; rel="next"', 'https://registry.example.org/v2/r/')).toBe(
      'https://registry.example.org/v2/r/tags/list?last=1.0',
    );
  });

  it('follows an absolute next link on the same origin', () => {
    expect(nextPageUrl('<https://registry.example.org/v2/_catalog?last=z>; rel="next"', request)).toBe(
      'https://registry.example.org/v2/_catalog?last=z',
    );
  });

  it('accepts rel without quotes, in any case, after other parameters', () => {
    expect(nextPageUrl('</a>; rel=next', request)).toBe('https://registry.example.org/a');
    expect(nextPageUrl('</a>; rel="NEXT"', request)).toBe('https://registry.example.org/a');
    expect(nextPageUrl('</a>; title="page 2"; rel="next"', request)).toBe('https://registry.example.org/a');
    expect(nextPageUrl('</a>;rel="next";type="application/json"', request)).toBe('https://registry.example.org/a');
  });

  it('ignores links with other rel values', () => {
    expect(nextPageUrl('</prev>; rel="prev"', request)).toBeUndefined();
    expect(nextPageUrl('</a>; rel="nextpage"', request)).toBeUndefined();
    expect(nextPageUrl('</a>; rel="last"', request)).toBeUndefined();
    expect(nextPageUrl('</a>', request)).toBeUndefined();
    expect(nextPageUrl('garbage', request)).toBeUndefined();
  });

  it('picks the next link among several, even with commas inside a URL', () => {
    expect(
      nextPageUrl('</first>; rel="first", </v2/_catalog?last=a,b&n=2>; rel="next", </prev>; rel="prev"', request),
    ).toBe('https://registry.example.org/v2/_catalog?last=a,b&n=2');
  });

  it.each([
    ['another host', '<https://evil.example.com/v2/_catalog?last=b>; rel="next"', 'https://evil.example.com'],
    [
      'another port',
      '<https://registry.example.org:8443/v2/_catalog>; rel="next"',
      'https://registry.example.org:8443',
    ],
    [
      'plain http on the same host',
      '<http://registry.example.org/v2/_catalog>; rel="next"',
      'http://registry.example.org',
    ],
    ['a protocol-relative URL', '<//evil.example.com/v2/_catalog>; rel="next"', 'https://evil.example.com'],
    ['a file URL', '<file:///etc/passwd>; rel="next"', 'null'],
  ])('refuses to follow a next link to %s', (_what, link, origin) => {
    expect(refused(link).message).toBe(
      `registry pagination Link points to another host (${origin}); refusing to follow it`,
    );
  });

  it('refuses a next link that is not a URL with a RegistryError', () => {
    expect(refused('<http://[::1>; rel="next"').message).toContain('invalid URL');
    expect(refused('<https://exa mple.com/>; rel="next"').message).toContain('invalid URL');
  });

  it('property: returns undefined, a same-origin URL, or a RegistryError for any header', () => {
    const piece = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '<',
        '>',
        ';',
        ',',
        'rel=next',
        'rel="next"',
        'http://',
        'https://registry.example.org',
        '/v2/',
        '[',
        '::',
        '@',
        '%',
      ),
    );
    fc.assert(
      fc.property(
        fc.array(piece, { maxLength: 10 }).map((parts) => parts.join('')),
        (link) => {
          let next: string | undefined;
          try {
            next = nextPageUrl(link, request);
          } catch (error) {
            expect(error).toBeInstanceOf(RegistryError);
            return;
          }
          if (next !== undefined) expect(new URL(next).origin).toBe('https://registry.example.org');
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('nextPageUrl with several rel values', () => {
  it('finds next in rel="prev next"', () => {
    expect(nextPageUrl('</v2/_catalog?last=b&n=2>; rel="prev next"', 'https://r.example/v2/_catalog?n=2')).toBe(
      'https://r.example/v2/_catalog?last=b&n=2',
    );
  });
  it('does not take rel="nextish"', () => {
    expect(nextPageUrl('</v2/x>; rel="nextish"', 'https://r.example/v2/_catalog')).toBeUndefined();
  });
});
