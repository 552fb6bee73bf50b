import pLimit from 'p-limit';
import { UsageError } from '../errors.js';
import type { Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { formatPlatform, type Platform } from '../oci/platform.js';
import { assertRepositoryName, assertTag } from '../oci/reference.js';
import { OciLayoutWriter } from '../oci-layout/write-layout.js';
import type { ImageFormat, ImageSetSpec, RepositorySpec, SharedLayerSpec, TagSpec } from './image-spec.js';
import { writeTarLayer, type GeneratedLayer } from './tar-layer.js';

export * from './image-spec.js';

const AMD64: Platform = { architecture: 'amd64', os: 'linux' };
const ARM64: Platform = { architecture: 'arm64', os: 'linux', variant: 'v8' };
const DEFAULT_CREATED = '2024-01-01T00:00:00Z';

const TYPES = {
  oci: {
    index: MediaType.ociIndex,
    manifest: MediaType.ociManifest,
    config: MediaType.ociConfig,
    layer: MediaType.ociLayerGzip,
  },
  docker: {
    index: MediaType.dockerList,
    manifest: MediaType.dockerManifest,
    config: MediaType.dockerConfig,
    layer: MediaType.dockerLayerGzip,
  },
} as const;

export interface GeneratedRepository {
  /** Every tag (aliases included) -> the digest of the manifest or index it points at. */
  tags: Record<string, Digest>;
  /** Configs and layers of all its tags, each once, sorted. */
  blobs: Digest[];
}

export interface GeneratedImages {
  dir: string;
  repositories: Record<string, GeneratedRepository>;
  /** Configs and layers of the whole set, each once, sorted. */
  blobs: Digest[];
  /** Total size of `blobs`. */
  blobBytes: number;
  /** Every manifest and index, each once, sorted. */
  manifests: Digest[];
}

export interface GenerateOptions {
  /** Layers generated at once (gzip runs on libuv's thread pool); default 2, one per core here. */
  concurrency?: number;
}

/** One layer of one image: `key` names its bytes, so equal keys are one blob. */
interface PlannedLayer {
  key: string;
  size: number;
  label: string;
}

/**
 * Writes `spec` into the OCI layout `dir` (added to whatever is there) and tells what it wrote.
 * Each distinct layer is generated once, however many images stack it.
 */
export async function generateImages(
  spec: ImageSetSpec,
  dir: string,
  options: GenerateOptions = {},
): Promise<GeneratedImages> {
  const shared = validateSpec(spec);
  const created = spec.created ?? DEFAULT_CREATED;
  const mtime = Math.floor(Date.parse(created) / 1000);
  const writer = await OciLayoutWriter.open(dir);
  const limit = pLimit(options.concurrency ?? 2);
  const layers = new Map<string, Promise<GeneratedLayer>>();
  const layer = (planned: PlannedLayer) => {
    let result = layers.get(planned.key);
    if (!result) {
      const content = { seed: `${spec.seed}\n${planned.key}`, contentBytes: planned.size, label: planned.label, mtime };
      result = limit(() => writeTarLayer(writer, content));
      layers.set(planned.key, result);
    }
    return result;
  };

  const blobs = new Map<Digest, number>();
  const manifests = new Set<Digest>();
  const repositories: Record<string, GeneratedRepository> = Object.fromEntries(
    spec.repositories.map((repo) => [repo.name, { tags: {}, blobs: [] }]),
  );

  const writeImage = async (repo: RepositorySpec, tag: TagSpec, platform: Platform): Promise<Descriptor> => {
    const types = TYPES[repo.format ?? spec.format ?? 'oci'];
    const plan = planLayers(repo, tag, platform, shared);
    // Started together so the pool stays busy; awaited in stack order.
    const stack = await Promise.all(plan.map(layer));
    const config = Buffer.from(
      JSON.stringify({
        created,
        architecture: platform.architecture,
        os: platform.os,
        ...(platform.variant ? { variant: platform.variant } : {}),
        config: {
          Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'],
          Cmd: ['/bin/sh'],
          Labels: { 'org.opencontainers.image.title': repo.name, 'org.opencontainers.image.version': tag.tag },
        },
        rootfs: { type: 'layers', diff_ids: stack.map((l) => l.diffId) },
        history: plan.map((l) => ({ created, created_by: `blobmirror demo: ADD ${l.label}` })),
      }),
    );
    const configBlob = await writer.writeBlob(config);
    const refs = [{ ...configBlob }, ...stack.map(({ digest, size }) => ({ digest, size }))];
    for (const { digest, size } of refs) blobs.set(digest, size);
    const manifest = {
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: configBlob.digest, size: configBlob.size },
      layers: stack.map(({ digest, size }) => ({ mediaType: types.layer, digest, size })),
    };
    const descriptor = await writer.writeManifest(Buffer.from(JSON.stringify(manifest)), types.manifest);
    manifests.add(descriptor.digest);
    repositories[repo.name]!.blobs.push(...refs.map((r) => r.digest));
    return { ...descriptor, platform };
  };

  const writeTag = async (repo: RepositorySpec, tag: TagSpec): Promise<Descriptor> => {
    if (!tag.multiPlatform) {
      const { platform: _, ...image } = await writeImage(repo, tag, AMD64);
      return image;
    }
    const type = TYPES[repo.format ?? spec.format ?? 'oci'].index;
    const children = await Promise.all([AMD64, ARM64].map((platform) => writeImage(repo, tag, platform)));
    const index = { schemaVersion: 2, mediaType: type, manifests: children };
    const descriptor = await writer.writeManifest(Buffer.from(JSON.stringify(index)), type);
    manifests.add(descriptor.digest);
    return descriptor;
  };

  const tags = spec.repositories.flatMap((repo) => repo.tags.map((tag) => ({ repo, tag })));
  const descriptors = await Promise.all(tags.map(({ repo, tag }) => writeTag(repo, tag)));
  // Refs are set in spec order, not completion order, so index.json is the same every run.
  tags.forEach(({ repo, tag }, i) => {
    for (const name of [tag.tag, ...(tag.aliases ?? [])]) {
      writer.setRef(repo.name, name, descriptors[i]!);
      repositories[repo.name]!.tags[name] = descriptors[i]!.digest;
    }
  });
  await writer.save();

  for (const repo of Object.values(repositories)) repo.blobs = [...new Set(repo.blobs)].sort();
  return {
    dir,
    repositories,
    blobs: [...blobs.keys()].sort(),
    blobBytes: [...blobs.values()].reduce((sum, size) => sum + size, 0),
    manifests: [...manifests].sort(),
  };
}

