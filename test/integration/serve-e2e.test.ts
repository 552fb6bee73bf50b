// Issue 3 acceptance: the whole path with real parts. Debian docker-registry (source) ->
// blobmirror sync -> rsync -aH of the tree to a mirror directory -> nginx serving it ->
// blobmirror serve -> Debian skopeo, compared against a copy made straight from the registry.
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { MANIFEST_TYPES } from '../../src/oci/media-types.js';
import { runCli, writeTestConfig } from '../helpers/cli.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { createSkopeo, type Skopeo } from '../helpers/skopeo.js';

const run = promisify(execFile);
const MiB = 1024 * 1024;
const MIRROR_PREFIX = '/pub/containers';

interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  platform?: { architecture: string; os: string };
}

interface ImageManifest {
  config: Descriptor;
  layers: Descriptor[];
}

/** What an `oci:` layout holds: the manifest the ref names and every blob file. */
async function ociLayout(dir: string): Promise<{ manifestDigest: string; manifest: ImageManifest; blobs: string[] }> {
  const index = JSON.parse(await readFile(path.join(dir, 'index.json'), 'utf8')) as { manifests: Descriptor[] };
  const manifestDigest = index.manifests[0]!.digest;
  const manifest = JSON.parse(
    await readFile(path.join(dir, 'blobs', 'sha256', manifestDigest.slice(7)), 'utf8'),
  ) as ImageManifest;
  const blobs = (await readdir(path.join(dir, 'blobs', 'sha256'))).map((hex) => `sha256:${hex}`).sort();
  return { manifestDigest, manifest, blobs };
}

/** What a `dir:` copy holds: the manifest and the blob files (named by hex digest). */
async function dirCopy(dir: string): Promise<{ manifest: ImageManifest; blobs: string[] }> {
  const manifest = JSON.parse(await readFile(path.join(dir, 'manifest.json'), 'utf8')) as ImageManifest;
  const blobs = (await readdir(dir))
    .filter((f) => /^[0-9a-f]{64}$/.test(f))
    .map((hex) => `sha256:${hex}`)
    .sort();
  return { manifest, blobs };
}

const blobsOf = (manifest: ImageManifest) => [manifest.config, ...manifest.layers].map((d) => d.digest);

