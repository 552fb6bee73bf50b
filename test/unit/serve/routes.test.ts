import { describe, expect, it } from 'vitest';
import { parseRoute, type RouteResult } from '../../../src/serve/routes.js';

const hex = 'a'.repeat(64);

function errorOf(result: RouteResult): { status: number; code: string } {
  if (!('error' in result)) throw new Error(`expected an error, got ${JSON.stringify(result.route)}`);
  const body = JSON.parse(result.error.body.toString()) as { errors: Array<{ code: string }> };
  return { status: result.error.status, code: body.errors[0]!.code };
}

function routeOf(result: RouteResult) {
  if ('error' in result) throw new Error(`expected a route, got ${result.error.body.toString()}`);
  return result.route;
}

describe('route parsing', () => {
  it('parses every endpoint', () => {
    expect(routeOf(parseRoute('/v2/'))).toEqual({ kind: 'base' });
    expect(routeOf(parseRoute('/v2'))).toEqual({ kind: 'base' });
    expect(routeOf(parseRoute('/v2/_catalog?n=10&last=a%2Fb'))).toEqual({
      kind: 'catalog',
      page: { n: 10, last: 'a/b' },
    });
    expect(routeOf(parseRoute('/v2/fedora/toolbox/tags/list'))).toEqual({
      kind: 'tags',
      name: 'fedora/toolbox',
      page: { n: undefined, last: undefined },
    });
    expect(routeOf(parseRoute('/v2/a/b/c/manifests/39'))).toEqual({
      kind: 'manifest',
      name: 'a/b/c',
      reference: { tag: '39' },
    });
    expect(routeOf(parseRoute(`/v2/a/manifests/sha256:${hex}`))).toEqual({
      kind: 'manifest',
      name: 'a',
      reference: { digest: `sha256:${hex}` },
    });
    expect(routeOf(parseRoute(`/v2/a/manifests/sha256%3A${hex}`))).toEqual({
      kind: 'manifest',
      name: 'a',
      reference: { digest: `sha256:${hex}` },
    });
    expect(routeOf(parseRoute(`/v2/a/blobs/sha256:${hex}`))).toEqual({
      kind: 'blob',
      name: 'a',
      digest: `sha256:${hex}`,
    });
  });

  it('a repository may be named like an endpoint word', () => {
    expect(routeOf(parseRoute('/v2/tags/manifests/blobs/manifests/list'))).toEqual({
      kind: 'manifest',
      name: 'tags/manifests/blobs',
      reference: { tag: 'list' },
    });
  });

  it('rejects path traversal in every spelling', () => {
    for (const target of [
      '/v2/../etc/passwd/manifests/latest',
      '/v2/a/%2e%2e/manifests/latest',
      '/v2/a%2F..%2F..%2Fetc/manifests/latest',
      '/v2/a%2fb/tags/list',
      '/v2/a%5c..%5cb/tags/list',
      '/v2/a%00/tags/list',
      '/v2/a/./b/tags/list',
      '/v2/a/blobs/%E0%A4%A',
    ]) {
      expect(errorOf(parseRoute(target)), target).toEqual({ status: 400, code: 'NAME_INVALID' });
    }
    expect(errorOf(parseRoute('/v2/a/manifests/..%2f..%2fx')).status).toBe(400);
  });

  it('validates names, tags and digests', () => {
    expect(errorOf(parseRoute('/v2/Upper/tags/list'))).toEqual({ status: 400, code: 'NAME_INVALID' });
    expect(errorOf(parseRoute('/v2/_blobs/x/manifests/1'))).toEqual({ status: 400, code: 'NAME_INVALID' });
    expect(errorOf(parseRoute(`/v2/a/manifests/sha256:${hex.slice(1)}`))).toEqual({
      status: 400,
      code: 'DIGEST_INVALID',
    });
    expect(errorOf(parseRoute('/v2/a/manifests/md5:abc'))).toEqual({ status: 400, code: 'DIGEST_INVALID' });
    expect(errorOf(parseRoute('/v2/a/blobs/latest'))).toEqual({ status: 400, code: 'DIGEST_INVALID' });
    expect(errorOf(parseRoute('/v2/a/manifests/-bad'))).toEqual({ status: 404, code: 'MANIFEST_UNKNOWN' });
    expect(errorOf(parseRoute(`/v2/a/manifests/${'t'.repeat(129)}`))).toEqual({
      status: 404,
      code: 'MANIFEST_UNKNOWN',
    });
  });

  it('validates and clamps paging', () => {
    expect(errorOf(parseRoute('/v2/_catalog?n=-1'))).toEqual({ status: 400, code: 'PAGINATION_NUMBER_INVALID' });
    expect(errorOf(parseRoute('/v2/a/tags/list?n=ten'))).toEqual({ status: 400, code: 'PAGINATION_NUMBER_INVALID' });
    expect(routeOf(parseRoute('/v2/_catalog?n=999999'))).toEqual({
      kind: 'catalog',
      page: { n: 1000, last: undefined },
    });
  });

  it('parses the referrers API with its artifactType filter', () => {
    const digest = `sha256:${'a'.repeat(64)}`;
    expect(parseRoute(`/v2/a/b/referrers/${digest}?artifactType=application%2Fspdx%2Bjson`)).toEqual({
      route: { kind: 'referrers', name: 'a/b', digest, artifactType: 'application/spdx+json' },
    });
    expect(parseRoute(`/v2/a/referrers/${digest}`)).toEqual({
      route: { kind: 'referrers', name: 'a', digest, artifactType: undefined },
    });
  });

  it('answers other paths as unsupported and bounds the URL length', () => {
    expect(errorOf(parseRoute('/'))).toEqual({ status: 404, code: 'UNSUPPORTED' });
    expect(errorOf(parseRoute('/v2/a/referrers/x'))).toEqual({ status: 400, code: 'DIGEST_INVALID' });
    expect(errorOf(parseRoute('/v2/a/nothing/x'))).toEqual({ status: 404, code: 'UNSUPPORTED' });
    expect(errorOf(parseRoute('/v2/a/blobs/uploads/'))).toEqual({ status: 400, code: 'DIGEST_INVALID' });
    expect(errorOf(parseRoute(`/v2/${'a/'.repeat(3000)}tags/list`))).toEqual({ status: 414, code: 'UNSUPPORTED' });
    expect(errorOf(parseRoute('http://evil/v2/'))).toEqual({ status: 400, code: 'UNSUPPORTED' });
  });
});
