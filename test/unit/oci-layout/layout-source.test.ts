import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrityError, InvalidInputError, NotFoundError } from '../../../src/errors.js';
import { asDigest, type Digest } from '../../../src/oci/digest.js';
import { MediaType } from '../../../src/oci/media-types.js';
import {
  INDEX_FILE,
  OCI_LAYOUT_FILE,
  REF_NAME_ANNOTATION,
  layoutBlobPath,
} from '../../../src/oci-layout/layout-format.js';
import { OciLayoutSource } from '../../../src/oci-layout/layout-source.js';
import { OciLayoutWriter } from '../../../src/oci-layout/write-layout.js';

const sha256 = (bytes: Buffer | string) => asDigest(`sha256:${createHash('sha256').update(bytes).digest('hex')}`);
const missing = sha256('nothing here');

let root: string;
let dir: string;
let layer: { digest: Digest; size: number };
let image: Buffer;
let index: Buffer;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'blobmirror-layout-'));
  dir = join(root, 'layout');
  const writer = await OciLayoutWriter.open(dir);
  layer = await writer.writeBlob(Readable.from([Buffer.from('hello '), Buffer.from('layer')]));
  const config = await writer.writeBlob(Buffer.from('{}'));
  image = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: { mediaType: MediaType.ociConfig, ...config },
      layers: [{ mediaType: MediaType.ociLayerGzip, ...layer }],
    }),
  );
  const imageDescriptor = await writer.writeManifest(image, MediaType.ociManifest);
  index = Buffer.from(
    JSON.stringify({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [imageDescriptor] }),
  );
  const indexDescriptor = await writer.writeManifest(index, MediaType.ociIndex);
  writer.setRef('stable/base', '39', indexDescriptor);
  writer.setRef('stable/base', 'latest', indexDescriptor);
  writer.setRef('candidate/base', '40', imageDescriptor);
  await writer.save();
});
afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('OciLayoutWriter', () => {
  it('writes the layout marker, content-addressed blobs and ref names with full repository names', async () => {
    expect(JSON.parse(await readFile(join(dir, OCI_LAYOUT_FILE), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(layer).toEqual({ digest: sha256('hello layer'), size: 11 });
    expect(await readFile(layoutBlobPath(dir, layer.digest), 'utf8')).toBe('hello layer');
    const written = JSON.parse(await readFile(join(dir, INDEX_FILE), 'utf8'));
    expect(
      written.manifests.map((d: { annotations: Record<string, string> }) => d.annotations[REF_NAME_ANNOTATION]),
    ).toEqual(['stable/base:39', 'stable/base:latest', 'candidate/base:40']);
  });

  it('keeps existing refs when reopened', async () => {
    const copy = join(root, 'reopened');
    const first = await OciLayoutWriter.open(copy);
    first.setRef('a/b', '1', { mediaType: MediaType.ociManifest, digest: layer.digest, size: 1 });
    await first.save();
    const second = await OciLayoutWriter.open(copy);
    second.setRef('a/b', '2', { mediaType: MediaType.ociManifest, digest: layer.digest, size: 1 });
    await second.save();
    expect(await new OciLayoutSource(copy).listTags('a/b')).toEqual(['1', '2']);
  });
});

describe('OciLayoutSource', () => {
  it('lists repositories and tags', async () => {
    const source = new OciLayoutSource(dir);
    expect(await source.listRepositories()).toEqual(['candidate/base', 'stable/base']);
    expect(await source.listTags('stable/base')).toEqual(['39', 'latest']);
    expect(source.stats).toMatchObject({ catalogPages: 1, tagLists: 1 });
  });

  it('heads and gets manifests by tag and by digest, verified', async () => {
    const source = new OciLayoutSource(dir);
    const head = await source.headManifest('stable/base', 'latest');
    expect(head).toEqual({ digest: sha256(index), mediaType: MediaType.ociIndex });
    const byTag = await source.getManifest('stable/base', '39');
    expect(byTag.bytes.equals(index)).toBe(true);
    expect(byTag.manifest.kind).toBe('index');
    const byDigest = await source.getManifest('stable/base', sha256(image));
    expect(byDigest).toMatchObject({
      digest: sha256(image),
      mediaType: MediaType.ociManifest,
      manifest: { kind: 'image' },
    });
    expect(source.stats).toMatchObject({ manifestHeads: 1, manifestGets: 2 });
  });

  it('streams blobs from an offset', async () => {
    const source = new OciLayoutSource(dir);
    const blob = await source.openBlob('stable/base', layer.digest, 6);
    expect(blob.start).toBe(6);
    expect(await text(blob.stream)).toBe('layer');
    expect(source.stats.blobGets).toBe(1);
  });

  it('answers NOT_FOUND naming the missing tag, repository, manifest or blob', async () => {
    const source = new OciLayoutSource(dir);
    const notFound = (message: RegExp) =>
      expect.objectContaining({ name: 'NotFoundError', code: 'NOT_FOUND', message: expect.stringMatching(message) });
    await expect(source.headManifest('stable/base', '41')).rejects.toEqual(
      notFound(/^tag stable\/base:41 not found in oci-layout:/),
    );
    await expect(source.listTags('stable/nope')).rejects.toEqual(notFound(/repository stable\/nope not found/));
    await expect(source.getManifest('stable/base', missing)).rejects.toEqual(
      notFound(new RegExp(`manifest stable/base@${missing} not found`)),
    );
    await expect(source.openBlob('stable/base', missing, 0)).rejects.toEqual(
      notFound(new RegExp(`blob stable/base@${missing} not found`)),
    );
    await expect(new OciLayoutSource(join(root, 'none')).listRepositories()).rejects.toBeInstanceOf(NotFoundError);
  });

  it('validates names and digests before touching the filesystem', async () => {
    const source = new OciLayoutSource(dir);
    await expect(source.openBlob('stable/base', 'sha256:../../../etc/passwd' as Digest, 0)).rejects.toMatchObject({
      code: 'DIGEST_INVALID',
    });
    await expect(source.getManifest('Stable', '39')).rejects.toMatchObject({ code: 'NAME_INVALID' });
    await expect(source.headManifest('stable/base', '../x')).rejects.toMatchObject({ code: 'TAG_INVALID' });
  });

  it('rejects manifests that do not hash to their digest or are over the size limit', async () => {
    const broken = join(root, 'broken');
    const writer = await OciLayoutWriter.open(broken);
    const descriptor = await writer.writeManifest(index, MediaType.ociIndex);
    writer.setRef('stable/base', '39', descriptor);
    await writer.save();
    await writeFile(layoutBlobPath(broken, descriptor.digest), Buffer.concat([index, Buffer.from(' ')]));
    await expect(new OciLayoutSource(broken).getManifest('stable/base', '39')).rejects.toBeInstanceOf(IntegrityError);
    const small = new OciLayoutSource(dir, { maxManifestBytes: 10 });
    await expect(small.getManifest('stable/base', '39')).rejects.toMatchObject({ code: 'TOO_LARGE' });
  });

  it('throws a precise error naming a ref that is not <repository>:<tag>', async () => {
    const bad = join(root, 'bad-ref');
    const writer = await OciLayoutWriter.open(bad);
    await writer.save();
    const descriptor = { mediaType: MediaType.ociIndex, digest: sha256(index), size: index.length };
    for (const name of ['latest', 'Stable/Base:1', 'stable/base:-x']) {
      const manifests = [{ ...descriptor, annotations: { [REF_NAME_ANNOTATION]: name } }];
      await writeFile(join(bad, INDEX_FILE), JSON.stringify({ schemaVersion: 2, manifests }));
      const error = await new OciLayoutSource(bad).listRepositories().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidInputError);
      expect((error as Error).message).toContain(`ref name ${JSON.stringify(name)} in ${join(bad, INDEX_FILE)}`);
    }
  });
});