/** Raw HTTP so the path reaches the server exactly as written. */
function rawGet(
  port: number,
  target: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const errorCode = (body: string) => (JSON.parse(body) as { errors: Array<{ code: string }> }).errors[0]!.code;

describe('docker-registry -> sync -> rsync -> nginx mirror -> serve -> skopeo', () => {
  let work: string;
  let registry: RegistryHandle;
  let generated: GeneratedImages;
  let nginx: NginxHandle;
  let serve: ServeProcess;
  let serveUrls: ServeProcess;
  let skopeo: Skopeo;
  let mirrorsFile: string;
  let metadataDir: string;
  let accessLog: string;
  const at = (server: ServeProcess, ref: string) => `docker://127.0.0.1:${server.port}/${ref}`;
  const direct = (ref: string) => `docker://${registry.host}/${ref}`;
  /** nginx requests for blobs since `from`, as digests with their status. */
  const mirrorBlobGets = async (from: number, repository: string) =>
    (await nginx.requests())
      .slice(from)
      .filter((r) => r.method === 'GET' && r.path.startsWith(`${MIRROR_PREFIX}/${repository}/_blobs/sha256/`))
      .map((r) => ({ digest: `sha256:${path.basename(r.path)}`, status: r.status }));

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-serve-e2e-'));
    registry = await startRegistry();
    const spec = fixtureSpec({ repos: 2, tagsPerRepo: 2, baseBytes: 2 * MiB, multiPlatform: true });
    spec.repositories.push({
      name: 'stable/docker-app',
      format: 'docker',
      layers: ['base'],
      unique: [128 * 1024],
      tags: [{ tag: '2.0', aliases: ['latest'], multiPlatform: true }],
    });
    generated = await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));

    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/**'] },
      path.join(work, 'master'),
    );
    const sync = await runCli(['sync', '-c', config.file, '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    metadataDir = path.join(config.root, 'metadata');

    // The mirror side: one rsync -aH run of the whole tree, served by nginx under a prefix.
    const docroot = path.join(work, 'mirror-www');
    await run('mkdir', ['-p', path.join(docroot, MIRROR_PREFIX)]);
    await run('rsync', ['-aH', `${path.join(config.root, 'tree')}/`, path.join(docroot, MIRROR_PREFIX)]);
    nginx = await startNginx(docroot);

    // The master URL goes nowhere and the second mirror carries other repositories only, so a
    // pull can only succeed through the nginx mirror that carries stable/**.
    mirrorsFile = await writeMirrorList(work, {
      master: 'http://127.0.0.1:9/unreachable-master',
      mirrors: [
        { url: `${nginx.url}${MIRROR_PREFIX}`, weight: 10, repositories: ['stable/**'] },
        { url: 'http://127.0.0.1:9/other-mirror', weight: 1000, repositories: ['other/**'] },
      ],
    });
    accessLog = path.join(work, 'serve-access.log');
    serve = await startServe(['--metadata', metadataDir, '--mirrors', mirrorsFile, '--access-log', accessLog]);
    serveUrls = await startServe([
      '--metadata',
      metadataDir,
      '--mirrors',
      mirrorsFile,
      '--mode',
      'urls',
      '--access-log',
      `${accessLog}.urls`,
    ]);
    skopeo = await createSkopeo();
  });

  afterAll(async () => {
    await serve?.stop();
    await serveUrls?.stop();
    await nginx?.stop();
    await registry?.stop();
    await skopeo?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('skopeo copy through serve equals a direct copy, blobs from the mirror, none from the registry', async () => {
    const ref = 'stable/app-1:1.0';
    await skopeo.ok(['copy', '--src-tls-verify=false', direct(ref), `oci:${path.join(work, 'direct')}:1.0`]);
    await registry.mark();
    const nginxFrom = (await nginx.requests()).length;
    await skopeo.ok(['copy', '--src-tls-verify=false', at(serve, ref), `oci:${path.join(work, 'via')}:1.0`]);

    const [viaLayout, directLayout] = [
      await ociLayout(path.join(work, 'via')),
      await ociLayout(path.join(work, 'direct')),
    ];
    expect(viaLayout.manifestDigest).toBe(generated.repositories['stable/app-1']!.tags['1.0']);
    expect(viaLayout).toEqual(directLayout);
    // Every blob of the image came from nginx, once, complete; the registry served nothing at all.
    const gets = await mirrorBlobGets(nginxFrom, 'stable/app-1');
    expect(gets.map((g) => g.digest).sort()).toEqual(blobsOf(viaLayout.manifest).sort());
    expect(gets.every((g) => g.status === 200)).toBe(true);
    expect(await registry.requests()).toEqual([]);
    // serve redirected each blob GET (its access log says 307).
    const serveLog = await readFile(accessLog, 'utf8');
    for (const digest of blobsOf(viaLayout.manifest))
      expect(serveLog).toMatch(new RegExp(`"GET /v2/stable/app-1/blobs/${digest} HTTP/1.1" 307 `));
  });

  it('a multi-arch tag pulled with --override-arch arm64 gets the arm64 image via the mirror', async () => {
    for (const [repository, tag] of [
      ['stable/app-2', 'latest'],
      ['stable/docker-app', '2.0'],
    ] as const) {
      const index = JSON.parse(
        await skopeo.ok(['inspect', '--raw', '--tls-verify=false', direct(`${repository}:${tag}`)]),
      ) as { manifests: Descriptor[] };
      const arm = index.manifests.find((m) => m.platform?.architecture === 'arm64')!;
      const nginxFrom = (await nginx.requests()).length;
      await registry.mark();
      const dest = path.join(work, `arm-${repository.replace('/', '-')}`);
      await skopeo.ok(
        ['copy', '--src-tls-verify=false', at(serve, `${repository}:${tag}`), `dir:${dest}`],
        ['--override-arch', 'arm64'],
      );
      const copied = await dirCopy(dest);
      const armManifest = JSON.parse(
        await skopeo.ok(['inspect', '--raw', '--tls-verify=false', direct(`${repository}@${arm.digest}`)]),
      ) as ImageManifest;
      expect(copied.manifest).toEqual(armManifest);
      expect(copied.blobs).toEqual(blobsOf(armManifest).sort());
      const gets = await mirrorBlobGets(nginxFrom, repository);
      expect(gets.map((g) => g.digest).sort()).toEqual(blobsOf(armManifest).sort());
      expect(await registry.countRequests({ pathPattern: /\/blobs\// })).toBe(0);
    }
  });

  it('urls mode: skopeo fetches the blobs from the urls in the manifest', async () => {
    const ref = 'stable/app-1:1.1';
    await skopeo.ok(['copy', '--src-tls-verify=false', direct(ref), `dir:${path.join(work, 'urls-direct')}`]);
    const nginxFrom = (await nginx.requests()).length;
    await registry.mark();
    await skopeo.ok(['copy', '--src-tls-verify=false', at(serveUrls, ref), `dir:${path.join(work, 'urls-via')}`]);
    const [via, straight] = [await dirCopy(path.join(work, 'urls-via')), await dirCopy(path.join(work, 'urls-direct'))];
    expect(via.blobs).toEqual(straight.blobs);
    // The served manifest differs only by the urls it added: the mirror first, the master last.
    for (const descriptor of [via.manifest.config, ...via.manifest.layers]) {
      expect(descriptor.urls).toEqual([
        `${nginx.url}${MIRROR_PREFIX}/stable/app-1/_blobs/sha256/${descriptor.digest.slice(7)}`,
        `http://127.0.0.1:9/unreachable-master/stable/app-1/_blobs/sha256/${descriptor.digest.slice(7)}`,
      ]);
      delete descriptor.urls;
    }
    expect(via.manifest).toEqual(straight.manifest);
    expect((await mirrorBlobGets(nginxFrom, 'stable/app-1')).map((g) => g.digest).sort()).toEqual(
      blobsOf(straight.manifest).sort(),
    );
    expect(await registry.countRequests({ pathPattern: /\/blobs\// })).toBe(0);
    // skopeo went to the urls directly: serve was never asked for a blob.
    const urlsLog = await readFile(`${accessLog}.urls`, 'utf8');
    expect(urlsLog).toMatch(/"GET \/v2\/stable\/app-1\/manifests\/1\.1 HTTP\/1\.1" 200 /);
    expect(urlsLog).not.toContain('/blobs/');
  });

  it('urls mode caveat (docs/serving.md): skopeo copying to oci: keeps url layers as foreign, unfetched', async () => {
    const dest = path.join(work, 'urls-oci');
    await skopeo.ok(['copy', '--src-tls-verify=false', at(serveUrls, 'stable/app-2:1.0'), `oci:${dest}:1.0`]);
    const layout = await ociLayout(dest);
    // Only the manifest and the config are in the layout; the layers stay behind their urls.
    expect(layout.blobs.sort()).toEqual([layout.manifestDigest, layout.manifest.config.digest].sort());
    expect(layout.manifest.layers.every((l) => l.urls?.length === 2)).toBe(true);
  });

  it('skopeo inspect and list-tags answer from the metadata', async () => {
    const inspected = JSON.parse(await skopeo.ok(['inspect', '--tls-verify=false', at(serve, 'stable/app-1:1.0')])) as {
      Digest: string;
      Name: string;
    };
    expect(inspected.Digest).toBe(generated.repositories['stable/app-1']!.tags['1.0']);
    const tags = JSON.parse(await skopeo.ok(['list-tags', '--tls-verify=false', at(serve, 'stable/app-2')])) as {
      Tags: string[];
    };
    expect(tags.Tags.sort()).toEqual(Object.keys(generated.repositories['stable/app-2']!.tags).sort());
    const directTags = JSON.parse(await skopeo.ok(['list-tags', '--tls-verify=false', direct('stable/app-2')])) as {
      Tags: string[];
    };
    expect(tags.Tags.sort()).toEqual(directTags.Tags.sort());
  });

  it('unknown repositories, tags and digests get the registry error codes', async () => {
    const accept = { Accept: MANIFEST_TYPES.join(', ') };
    const cases: Array<[string, number, string]> = [
      ['/v2/stable/nope/manifests/1.0', 404, 'NAME_UNKNOWN'],
      ['/v2/stable/nope/tags/list', 404, 'NAME_UNKNOWN'],
      ['/v2/stable/app-1/manifests/9.9', 404, 'MANIFEST_UNKNOWN'],
      [`/v2/stable/app-1/manifests/sha256:${'0'.repeat(64)}`, 404, 'MANIFEST_UNKNOWN'],
      [`/v2/stable/app-1/blobs/sha256:${'0'.repeat(64)}`, 404, 'BLOB_UNKNOWN'],
      ['/v2/stable/app-1/blobs/sha256:1234', 400, 'DIGEST_INVALID'],
    ];
    for (const [target, status, code] of cases) {
      const reply = await rawGet(serve.port, target, accept);
      expect([reply.status, errorCode(reply.body)], target).toEqual([status, code]);
    }
    const missing = await skopeo.run(['inspect', '--tls-verify=false', at(serve, 'stable/app-1:9.9')]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/manifest unknown/i);
  });

  it('path traversal in the URL is rejected before the filesystem', async () => {
    for (const target of [
      '/v2/../../../../etc/passwd',
      '/v2/stable/../../../../etc/passwd/manifests/latest',
      '/v2/stable%2F..%2F..%2F..%2Fetc/tags/list',
      '/v2/stable/app-1/manifests/..%2F..%2F..%2Fcurrent',
      '/v2/stable/app-1/blobs/..%2F..%2Findex.json',
      '/v2/%2e%2e/%2e%2e/current/index.json/tags/list',
    ]) {
      const reply = await rawGet(serve.port, target);
      expect(reply.status, target).toBeGreaterThanOrEqual(400);
      expect(reply.status, target).toBeLessThan(500);
      expect(['NAME_INVALID', 'DIGEST_INVALID', 'UNSUPPORTED']).toContain(errorCode(reply.body));
      expect(reply.body).not.toMatch(/root:|formatVersion/);
    }
  });

  it('stops gracefully on SIGTERM', async () => {
    expect(await serveUrls.stop()).toBe(0);
  });
});
