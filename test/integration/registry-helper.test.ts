import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoSpec, generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { manifestDigest, parseManifest } from '../../src/oci/manifest.js';
import { MediaType } from '../../src/oci/media-types.js';
import { RegistryClient } from '../helpers/registry-client.js';
import { startRegistry, type RegistryHandle, type RegistryOptions } from '../helpers/registry.js';
import { deleteTag, fetchManifest, pushLayout, pushSchema1Image, retag } from '../helpers/push.js';
import { basicAuthorization } from '../helpers/token-server.js';

const run = promisify(execFile);
const KiB = 1024;

let root: string;
let demo: GeneratedImages;
let tiny: GeneratedImages;
const registries: RegistryHandle[] = [];

async function start(options: RegistryOptions): Promise<RegistryHandle> {
  const registry = await startRegistry(options);
  registries.push(registry);
  return registry;
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'blobmirror-helpers-'));
  [demo, tiny] = await Promise.all([
    generateImages(demoSpec(), join(root, 'demo')),
    generateImages(
      fixtureSpec({ repos: 2, tagsPerRepo: 1, baseBytes: 64 * KiB, repoBytes: 4 * KiB, tagBytes: KiB }),
      join(root, 'tiny'),
    ),
  ]);
});
afterAll(async () => {
  await Promise.all(registries.map((r) => r.stop()));
  for (const { pid } of registries) expect(() => process.kill(pid, 0)).toThrow();
  await rm(root, { recursive: true, force: true });
});

describe('registry without auth', () => {
  let registry: RegistryHandle;
  beforeAll(async () => {
    registry = await start({ schema1: true });
  });

  it('takes a pushed image set byte for byte, mounting shared blobs across repositories', async () => {
    const result = await pushLayout(registry, demo.dir);
    expect(result.repositories).toEqual(['stable/base', 'stable/httpd', 'stable/toolbox']);
    expect(result.tags).toBe(11);
    expect(result.blobsMounted).toBeGreaterThan(0);
    expect(result.blobsUploaded).toBe(demo.blobs.length);
    for (const [repository, { tags }] of Object.entries(demo.repositories)) {
      for (const [tag, digest] of Object.entries(tags)) {
        const manifest = await fetchManifest(registry, repository, tag);
        expect([manifest.status, manifest.digest]).toEqual([200, digest]);
        expect(manifestDigest(manifest.bytes, manifest.mediaType!)).toBe(digest);
      }
    }
    const again = await pushLayout(registry, demo.dir, { repositories: ['stable/base'] });
    expect([again.blobsUploaded, again.blobsSkipped > 0]).toEqual([0, true]);
  });

  it('counts the requests it served since a mark', async () => {
    await registry.mark();
    await fetchManifest(registry, 'stable/base', '39');
    await fetchManifest(registry, 'stable/base', 'nope');
    await fetch(`${registry.url}/v2/stable/base/tags/list`);
    expect(await registry.requests()).toEqual([
      { method: 'GET', path: '/v2/stable/base/manifests/39', status: 200 },
      { method: 'GET', path: '/v2/stable/base/manifests/nope', status: 404 },
      { method: 'GET', path: '/v2/stable/base/tags/list', status: 200 },
    ]);
    expect(await registry.countRequests({ method: 'GET', pathPattern: /\/manifests\//, status: 200 })).toBe(1);
  });

  it('serves layers skopeo can copy and decompress', async () => {
    const dest = join(root, 'skopeo-dir');
    await run('skopeo', [
      'copy',
      '--quiet',
      '--src-tls-verify=false',
      '--dest-decompress',
      `docker://${registry.host}/stable/httpd:2.4`,
      `dir:${dest}`,
    ]);
    expect((await readdir(dest)).length).toBeGreaterThan(4);
  });

  it('retags and deletes tags', async () => {
    const digest = await retag(registry, 'stable/toolbox', '39.0', 'promoted');
    expect(digest).toBe(demo.repositories['stable/toolbox']!.tags['39.0']);
    expect((await fetchManifest(registry, 'stable/toolbox', 'promoted')).digest).toBe(digest);
    await deleteTag(registry, 'stable/toolbox', 'promoted');
    expect((await fetchManifest(registry, 'stable/toolbox', 'promoted')).status).toBe(404);
    expect((await fetchManifest(registry, 'stable/toolbox', '39.0')).status).toBe(200);
  });

  it('makes a signed schema1 tag', async () => {
    const { digest } = await pushSchema1Image(registry, 'legacy/old', 'v1');
    const manifest = await fetchManifest(registry, 'legacy/old', 'v1');
    expect([manifest.status, manifest.mediaType, manifest.digest]).toEqual([200, MediaType.schema1Signed, digest]);
    const parsed = parseManifest(manifest.bytes, manifest.mediaType, 'legacy/old:v1');
    expect(parsed).toMatchObject({ kind: 'schema1', architecture: 'amd64' });
    expect(manifestDigest(manifest.bytes, MediaType.schema1Signed)).toBe(digest);
  });
});

describe('registry with htpasswd', () => {
  it('answers 401 without credentials and 200 with them, and takes a push', async () => {
    const registry = await start({ auth: 'htpasswd' });
    const { username, password } = registry.auth!;
    const anonymous = await fetch(`${registry.url}/v2/`);
    expect([anonymous.status, anonymous.headers.get('www-authenticate')]).toEqual([
      401,
      'Basic realm="blobmirror-test"',
    ]);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: basicAuthorization(username, 'wrong') } }))
        .status,
    ).toBe(401);
    expect(
      (await fetch(`${registry.url}/v2/`, { headers: { authorization: basicAuthorization(username, password) } }))
        .status,
    ).toBe(200);
    await pushLayout(registry, tiny.dir);
    const manifest = await fetchManifest(registry, 'stable/app-1', 'latest');
    expect([manifest.status, manifest.digest]).toEqual([200, tiny.repositories['stable/app-1']!.tags.latest]);
    expect((await fetchManifest({ url: registry.url }, 'stable/app-1', 'latest')).status).toBe(401);
  });
});

