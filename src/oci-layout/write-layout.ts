import { createHash, randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { access, mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { makeDigest, type Digest } from '../oci/digest.js';
import type { Descriptor } from '../oci/manifest.js';
import { assertRepositoryName, assertTag } from '../oci/reference.js';
import { MediaType } from '../oci/media-types.js';
import {
  INDEX_FILE,
  OCI_LAYOUT_FILE,
  OCI_LAYOUT_VERSION,
  REF_NAME_ANNOTATION,
  layoutBlobPath,
  readLayoutRefs,
  refName,
} from './layout-format.js';

export interface WrittenBlob {
  digest: Digest;
  size: number;
}

/**
 * Writes an OCI image layout. Blobs appear only complete (temp file + rename in their directory),
 * so a reader never sees a partial blob; `index.json` is replaced the same way by `save()`.
 * No fsync: layouts written here are demo and test fixtures that can always be regenerated.
 */
export class OciLayoutWriter {
  // Ref name -> descriptor, in insertion order so index.json is stable for a given input.
  private readonly refs = new Map<string, Descriptor>();

  private constructor(readonly dir: string) {}

  /** Opens `dir` (created if needed), keeping the refs of an existing layout. */
  static async open(dir: string): Promise<OciLayoutWriter> {
    const writer = new OciLayoutWriter(dir);
    await mkdir(join(dir, 'blobs'), { recursive: true });
    await writeFile(join(dir, OCI_LAYOUT_FILE), JSON.stringify({ imageLayoutVersion: OCI_LAYOUT_VERSION }));
    if (await exists(join(dir, INDEX_FILE))) {
      for (const ref of await readLayoutRefs(dir)) writer.refs.set(refName(ref.repository, ref.tag), ref.descriptor);
    }
    return writer;
  }

  blobPath(digest: Digest): string {
    return layoutBlobPath(this.dir, digest);
  }

  /** Streams `content` to a blob, hashing as it writes; the digest names the file at the end. */
  async writeBlob(content: Readable | Buffer): Promise<WrittenBlob> {
    const tmpDir = join(this.dir, 'blobs', 'sha256');
    await mkdir(tmpDir, { recursive: true });
    // Dot-prefixed so it can never be mistaken for a blob (blob names are hex).
    const tmp = join(tmpDir, `.${randomUUID()}.tmp`);
    const hash = createHash('sha256');
    let size = 0;
    try {
      if (Buffer.isBuffer(content)) {
        hash.update(content);
        size = content.length;
        await writeFile(tmp, content);
      } else {
        await pipeline(
          content,
          async function* (source: AsyncIterable<Buffer>) {
            for await (const chunk of source) {
              hash.update(chunk);
              size += chunk.length;
              yield chunk;
            }
          },
          createWriteStream(tmp),
        );
      }
      const digest = makeDigest('sha256', hash.digest('hex'));
      const path = this.blobPath(digest);
      await mkdir(dirname(path), { recursive: true });
      await rename(tmp, path);
      return { digest, size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  /** Writes manifest bytes as a blob and returns the descriptor that points at them. */
  async writeManifest(bytes: Buffer, mediaType: string): Promise<Descriptor> {
    const { digest, size } = await this.writeBlob(bytes);
    return { mediaType, digest, size };
  }

  /** Points `<repository>:<tag>` at a manifest (replacing what it pointed at). */
  setRef(repository: string, tag: string, descriptor: Descriptor): void {
    assertRepositoryName(repository);
    assertTag(tag);
    const name = refName(repository, tag);
    const { mediaType, digest, size, platform } = descriptor;
    this.refs.set(name, {
      mediaType,
      digest,
      size,
      ...(platform ? { platform } : {}),
      annotations: { ...descriptor.annotations, [REF_NAME_ANNOTATION]: name },
    });
  }

  /** Writes `index.json` atomically. */
  async save(): Promise<void> {
    const index = { schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [...this.refs.values()] };
    const tmp = join(this.dir, `.${INDEX_FILE}.${randomUUID()}.tmp`);
    await writeFile(tmp, `${JSON.stringify(index, null, 2)}\n`);
    await rename(tmp, join(this.dir, INDEX_FILE));
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
