import { request } from 'node:http';
import { mkdtemp, readFile, rm, symlink, rename, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../../src/oci/media-types.js';
import { AccessLog } from '../../../src/serve/access-log.js';
import type { MirrorConfig } from '../../../src/mirror-list/mirror-config.js';
import { startServer, type RunningServer } from '../../../src/serve/server.js';
import { MetadataFixture, type Described } from '../../helpers/metadata-fixture.js';

const ALL_TYPES = [MediaType.ociIndex, MediaType.dockerList, MediaType.ociManifest, MediaType.dockerManifest].join(
  ', ',
);
const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

const mirrors: MirrorConfig = {
  version: 1,
  master: 'https://master.example.org/tree',
  mirrors: [
    { url: 'https://one.example.net/c', weight: 1, repositories: ['**'] },
    { url: 'https://two.example.net/c', weight: 1, repositories: ['demo/**'] },
  ],
  clientIpHeader: 'X-Forwarded-For',
  clientCountryHeader: undefined,
  urlsPerBlob: 2,
};

interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** Raw HTTP, so paths reach the server exactly as written (fetch would normalise `..`). */
function call(
  server: RunningServer,
  target: string,
  options: { method?: string; headers?: Record<string, string>; body?: string } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    // An explicit length: node frames a DELETE or GET body only when told its length.
    const headers = {
      ...options.headers,
      ...(options.body === undefined ? {} : { 'Content-Length': String(Buffer.byteLength(options.body)) }),
    };
    const req = request(
      { host: '127.0.0.1', port: server.port, path: target, method: options.method ?? 'GET', headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

const errorCode = (reply: Reply) =>
  (JSON.parse(reply.body.toString()) as { errors: Array<{ code: string }> }).errors[0]!.code;

describe('serve handlers against a hand-written metadata directory', () => {
  let dir: string;
  let fixture: MetadataFixture;
  let server: RunningServer;
  let urlsServer: RunningServer;
  let logFile: string;
  let accessLog: AccessLog;
  let single: Described;
  let amd: Described;
  let arm: Described;
  let index: Described;
  let armList: Described;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-serve-'));
    fixture = new MetadataFixture(path.join(dir, 'metadata'));
    single = fixture.image('demo/app', 'single');
    amd = fixture.image('demo/app', 'amd', { platform: AMD64 });
    arm = fixture.image('demo/app', 'arm', { platform: ARM64 });
    index = fixture.index('demo/app', [
      { ...amd, platform: AMD64 },
      { ...arm, platform: ARM64 },
    ]);
    const armDocker = fixture.image('demo/app', 'arm-docker', { platform: ARM64, docker: true });
    armList = fixture.index('demo/app', [{ ...armDocker, platform: ARM64 }], { docker: true });
    fixture.tag('demo/app', '1.0', single.digest);
    fixture.tag('demo/app', 'multi', index.digest);
    fixture.tag('demo/app', 'arm-only', armList.digest);
    const tool = fixture.image('other/tool', 'tool');
    for (let i = 0; i < 25; i++) fixture.tag('other/tool', `v${String(i).padStart(2, '0')}`, tool.digest);
    for (const name of ['a/one', 'b/two', 'c/three']) fixture.tag(name, 'latest', fixture.image(name, name).digest);
    await fixture.publish('0000000001');
    logFile = path.join(dir, 'access.log');
    accessLog = new AccessLog(logFile);
    const log = pino({ level: 'silent' });
    const metadataDir = path.join(dir, 'metadata');
    server = await startServer({
      metadataDir,
      mirrors,
      mode: 'redirect',
      host: '127.0.0.1',
      port: 0,
      log,
      accessLog,
      recheckMs: 0,
    });
    urlsServer = await startServer({
      metadataDir,
      mirrors,
      mode: 'urls',
      host: '127.0.0.1',
      port: 0,
      log,
      recheckMs: 0,
    });
  });

  afterAll(async () => {
    await server?.close();
    await urlsServer?.close();
    await accessLog?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('answers the version check', async () => {
    const reply = await call(server, '/v2/');
    expect(reply.status).toBe(200);
    expect(reply.headers['docker-distribution-api-version']).toBe('registry/2.0');
    expect(JSON.parse(reply.body.toString())).toEqual({});
  });

  it('pages the catalog with Link headers', async () => {
    const first = await call(server, '/v2/_catalog?n=2');
    expect(JSON.parse(first.body.toString())).toEqual({ repositories: ['a/one', 'b/two'] });
    expect(first.headers.link).toBe('</v2/_catalog?n=2&last=b%2Ftwo>; rel="next"');
    const second = await call(server, '/v2/_catalog?n=2&last=b%2Ftwo');
    expect(JSON.parse(second.body.toString())).toEqual({ repositories: ['c/three', 'demo/app'] });
    const third = await call(server, '/v2/_catalog?n=2&last=demo%2Fapp');
    expect(JSON.parse(third.body.toString())).toEqual({ repositories: ['other/tool'] });
    expect(third.headers.link).toBeUndefined();
  });

  it('pages tags, following Link to the end', async () => {
    const tags: string[] = [];
    let next: string | undefined = '/v2/other/tool/tags/list?n=10';
    while (next) {
      const reply = await call(server, next);
      const body = JSON.parse(reply.body.toString()) as { name: string; tags: string[] };
      expect(body.name).toBe('other/tool');
      tags.push(...body.tags);
      next = (reply.headers.link as string | undefined)?.match(/^<([^>]+)>; rel="next"$/)?.[1];
    }
    expect(tags).toHaveLength(25);
    expect(tags).toEqual([...tags].sort());
    const all = await call(server, '/v2/demo/app/tags/list');
    expect(JSON.parse(all.body.toString())).toEqual({ name: 'demo/app', tags: ['1.0', 'arm-only', 'multi'] });
  });

  it('serves manifests byte for byte by tag and by digest, GET and HEAD alike', async () => {
    const stored = await readFile(
      path.join(dir, 'metadata', 'manifests', 'sha256', single.digest.slice(7, 9), single.digest.slice(7)),
    );
    for (const target of ['/v2/demo/app/manifests/1.0', `/v2/demo/app/manifests/${single.digest}`]) {
      const reply = await call(server, target, { headers: { Accept: ALL_TYPES } });
      expect(reply.status).toBe(200);
      expect(reply.body.equals(stored)).toBe(true);
      expect(reply.headers['content-type']).toBe(MediaType.ociManifest);
      expect(reply.headers['content-length']).toBe(String(stored.length));
      expect(reply.headers['docker-content-digest']).toBe(single.digest);
      const head = await call(server, target, { method: 'HEAD', headers: { Accept: ALL_TYPES } });
      expect(head.status).toBe(200);
      expect(head.body.length).toBe(0);
      expect(head.headers['content-length']).toBe(String(stored.length));
      expect(head.headers['docker-content-digest']).toBe(single.digest);
    }
  });

  it('negotiates an index like distribution', async () => {
    const accepting = await call(server, '/v2/demo/app/manifests/multi', { headers: { Accept: ALL_TYPES } });
    expect(accepting.headers['docker-content-digest']).toBe(index.digest);
    expect(accepting.headers['content-type']).toBe(MediaType.ociIndex);
    const old = await call(server, '/v2/demo/app/manifests/multi', { headers: { Accept: MediaType.dockerManifest } });
    expect(old.headers['docker-content-digest']).toBe(amd.digest);
    const none = await call(server, '/v2/demo/app/manifests/multi', { method: 'HEAD' });
    expect(none.headers['docker-content-digest']).toBe(amd.digest);
    const noAmd = await call(server, '/v2/demo/app/manifests/arm-only');
    expect(noAmd.status).toBe(404);
    expect(errorCode(noAmd)).toBe('MANIFEST_UNKNOWN');
    const listed = await call(server, '/v2/demo/app/manifests/arm-only', { headers: { Accept: MediaType.dockerList } });
    expect(listed.headers['docker-content-digest']).toBe(armList.digest);
  });

  it('redirects blobs to a mirror that carries the repository, stable per client', async () => {
    const blob = `sha256:${(await call(server, '/v2/demo/app/manifests/1.0')).body.toString().match(/"digest": "sha256:([0-9a-f]{64})"/)![1]}`;
    const seen = new Set<string>();
    for (let i = 0; i < 40; i++) {
      const headers = { 'X-Forwarded-For': `192.0.2.${i}` };
      const reply = await call(server, `/v2/demo/app/blobs/${blob}`, { headers });
      expect(reply.status).toBe(307);
      expect(reply.headers['docker-content-digest']).toBe(blob);
      const location = reply.headers.location as string;
      expect(location).toMatch(
        new RegExp(`^https://(one|two)\\.example\\.net/c/demo/app/_blobs/sha256/${blob.slice(7)}$`),
      );
      expect((await call(server, `/v2/demo/app/blobs/${blob}`, { headers, method: 'HEAD' })).headers.location).toBe(
        location,
      );
      seen.add(location);
    }
    expect(seen.size).toBe(2);
    const toolBlob = `sha256:${(await call(server, '/v2/other/tool/manifests/v00')).body.toString().match(/"digest": "sha256:([0-9a-f]{64})"/)![1]}`;
    for (let i = 0; i < 20; i++) {
      const reply = await call(server, `/v2/other/tool/blobs/${toolBlob}`, {
        headers: { 'X-Forwarded-For': `192.0.2.${i}` },
      });
      expect(reply.headers.location).toMatch(/^https:\/\/one\.example\.net\/c\/other\/tool\/_blobs\//);
    }
  });

  it('answers unknown names, manifests and blobs with registry errors', async () => {
    const unknownRepo = await call(server, '/v2/no/such/manifests/latest');
    expect([unknownRepo.status, errorCode(unknownRepo)]).toEqual([404, 'NAME_UNKNOWN']);
    expect(errorCode(await call(server, '/v2/no/such/tags/list'))).toBe('NAME_UNKNOWN');
    const unknownTag = await call(server, '/v2/demo/app/manifests/2.0');
    expect([unknownTag.status, errorCode(unknownTag)]).toEqual([404, 'MANIFEST_UNKNOWN']);
    const unknownDigest = await call(server, `/v2/demo/app/manifests/sha256:${'0'.repeat(64)}`);
    expect([unknownDigest.status, errorCode(unknownDigest)]).toEqual([404, 'MANIFEST_UNKNOWN']);
    const otherRepoManifest = await call(server, `/v2/other/tool/manifests/${single.digest}`);
    expect(errorCode(otherRepoManifest)).toBe('MANIFEST_UNKNOWN');
    const unknownBlob = await call(server, `/v2/demo/app/blobs/sha256:${'0'.repeat(64)}`);
    expect([unknownBlob.status, errorCode(unknownBlob)]).toEqual([404, 'BLOB_UNKNOWN']);
    const badDigest = await call(server, '/v2/demo/app/blobs/sha256:xyz');
    expect([badDigest.status, errorCode(badDigest)]).toEqual([400, 'DIGEST_INVALID']);
  });

  it('refuses writes and request bodies without reading them', async () => {
    for (const method of ['PUT', 'POST', 'PATCH', 'DELETE']) {
      const reply = await call(server, '/v2/demo/app/manifests/1.0', {
        method,
        body: 'x'.repeat(100_000),
        headers: { 'Content-Type': 'application/json' },
      });
      expect([reply.status, errorCode(reply), reply.headers.allow]).toEqual([405, 'UNSUPPORTED', 'GET, HEAD']);
    }
    const withBody = await call(server, '/v2/', { method: 'GET', body: 'hello' });
    expect(withBody.status).toBe(400);
  });

  it('rejects path traversal before touching the filesystem', async () => {
    for (const target of [
      '/v2/../../etc/passwd/tags/list',
      '/v2/demo%2F..%2F..%2Fetc/tags/list',
      '/v2/demo/app/manifests/..%2F..%2Fcurrent',
      '/v2/%2e%2e/%2e%2e/tags/list',
    ]) {
      const reply = await call(server, target);
      expect(reply.status, target).toBe(400);
      expect(errorCode(reply)).toBe('NAME_INVALID');
    }
  });

  it('picks up a new generation without restart', async () => {
    fixture.tag('demo/app', '2.0', single.digest);
    await fixture.publish('0000000002');
    const reply = await call(server, '/v2/demo/app/manifests/2.0');
    expect(reply.status).toBe(200);
    expect(JSON.parse((await call(server, '/v2/demo/app/tags/list')).body.toString()).tags).toContain('2.0');
  });

  it('keeps serving the last good generation when current points somewhere bad', async () => {
    const metadata = path.join(dir, 'metadata');
    const swap = async (target: string) => {
      await symlink(target, path.join(metadata, 'current.tmp'));
      await rename(path.join(metadata, 'current.tmp'), path.join(metadata, 'current'));
    };
    await swap('../../etc');
    expect((await call(server, '/v2/demo/app/manifests/2.0')).status).toBe(200);
    await mkdir(path.join(metadata, 'generations', '0000000009'));
    await writeFile(path.join(metadata, 'generations', '0000000009', 'index.json'), '{"formatVersion": 99}');
    await swap('generations/0000000009');
    expect((await call(server, '/v2/demo/app/manifests/2.0')).status).toBe(200);
    await swap('generations/0000000002');
  });

  it('writes one combined-format access log line per request', async () => {
    await call(server, '/v2/demo/app/manifests/1.0', { headers: { 'User-Agent': 'test-agent/1' } });
    const lines = (await readFile(logFile, 'utf8')).trim().split('\n');
    expect(lines.at(-1)).toMatch(
      /^127\.0\.0\.1 - - \[\d{2}\/\w{3}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000\] "GET \/v2\/demo\/app\/manifests\/1\.0 HTTP\/1\.1" 200 \d+ "-" "test-agent\/1"$/,
    );
  });

  describe('urls mode', () => {
    const manifestOf = (reply: Reply) =>
      JSON.parse(reply.body.toString()) as {
        config: { urls?: string[] };
        layers: Array<{ digest: string; urls?: string[] }>;
        manifests: Array<{ digest: string; size: number }>;
      };

    it('serves manifests whose blob descriptors list mirror URLs, the master last', async () => {
      const reply = await call(urlsServer, '/v2/demo/app/manifests/1.0', { headers: { Accept: ALL_TYPES } });
      const manifest = manifestOf(reply);
      for (const descriptor of [manifest.config, ...manifest.layers]) {
        expect(descriptor.urls).toHaveLength(3);
        expect(descriptor.urls![2]).toMatch(
          /^https:\/\/master\.example\.org\/tree\/demo\/app\/_blobs\/sha256\/[0-9a-f]{64}$/,
        );
      }
      expect(reply.headers['docker-content-digest']).not.toBe(single.digest);
      // The same bytes for every client: the digest does not depend on who asks.
      const other = await call(urlsServer, '/v2/demo/app/manifests/1.0', {
        headers: { Accept: ALL_TYPES, 'X-Forwarded-For': '198.51.100.7' },
      });
      expect(other.body.equals(reply.body)).toBe(true);
    });

    it('serves rewritten children under their rewritten digests and originals under theirs', async () => {
      const top = await call(urlsServer, '/v2/demo/app/manifests/multi', { headers: { Accept: ALL_TYPES } });
      const children = manifestOf(top).manifests;
      expect(children.map((c) => c.digest)).not.toContain(amd.digest);
      for (const child of children) {
        const reply = await call(urlsServer, `/v2/demo/app/manifests/${child.digest}`, {
          headers: { Accept: ALL_TYPES },
        });
        expect(reply.status).toBe(200);
        expect(reply.headers['docker-content-digest']).toBe(child.digest);
        expect(reply.body.length).toBe(child.size);
        expect(manifestOf(reply).layers[0]!.urls).toHaveLength(3);
      }
      const rewrittenTop = await call(urlsServer, `/v2/demo/app/manifests/${top.headers['docker-content-digest']}`, {
        headers: { Accept: ALL_TYPES },
      });
      expect(rewrittenTop.body.equals(top.body)).toBe(true);
      const original = await call(urlsServer, `/v2/demo/app/manifests/${amd.digest}`, {
        headers: { Accept: ALL_TYPES },
      });
      expect(original.headers['docker-content-digest']).toBe(amd.digest);
      expect(manifestOf(original).layers[0]!.urls).toBeUndefined();
    });

    it('still redirects blob GETs for clients that ignore urls', async () => {
      const blob = manifestOf(await call(urlsServer, '/v2/demo/app/manifests/1.0')).layers[0]!.digest;
      expect((await call(urlsServer, `/v2/demo/app/blobs/${blob}`)).status).toBe(307);
    });
  });
});