describe('registry with token auth', () => {
  it('accepts ES256 tokens naming their key by x5c, for pushes, pulls and the catalog', async () => {
    const registry = await start({ auth: 'token', token: { algorithm: 'ES256', keyHeader: 'x5c' } });
    const challenge = (await fetch(`${registry.url}/v2/stable/app-1/manifests/latest`)).headers.get('www-authenticate');
    expect(challenge).toBe(
      `Bearer realm="${registry.tokenServer!.realm}",service="blobmirror-test-registry",scope="repository:stable/app-1:pull"`,
    );
    await pushLayout(registry, tiny.dir);
    const manifest = await fetchManifest(registry, 'stable/app-2', '1.0');
    expect([manifest.status, manifest.digest]).toEqual([200, tiny.repositories['stable/app-2']!.tags['1.0']]);
    const catalog = await new RegistryClient(registry).expect(200, 'GET', '/v2/_catalog');
    expect(JSON.parse(catalog.body.toString()).repositories).toEqual(['stable/app-1', 'stable/app-2']);
    const tokenRequests = registry.tokenServer!.requests();
    expect(tokenRequests.every((r) => r.authenticated && r.status === 200)).toBe(true);
    expect(tokenRequests.map((r) => r.scopes)).toContainEqual(['registry:catalog:*']);
    // A cross-repository mount asks one token for push on the target and pull on the source; the
    // order of scopes and of actions varies with the order the concurrent pushes run in.
    const scopeSets = tokenRequests.map((r) =>
      r.scopes
        .map((scope) =>
          scope.replace(/:([a-z*,]+)$/, (_, actions: string) => `:${actions.split(',').sort().join(',')}`),
        )
        .sort(),
    );
    expect(scopeSets).toContainEqual(['repository:stable/app-1:pull', 'repository:stable/app-2:pull,push']);
    expect((await fetch(`${registry.tokenServer!.realm}?service=x&scope=repository:a:pull`)).status).toBe(401);
    // The registry really checks the signature: the same token with one signature byte changed fails.
    const { username, password } = registry.auth!;
    const tokenUrl = `${registry.tokenServer!.realm}?service=blobmirror-test-registry&scope=repository:stable/app-1:pull`;
    const { token } = (await (
      await fetch(tokenUrl, { headers: { authorization: basicAuthorization(username, password) } })
    ).json()) as { token: string };
    const signature = Buffer.from(token.split('.')[2]!, 'base64url');
    signature[0]! ^= 1;
    const tampered = `${token.split('.').slice(0, 2).join('.')}.${signature.toString('base64url')}`;
    const tags = `${registry.url}/v2/stable/app-1/tags/list`;
    expect((await fetch(tags, { headers: { authorization: `Bearer ${token}` } })).status).toBe(200);
    expect((await fetch(tags, { headers: { authorization: `Bearer ${tampered}` } })).status).toBe(401);
    await expect(
      fetchManifest({ url: registry.url, auth: { username: 'tester', password: 'wrong' } }, 'stable/app-1', 'latest'),
    ).rejects.toThrow(/401/);
  });

  it('accepts RS256 tokens naming their key by libtrust kid', async () => {
    const registry = await start({ auth: 'token', token: { algorithm: 'RS256', keyHeader: 'kid' } });
    await pushLayout(registry, tiny.dir, { repositories: ['stable/app-1'] });
    expect((await fetchManifest(registry, 'stable/app-1', 'latest')).status).toBe(200);
    expect((await fetch(`${registry.url}/v2/stable/app-1/tags/list`)).status).toBe(401);
  });
});
