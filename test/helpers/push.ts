import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { Response } from 'got';
import pLimit from 'p-limit';
import { generateImages } from '../../src/demo/image-generator.js';
import type { Digest } from '../../src/oci/digest.js';
import { manifestBlobs, manifestDigest, parseManifest } from '../../src/oci/manifest.js';
import { MediaType, bareMediaType } from '../../src/oci/media-types.js';
import { assertRepositoryName, assertTag } from '../../src/oci/reference.js';
import { layoutBlobPath } from '../../src/oci-layout/layout-format.js';
import { OciLayoutSource } from '../../src/oci-layout/layout-source.js';
import type { FetchedManifest } from '../../src/source/source.js';
import { ACCEPT_ALL_MANIFESTS, RegistryClient, type RegistryTarget } from './registry-client.js';

export interface PushOptions {
  /** Repositories to push (names, or a predicate); default all of the layout's. */
  repositories?: readonly string[] | ((repository: string) => boolean);
  /** Mount blobs already pushed to another repository in this call instead of uploading (default true). */
  mount?: boolean;
  /** Blob uploads at once within a repository (default 3). */
  concurrency?: number;
}

export interface PushResult {
  repositories: string[];
  /** Tag PUTs (aliases count once each). */
  tags: number;
  blobsUploaded: number;
  bytesUploaded: number;
  blobsMounted: number;
  /** Already in the repository (HEAD 200). */
  blobsSkipped: number;
}

/**
 * Pushes the refs of an OCI layout (ref names `<repository>:<tag>`) through the V2 API: blobs by
 * POST + monolithic PUT streamed from the blob file, then manifests byte for byte, children before
 * their index.
 */
export async function pushLayout(
  registry: RegistryTarget,
  layoutDir: string,
  options: PushOptions = {},
): Promise<PushResult> {
  const source = new OciLayoutSource(layoutDir);
  const client = new RegistryClient(registry);
  const selected = options.repositories;
  const wanted = (await source.listRepositories()).filter((repository) =>
    selected === undefined
      ? true
      : typeof selected === 'function'
        ? selected(repository)
        : selected.includes(repository),
  );
  const result: PushResult = {
    repositories: wanted,
    tags: 0,
    blobsUploaded: 0,
    bytesUploaded: 0,
    blobsMounted: 0,
    blobsSkipped: 0,
  };
  // Where each blob went first in this call, to mount it from there.
  const home = new Map<Digest, string>();

  const pushBlob = async (repository: string, digest: Digest, size: number): Promise<void> => {
    const blobs = `/v2/${repository}/blobs`;
    if ((await client.request('HEAD', `${blobs}/${digest}`)).statusCode === 200) {
      result.blobsSkipped++;
    } else {
      const from = options.mount === false ? undefined : home.get(digest);
      const post = await client.expect(
        [201, 202],
        'POST',
        `${blobs}/uploads/${from ? `?mount=${digest}&from=${from}` : ''}`,
      );
      if (post.statusCode === 201) {
        result.blobsMounted++;
      } else {
        await finishUpload(client, post, digest, size, createReadStream(layoutBlobPath(layoutDir, digest)));
        result.blobsUploaded++;
        result.bytesUploaded += size;
      }
    }
    if (!home.has(digest)) home.set(digest, repository);
  };

  for (const repository of wanted) {
    const limit = pLimit(options.concurrency ?? 3);
    const putDone = new Set<Digest>();
    let primed = false;
    const pushTree = async (fetched: FetchedManifest, tag?: string): Promise<void> => {
      const { manifest, digest } = fetched;
      if (manifest.kind === 'index') {
        for (const child of manifest.manifests) {
          if (!putDone.has(child.digest)) await pushTree(await source.getManifest(repository, child.digest));
        }
      }
      let blobs = manifestBlobs(manifest);
      // The first upload runs alone: with token auth it leaves a pull+push token for the rest,
      // which then never meet a 401 they could not replay (a streamed body is sent once).
      if (!primed && blobs[0]) {
        await pushBlob(repository, blobs[0].digest, blobs[0].size!);
        primed = true;
        blobs = blobs.slice(1);
      }
      await Promise.all(blobs.map((blob) => limit(() => pushBlob(repository, blob.digest, blob.size!))));
      const put = await client.expect(201, 'PUT', `/v2/${repository}/manifests/${tag ?? digest}`, {
        headers: { 'content-type': fetched.mediaType },
        body: fetched.bytes,
      });
      const echoed = put.headers['docker-content-digest'];
      if (echoed !== digest) throw new Error(`registry stored ${repository}@${digest} as ${echoed}`);
      putDone.add(digest);
      if (tag !== undefined) result.tags++;
    };
    for (const tag of await source.listTags(repository)) await pushTree(await source.getManifest(repository, tag), tag);
  }
  return result;
}

