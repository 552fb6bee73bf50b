// Issue 16 acceptance with real parts: signatures and OCI 1.1 artifacts pushed to Debian's
// docker-registry (2.8: no referrers API, so the fallback tag scheme, as oras and cosign write it)
// follow their image through sync whatever the tag filters say, are served by serve's referrers
// API and tags, pulled by skopeo through serve with their blobs from an nginx mirror, reach a
// second blobmirror through the referrers API, and go with their image after the gc grace.
import { execFile } from 'node:child_process';
import { createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import {
  SIGNATURE_ANNOTATION,
  cosignSignature,
  fallbackIndex,
  referrer,
  type Artifact,
  type Descriptor,
} from '../helpers/artifacts.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { createSigstoreKey, writeVerifyPolicy, type SigstoreKey } from '../helpers/sigstore.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { deleteManifest, fetchManifest, pushManifest } from '../helpers/push.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { createSkopeo, type Skopeo } from '../helpers/skopeo.js';
import { useTestWorld } from '../helpers/test-world.js';

const run = promisify(execFile);
const REPO = 'stable/app-1';
const SPDX = 'application/spdx+json';
const IN_TOTO = 'application/vnd.in-toto+json';
const hex = (digest: string) => digest.slice('sha256:'.length);
const sigTag = (digest: string) => `sha256-${hex(digest)}.sig`;

describe('attached artifacts travel with their image through docker-registry, sync, mirrors and serve', () => {
  const world = useTestWorld({
    name: 'attachments',
    spec: fixtureSpec({ repos: 1, tagsPerRepo: 3, baseBytes: 256 * 1024, repoBytes: 64 * 1024 }),
  });
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  let config: { file: string; root: string };
  let nginx: NginxHandle;
  let serve: ServeProcess;
  let skopeo: Skopeo;
  let docroot: string;
  let accessLog: string;
  let image: Descriptor; // 1.2, signed, with an SBOM and an attestation as OCI 1.1 referrers
  let signature: Artifact;
  let sbom: Artifact;
  let attestation: Artifact;
  let sbomSignature: Artifact;

  const describeManifest = async (tag: string): Promise<Descriptor> => {
    const got = await fetchManifest(world.registry, REPO, tag);
    return { mediaType: got.mediaType!, digest: got.digest as Digest, size: got.bytes.length };
  };
  const sync = async (file = config.file) => {
    const result = await runCli(['sync', '-c', file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    return jsonOf(result);
  };
  const rsyncToMirror = (root: string) =>
    run('rsync', ['-aH', '--delete', `${path.join(root, 'tree')}/`, `${docroot}/`]);
  const serveGet = async (target: string, accept: string = MediaType.ociIndex) => {
    const response = await fetch(`http://127.0.0.1:${serve.port}${target}`, { headers: { accept } });
    return { status: response.status, headers: response.headers, body: Buffer.from(await response.arrayBuffer()) };
  };
  const servedTags = async () =>
    (JSON.parse((await serveGet(`/v2/${REPO}/tags/list`, 'application/json')).body.toString()) as { tags: string[] })
      .tags;
  const treeBlob = (root: string, digest: string) => path.join(root, 'tree', REPO, '_blobs', 'sha256', hex(digest));
  const exists = (file: string) =>
    stat(file).then(
      () => true,
      () => false,
    );

  beforeAll(async () => {
    image = await describeManifest('1.2');
    const reference = `${world.registry.host}/${REPO}`;
    signature = cosignSignature(privateKey, [{ dockerReference: reference, digest: image.digest }]);
    sbom = referrer(image, SPDX, Buffer.from('{"spdxVersion":"SPDX-2.3","name":"app-1"}'));
    attestation = referrer(image, IN_TOTO, Buffer.from('{"_type":"https://in-toto.io/Statement/v1"}'));
    sbomSignature = cosignSignature(privateKey, [{ dockerReference: reference, digest: sbom.descriptor.digest }]);
    // As cosign and oras write them on a registry without the referrers API.
    await pushManifest(world.registry, REPO, signature, sigTag(image.digest));
    for (const artifact of [sbom, attestation]) await pushManifest(world.registry, REPO, artifact);
    await pushManifest(world.registry, REPO, fallbackIndex([sbom, attestation]), `sha256-${hex(image.digest)}`);
    await pushManifest(world.registry, REPO, sbomSignature, sigTag(sbom.descriptor.digest));

    // The tag filter keeps 1.1 and 1.2 only: it would drop every attachment tag too.
    config = await world.writeConfig('master', {
      tags: { include: ['^1\\.[12]$'] },
      extra: { metadata: { keepGenerations: 1 } },
    });
    await sync();
    docroot = path.join(world.work, 'mirror-www');
    await mkdir(docroot, { recursive: true });
    await rsyncToMirror(config.root);
    nginx = await startNginx(path.dirname(docroot));
    // The master URL goes nowhere: every blob a client gets comes from the nginx mirror.
    const mirrors = await writeMirrorList(world.work, {
      master: 'http://127.0.0.1:9/unreachable-master',
      mirrors: [{ url: `${nginx.url}/${path.basename(docroot)}` }],
    });
    accessLog = path.join(world.work, 'serve-access.log');
    serve = await startServe([
      '--metadata',
      path.join(config.root, 'metadata'),
      '--mirrors',
      mirrors,
      '--access-log',
      accessLog,
    ]);
    skopeo = await createSkopeo();
  });

  afterAll(async () => {
    await serve?.stop();
    await nginx?.stop();
    await skopeo?.dispose();
  });

  it('sync keeps the signature, the fallback tag, both referrers and the SBOM signature despite the tag filter', async () => {
    expect((await servedTags()).sort()).toEqual(
      ['1.1', '1.2', sigTag(image.digest), `sha256-${hex(image.digest)}`, sigTag(sbom.descriptor.digest)].sort(),
    );
    for (const artifact of [signature, sbom, attestation, sbomSignature])
      for (const [digest, bytes] of artifact.blobs)
        expect(await readFile(treeBlob(config.root, digest))).toEqual(bytes);
  });

  it("serve's referrers API lists the image's referrers, filters by artifactType, and answers an empty index for others", async () => {
    const all = await serveGet(`/v2/${REPO}/referrers/${image.digest}`);
    expect(all.status).toBe(200);
    expect(all.headers.get('content-type')).toBe(MediaType.ociIndex);
    const listed = JSON.parse(all.body.toString()) as { manifests: Descriptor[] };
    expect(listed.manifests.map((m) => [m.digest, m.artifactType]).sort()).toEqual(
      [
        [sbom.descriptor.digest, SPDX],
        [attestation.descriptor.digest, IN_TOTO],
      ].sort(),
    );
    const filtered = await serveGet(`/v2/${REPO}/referrers/${image.digest}?artifactType=${encodeURIComponent(SPDX)}`);
    expect(filtered.headers.get('oci-filters-applied')).toBe('artifactType');
    expect((JSON.parse(filtered.body.toString()) as { manifests: Descriptor[] }).manifests).toEqual([
      expect.objectContaining({ digest: sbom.descriptor.digest, artifactType: SPDX }),
    ]);
    const unsigned = await describeManifest('1.1');
    const none = await serveGet(`/v2/${REPO}/referrers/${unsigned.digest}`);
    expect(none.status).toBe(200);
    expect(JSON.parse(none.body.toString())).toMatchObject({ manifests: [] });
  });

  it('skopeo pulls the signature through serve, blobs from the mirror, and it verifies with the public key', async () => {
    const dest = path.join(world.work, 'pulled-signature');
    await skopeo.ok([
      'copy',
      '--src-tls-verify=false',
      `docker://127.0.0.1:${serve.port}/${REPO}:${sigTag(image.digest)}`,
      `dir:${dest}`,
    ]);
    const manifest = JSON.parse(await readFile(path.join(dest, 'manifest.json'), 'utf8')) as {
      layers: Array<Descriptor & { annotations: Record<string, string> }>;
    };
    expect(manifest.layers).toHaveLength(1);
    const [layer] = manifest.layers;
    const payload = await readFile(path.join(dest, hex(layer!.digest)));
    // What a sigstoreSigned policy checks: the signature over the payload, and the digest it names.
    const key = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
    expect(verify('sha256', payload, key, Buffer.from(layer!.annotations[SIGNATURE_ANNOTATION]!, 'base64'))).toBe(true);
    expect(JSON.parse(payload.toString())).toMatchObject({
      critical: { image: { 'docker-manifest-digest': image.digest } },
    });
    const fromMirror = (await nginx.requests()).filter((r) => r.path.endsWith(hex(layer!.digest)));
    expect(fromMirror.map((r) => r.status)).toContain(200);
  });

  it('a signature pushed after the image was mirrored arrives with the next run, for a tags list and a HEAD or two', async () => {
    const unsigned = await describeManifest('1.1');
    const late = cosignSignature(privateKey, [
      { dockerReference: `${world.registry.host}/${REPO}`, digest: unsigned.digest },
    ]);
    await pushManifest(world.registry, REPO, late, sigTag(unsigned.digest));
    await world.registry.mark();
    const summary = await sync();
    expect(summary.plan).toEqual([expect.objectContaining({ name: REPO, added: [sigTag(unsigned.digest)] })]);
    const requests = await world.registry.requests();
    // Only the new signature's manifest and blobs are downloaded; every other tag costs a HEAD,
    // and the run one referrers probe (distribution 2.8 answers 404: no API, use the tags).
    const gets = requests.filter((r) => r.method === 'GET' && /\/(manifests|blobs)\//.test(r.path));
    const probes = requests.filter((r) => r.path.includes('/referrers/'));
    expect(probes).toHaveLength(1);
    expect(gets.map((r) => r.path).sort()).toEqual(
      [
        `/v2/${REPO}/manifests/${late.descriptor.digest}`,
        ...[...late.blobs.keys()].map((digest) => `/v2/${REPO}/blobs/${digest}`),
      ].sort(),
    );
    await rsyncToMirror(config.root);
    await vi.waitFor(async () => expect(await servedTags()).toContain(sigTag(unsigned.digest)));
  });

  it("a second blobmirror syncing from the first one's serve finds the referrers through the referrers API", async () => {
    const second = await writeTestConfig(
      { registryUrl: `http://127.0.0.1:${serve.port}`, include: ['stable/**'], tags: { include: ['^1\\.2$'] } },
      path.join(world.work, 'second'),
    );
    const logFrom = (await readFile(accessLog, 'utf8')).length;
    const summary = await sync(second.file);
    expect(summary.result).toBe('ok');
    expect(summary.plan[0].added.sort()).toEqual(['1.2', sigTag(image.digest), sigTag(sbom.descriptor.digest)].sort());
    for (const artifact of [signature, sbom, attestation, sbomSignature])
      for (const [digest, bytes] of artifact.blobs)
        expect(await readFile(treeBlob(second.root, digest))).toEqual(bytes);
    const log = (await readFile(accessLog, 'utf8')).slice(logFrom);
    expect(log).toContain(`"GET /v2/${REPO}/referrers/${image.digest} HTTP/1.1" 200 `);
    // The API answered, so the fallback tag was never read.
    expect(log).not.toContain(`/manifests/sha256-${hex(image.digest)} `);
  });

  it('attachments go when their image goes: kept through the gc grace, removed after it', async () => {
    await deleteManifest(world.registry, REPO, image.digest);
    const summary = await sync();
    expect(summary.plan[0].removed.sort()).toEqual(
      ['1.2', sigTag(image.digest), `sha256-${hex(image.digest)}`, sigTag(sbom.descriptor.digest)].sort(),
    );
    const attached = [signature, sbom, attestation, sbomSignature].flatMap((a) => [...a.blobs.keys()]);
    const gcWithGrace = async (graceDays: number) => {
      const file = await world.writeConfig('master', {
        tags: { include: ['^1\\.[12]$'] },
        extra: { metadata: { keepGenerations: 1 }, retention: { graceDays } },
      });
      const result = await runCli(['gc', '-c', file.file, '--json']);
      expect(result.code, result.stderr).toBe(0);
    };
    await gcWithGrace(7);
    for (const digest of attached) expect(await exists(treeBlob(config.root, digest))).toBe(true);
    await gcWithGrace(0);
    for (const digest of attached) expect(await exists(treeBlob(config.root, digest))).toBe(false);
    // The unsigned tag's own signature stays: it follows an image that is still here.
    const unsigned = await describeManifest('1.1');
    await vi.waitFor(async () => expect(await servedTags()).toEqual(['1.1', sigTag(unsigned.digest)]));
  });
});

// skopeo itself as the verifier: it signs with a cosign-format key and pulls through serve under a
// policy requiring `sigstoreSigned`. Debian's skopeo 1.9.3 is built with sigstore disabled, so on
// this machine the probe below finds out and the test reports itself skipped with that reason;
// with an upstream skopeo it runs. The verification above (node's crypto on the pulled
// signature) holds everywhere.
describe('skopeo verifies a sigstore signature pulled through blobmirror', () => {
  const world = useTestWorld({ name: 'attachments-skopeo', spec: fixtureSpec({ repos: 1, baseBytes: 64 * 1024 }) });
  let skopeo: Skopeo;
  let unsupported: string | undefined;
  let key: SigstoreKey;
  let registriesD: string;

  beforeAll(async () => {
    skopeo = await createSkopeo();
    key = await createSigstoreKey(path.join(world.work, 'key'));
    registriesD = path.join(world.work, 'sign-registries.d');
    await mkdir(registriesD);
    await writeFile(
      path.join(registriesD, 'registry.yaml'),
      `docker:\n  ${JSON.stringify(world.registry.host)}:\n    use-sigstore-attachments: true\n`,
    );
    const ref = `docker://${world.registry.host}/${REPO}:1.1`;
    const signed = await skopeo.run(
      [
        'copy',
        '--src-tls-verify=false',
        '--dest-tls-verify=false',
        '--sign-by-sigstore-private-key',
        key.privateKeyFile,
        '--sign-passphrase-file',
        key.passphraseFile,
        ref,
        ref,
      ],
      ['--registries.d', registriesD],
    );
    if (/sigstore disabled/.test(signed.stderr)) unsupported = signed.stderr.trim().split('\n').pop();
    else expect(signed.code, signed.stderr).toBe(0);
  });
  afterAll(() => skopeo?.dispose());

  it('a policy requiring sigstoreSigned accepts the signed image through serve and rejects the unsigned one', async (ctx) => {
    if (unsupported) ctx.skip(`this skopeo cannot sign or verify sigstore signatures: ${unsupported}`);
    const config = await world.writeConfig('master');
    expect((await runCli(['sync', '-c', config.file])).code).toBe(0);
    // No mirrors: serve sends blob requests to the master, here nginx serving the master's tree.
    const master = await startNginx(config.root);
    const mirrors = await writeMirrorList(world.work, { master: `${master.url}/tree` });
    const serve = await startServe(['--metadata', path.join(config.root, 'metadata'), '--mirrors', mirrors]);
    try {
      const host = `127.0.0.1:${serve.port}`;
      const { policy, registriesD: verifyD } = await writeVerifyPolicy(
        path.join(world.work, 'verify'),
        host,
        key.publicKeyFile,
      );
      const pull = (tag: string) =>
        skopeo.run(
          ['copy', '--src-tls-verify=false', `docker://${host}/${REPO}:${tag}`, `dir:${path.join(world.work, tag)}`],
          ['--policy', policy, '--registries.d', verifyD],
        );
      expect((await pull('1.1')).code).toBe(0);
      const unsigned = await pull('1.0');
      expect(unsigned.code).not.toBe(0);
      expect(unsigned.stderr).toMatch(/signature/i);
    } finally {
      await serve.stop();
      await master.stop();
    }
  });
});