function planLayers(
  repo: RepositorySpec,
  tag: TagSpec,
  platform: Platform,
  shared: Map<string, SharedLayerSpec>,
): PlannedLayer[] {
  const at = `@${formatPlatform(platform)}`;
  const sharedLayers = (tag.layers ?? repo.layers ?? []).map((name) => {
    const layer = shared.get(name)!;
    return { key: `shared/${name}${layer.perPlatform ? at : ''}`, size: layer.size, label: name };
  });
  const repoLayers = (repo.unique ?? []).map((size, i) => ({
    key: `repo/${repo.name}#${i}${at}`,
    size,
    label: `${repo.name} ${i}`,
  }));
  const tagLayers = (tag.unique ?? []).map((size, i) => ({
    key: `tag/${repo.name}:${tag.tag}#${i}${at}`,
    size,
    label: `${repo.name}:${tag.tag} ${i}`,
  }));
  return [...sharedLayers, ...repoLayers, ...tagLayers];
}

/** Rejects a spec that would write a broken or ambiguous layout; returns shared layers by name. */
function validateSpec(spec: ImageSetSpec): Map<string, SharedLayerSpec> {
  const shared = new Map<string, SharedLayerSpec>();
  for (const layer of spec.sharedLayers) {
    if (shared.has(layer.name)) throw new UsageError(`image spec: shared layer "${layer.name}" is defined twice`);
    assertSize(layer.size, `shared layer "${layer.name}"`);
    shared.set(layer.name, layer);
  }
  if (spec.created !== undefined && Number.isNaN(Date.parse(spec.created))) {
    throw new UsageError(`image spec: created ${JSON.stringify(spec.created)} is not an ISO time`);
  }
  const repositories = new Set<string>();
  for (const repo of spec.repositories) {
    assertRepositoryName(repo.name);
    if (repositories.has(repo.name)) throw new UsageError(`image spec: repository ${repo.name} is defined twice`);
    repositories.add(repo.name);
    checkFormat(repo.format ?? spec.format, repo.name);
    repo.unique?.forEach((size) => assertSize(size, `unique layer of ${repo.name}`));
    const tags = new Set<string>();
    for (const tag of repo.tags) {
      for (const name of [tag.tag, ...(tag.aliases ?? [])]) {
        assertTag(name);
        if (tags.has(name)) throw new UsageError(`image spec: tag ${repo.name}:${name} is defined twice`);
        tags.add(name);
      }
      for (const name of tag.layers ?? repo.layers ?? []) {
        if (!shared.has(name))
          throw new UsageError(`image spec: ${repo.name}:${tag.tag} uses unknown shared layer "${name}"`);
      }
      tag.unique?.forEach((size) => assertSize(size, `unique layer of ${repo.name}:${tag.tag}`));
    }
  }
  return shared;
}

function assertSize(size: number, what: string): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new UsageError(`image spec: size of ${what} must be a whole number of bytes, not ${size}`);
}

function checkFormat(format: ImageFormat | undefined, repository: string): void {
  if (format !== undefined && !(format in TYPES))
    throw new UsageError(`image spec: unknown format ${JSON.stringify(format)} for ${repository}`);
}