/** Ends the monolithic upload a POST started: one PUT of the whole body, with its digest. */
async function finishUpload(
  client: RegistryClient,
  post: Response<Buffer>,
  digest: Digest,
  size: number,
  body: Buffer | Readable,
): Promise<void> {
  const location = new URL(post.headers.location!, client.target.url);
  location.searchParams.set('digest', digest);
  await client.expect(201, 'PUT', location.href, {
    headers: { 'content-type': 'application/octet-stream', 'content-length': String(size) },
    body,
  });
}

/** What `pushManifest` pushes: a manifest's bytes and media type, and the blobs it needs. */
export interface ManifestToPush {
  descriptor: { mediaType: string; digest: Digest };
  bytes: Buffer;
  blobs: ReadonlyMap<Digest, Buffer>;
}

/** Pushes a manifest built in memory (an artifact, a signature) under `reference` (a tag, or its digest). */
export async function pushManifest(
  registry: RegistryTarget,
  repository: string,
  manifest: ManifestToPush,
  reference: string = manifest.descriptor.digest,
): Promise<void> {
  const client = new RegistryClient(registry);
  for (const [digest, bytes] of manifest.blobs) {
    if ((await client.request('HEAD', `/v2/${repository}/blobs/${digest}`)).statusCode === 200) continue;
    const post = await client.expect(202, 'POST', `/v2/${repository}/blobs/uploads/`);
    await finishUpload(client, post, digest, bytes.length, bytes);
  }
  const put = await client.expect(201, 'PUT', `/v2/${repository}/manifests/${reference}`, {
    headers: { 'content-type': manifest.descriptor.mediaType },
    body: manifest.bytes,
  });
  const echoed = put.headers['docker-content-digest'];
  if (echoed !== manifest.descriptor.digest)
    throw new Error(`registry stored ${repository}@${manifest.descriptor.digest} as ${String(echoed)}`);
}

export interface RemoteManifest {
  status: number;
  mediaType: string | undefined;
  /** The registry's `Docker-Content-Digest`. */
  digest: string | undefined;
  bytes: Buffer;
}

/** GET a manifest with every type in Accept (or the given ones). */
export async function fetchManifest(
  registry: RegistryTarget,
  repository: string,
  reference: string,
  accept = ACCEPT_ALL_MANIFESTS,
): Promise<RemoteManifest> {
  const response = await new RegistryClient(registry).request('GET', `/v2/${repository}/manifests/${reference}`, {
    headers: { accept },
  });
  return {
    status: response.statusCode,
    mediaType: bareMediaType(response.headers['content-type']),
    digest: response.headers['docker-content-digest'] as string | undefined,
    bytes: response.body,
  };
}

/** Points `tag` at the manifest `reference` (tag or digest) already has, byte for byte. */
export async function retag(
  registry: RegistryTarget,
  repository: string,
  reference: string,
  tag: string,
): Promise<Digest> {
  const manifest = await fetchManifest(registry, repository, reference);
  if (manifest.status !== 200 || !manifest.mediaType)
    throw new Error(`retag: GET ${repository}:${reference} answered ${manifest.status}`);
  await new RegistryClient(registry).expect(201, 'PUT', `/v2/${repository}/manifests/${assertTag(tag)}`, {
    headers: { 'content-type': manifest.mediaType },
    body: manifest.bytes,
  });
  return manifestDigest(manifest.bytes, manifest.mediaType);
}

