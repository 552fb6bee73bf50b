import { createHash } from 'node:crypto';
import { mkdir, rename, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';
import type { Platform } from '../../src/oci/platform.js';

// Writes a metadata directory by hand, following docs/formats.md to the letter, so serve's
// handler tests do not depend on sync. Blob bytes are not written: serve never reads the tree.

export interface Described {
  mediaType: string;
  digest: Digest;
  size: number;
}

interface RepoDraft {
  tags: Record<string, { digest: Digest }>;
  attachments?: Record<string, unknown[]>;
  manifests: Record<string, unknown>;
  blobs: Record<string, { size: number; mediaType?: string; path: string; modules: Record<string, string> }>;
}

const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;

export class MetadataFixture {
  private readonly repos = new Map<string, RepoDraft>();
  private readonly files = new Map<string, Buffer>();

  constructor(readonly dir: string) {}

  private repo(name: string): RepoDraft {
    let draft = this.repos.get(name);
    if (!draft) {
      draft = { tags: {}, manifests: {}, blobs: {} };
      this.repos.set(name, draft);
    }
    return draft;
  }

  private addManifest(
    repo: string,
    bytes: Buffer,
    mediaType: string,
    extra: { platform?: Platform; manifests: Digest[]; blobs: Digest[] },
  ): Described {
    const digest = sha256(bytes);
    const hex = digest.slice('sha256:'.length);
    const manifestPath = `manifests/sha256/${hex.slice(0, 2)}/${hex}`;
    this.files.set(manifestPath, bytes);
    this.repo(repo).manifests[digest] = { mediaType, size: bytes.length, path: manifestPath, ...extra };
    return { mediaType, digest, size: bytes.length };
  }

  /** An image manifest whose config and layers are made from `seed`; blobs are recorded only. */
  image(
    repo: string,
    seed: string,
    options: { platform?: Platform; docker?: boolean; layers?: number } = {},
  ): Described & { blobs: Digest[] } {
    const types = options.docker
      ? { manifest: MediaType.dockerManifest, config: MediaType.dockerConfig, layer: MediaType.dockerLayerGzip }
      : { manifest: MediaType.ociManifest, config: MediaType.ociConfig, layer: MediaType.ociLayerGzip };
    const blob = (content: string, mediaType: string) => {
      const digest = sha256(content);
      const blobPath = `${repo}/_blobs/sha256/${digest.slice(7)}`;
      this.repo(repo).blobs[digest] = {
        size: content.length,
        mediaType,
        path: blobPath,
        modules: { containers: blobPath },
      };
      return { mediaType, digest, size: content.length };
    };
    const config = blob(`config ${seed}`, types.config);
    const layers = Array.from({ length: options.layers ?? 2 }, (_, i) => blob(`layer ${seed} ${i}`, types.layer));
    const body = { schemaVersion: 2, mediaType: types.manifest, config, layers };
    const bytes = Buffer.from(JSON.stringify(body, null, 3));
    const blobs = [config.digest, ...layers.map((l) => l.digest)];
    const described = this.addManifest(repo, bytes, types.manifest, {
      ...(options.platform ? { platform: options.platform } : {}),
      manifests: [],
      blobs,
    });
    return { ...described, blobs };
  }

  /** An index over `children` (each with its platform); `present` limits what the generation keeps. */
  index(
    repo: string,
    children: Array<Described & { platform: Platform }>,
    options: { docker?: boolean; present?: Digest[] } = {},
  ): Described {
    const mediaType = options.docker ? MediaType.dockerList : MediaType.ociIndex;
    const body = {
      schemaVersion: 2,
      mediaType,
      manifests: children.map((c) => ({
        mediaType: c.mediaType,
        digest: c.digest,
        size: c.size,
        platform: c.platform,
      })),
    };
    const present = options.present ?? children.map((c) => c.digest);
    for (const child of children) if (!present.includes(child.digest)) delete this.repo(repo).manifests[child.digest];
    return this.addManifest(repo, Buffer.from(JSON.stringify(body, null, 2)), mediaType, {
      manifests: present,
      blobs: [],
    });
  }

  /** Record `entry` (docs/formats.md, "Attachments") as attached to `subject`. */
  attach(
    repo: string,
    subject: Digest,
    entry: { digest: Digest; kind: 'referrer' | 'cosign'; [key: string]: unknown },
  ): void {
    const attachments = (this.repo(repo).attachments ??= {});
    (attachments[subject] ??= []).push(entry);
  }

  tag(repo: string, tag: string, digest: Digest): void {
    this.repo(repo).tags[tag] = { digest };
  }

  /**
   * Write generation `id` and point `current` at it (atomically, as sync does). Format 2 (sync's
   * today) by default; format 1 is what a tree published before the upgrade holds.
   */
  async publish(id: string, options: { format?: 1 | 2 } = {}): Promise<void> {
    const format = options.format ?? 2;
    for (const [relative, bytes] of this.files) {
      await mkdir(path.dirname(path.join(this.dir, relative)), { recursive: true });
      await writeFile(path.join(this.dir, relative), bytes);
    }
    const genDir = path.join(this.dir, 'generations', id);
    const repositories: Record<string, unknown> = {};
    for (const [name, draft] of [...this.repos].sort(([a], [b]) => (a < b ? -1 : 1))) {
      const tags = Object.fromEntries(Object.entries(draft.tags).sort(([a], [b]) => (a < b ? -1 : 1)));
      const file = {
        formatVersion: 1,
        name,
        syncedAt: '2026-11-22T16:29:58.120Z',
        tags,
        manifests: draft.manifests,
        blobs: draft.blobs,
        history: {},
        ...(draft.attachments ? { attachments: draft.attachments } : {}),
      };
      const bytes = JSON.stringify(file, null, 2);
      const summary = { tags: Object.keys(tags).length, syncedAt: file.syncedAt };
      if (format === 1) {
        const relative = `repositories/${name}/_repository.json`;
        await mkdir(path.dirname(path.join(genDir, relative)), { recursive: true });
        await writeFile(path.join(genDir, relative), bytes);
        repositories[name] = { path: relative, ...summary };
      } else {
        const digest = sha256(bytes);
        const hex = digest.slice('sha256:'.length);
        const relative = `repositories/sha256/${hex.slice(0, 2)}/${hex}.json`;
        await mkdir(path.dirname(path.join(this.dir, relative)), { recursive: true });
        await writeFile(path.join(this.dir, relative), bytes);
        repositories[name] = { digest, size: Buffer.byteLength(bytes), path: relative, ...summary };
      }
    }
    await mkdir(genDir, { recursive: true });
    const index = {
      formatVersion: format,
      generation: id,
      createdAt: '2026-11-22T16:30:00.000Z',
      generator: 'hand-written test fixture',
      source: 'https://registry.example.org',
      blobPathTemplate: '{repository}/_blobs/{algorithm}/{hex}',
      modules: { containers: { root: '' } },
      repositories,
    };
    await writeFile(path.join(genDir, 'index.json'), JSON.stringify(index, null, 2));
    const temp = path.join(this.dir, `current.tmp-${id}`);
    await symlink(`generations/${id}`, temp);
    await rename(temp, path.join(this.dir, 'current'));
  }
}