/**
 * Removes a tag. distribution 2.8 has no API for that (DELETE by tag is 3.0), so this removes the
 * tag's directory from the filesystem storage, which the registry reads on every request.
 */
export async function deleteTag(registry: { dataDir: string }, repository: string, tag: string): Promise<void> {
  const path = join(
    registry.dataDir,
    'docker/registry/v2/repositories',
    assertRepositoryName(repository),
    '_manifests/tags',
    assertTag(tag),
  );
  await rm(path, { recursive: true });
}

/** DELETE a manifest by digest through the API: every tag pointing at it goes too. */
export async function deleteManifest(registry: RegistryTarget, repository: string, digest: Digest): Promise<void> {
  await new RegistryClient(registry).expect(202, 'DELETE', `/v2/${repository}/manifests/${digest}`);
}

/**
 * Makes `repository:tag` a signed schema1 manifest. distribution 2.8 converts a Docker v2 image to
 * schema1 and signs it (with its own key) for a GET whose Accept lists only schema1; pushing those
 * bytes back is accepted when the registry runs with `compatibility.schema1.enabled`.
 */
export async function pushSchema1Image(
  registry: RegistryTarget & { options?: { schema1?: boolean } },
  repository: string,
  tag: string,
): Promise<{ digest: Digest; bytes: Buffer }> {
  if (registry.options && !registry.options.schema1)
    throw new Error('pushSchema1Image needs a registry started with { schema1: true }');
  const dir = await mkdtemp(join(tmpdir(), 'blobmirror-schema1-'));
  try {
    const spec = {
      seed: `schema1 ${repository}:${tag}`,
      format: 'docker' as const,
      sharedLayers: [],
      repositories: [{ name: repository, unique: [4096], tags: [{ tag }] }],
    };
    await generateImages(spec, dir);
    await pushLayout(registry, dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  const signed = await fetchManifest(registry, repository, tag, MediaType.schema1Signed);
  if (signed.status !== 200 || signed.mediaType !== MediaType.schema1Signed) {
    throw new Error(`schema1 conversion of ${repository}:${tag} answered ${signed.status} ${signed.mediaType}`);
  }
  await new RegistryClient(registry).expect(201, 'PUT', `/v2/${repository}/manifests/${tag}`, {
    headers: { 'content-type': MediaType.schema1Signed },
    body: signed.bytes,
  });
  return { digest: manifestDigest(signed.bytes, MediaType.schema1Signed), bytes: signed.bytes };
}

/**
 * Makes `to` hold the image `from:reference` under each of `tags`: its blobs mounted from `from`,
 * then one manifest PUT per tag, `concurrency` at a time over keep-alive connections (distribution
 * 2.8 has no cheaper way to add a tag). Returns the manifest's digest.
 */
export async function tagMany(
  registry: RegistryTarget,
  from: { repository: string; reference: string },
  to: string,
  tags: readonly string[],
  concurrency = 16,
): Promise<Digest> {
  const manifest = await fetchManifest(registry, from.repository, from.reference);
  if (manifest.status !== 200 || !manifest.mediaType)
    throw new Error(`tagMany: GET ${from.repository}:${from.reference} answered ${manifest.status}`);
  const client = new RegistryClient(registry);
  const parsed = parseManifest(manifest.bytes, manifest.mediaType, `${from.repository}:${from.reference}`);
  for (const blob of manifestBlobs(parsed))
    await client.expect(201, 'POST', `/v2/${to}/blobs/uploads/?mount=${blob.digest}&from=${from.repository}`);
  const limit = pLimit(concurrency);
  await Promise.all(
    tags.map((tag) =>
      limit(() =>
        client.expect(201, 'PUT', `/v2/${to}/manifests/${assertTag(tag)}`, {
          headers: { 'content-type': manifest.mediaType! },
          body: manifest.bytes,
        }),
      ),
    ),
  );
  return manifestDigest(manifest.bytes, manifest.mediaType);
}
