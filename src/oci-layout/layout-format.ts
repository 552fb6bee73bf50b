import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { InvalidInputError, ManifestInvalidError, NameInvalidError, NotFoundError } from '../errors.js';
import { digestPath, type Digest } from '../oci/digest.js';
import { parseManifest, type Descriptor } from '../oci/manifest.js';
import { MediaType } from '../oci/media-types.js';
import { parseReference } from '../oci/reference.js';

// The OCI image layout (image-spec `image-layout.md`), shared by the writer and the source.
export const OCI_LAYOUT_FILE = 'oci-layout';
export const OCI_LAYOUT_VERSION = '1.0.0';
export const INDEX_FILE = 'index.json';
export const REF_NAME_ANNOTATION = 'org.opencontainers.image.ref.name';

/** `blobs/<alg>/<hex>`; `digestPath` validates the digest, so the result never leaves `dir`. */
export function layoutBlobPath(dir: string, digest: Digest): string {
  return join(dir, 'blobs', digestPath(digest));
}

/** Full repository name plus tag, so one layout can hold many repositories. */
export function refName(repository: string, tag: string): string {
  return `${repository}:${tag}`;
}

export interface LayoutRef {
  repository: string;
  tag: string;
  descriptor: Descriptor;
}

/** Reads `index.json`; entries without a ref name (untagged content) are not refs. */
export async function readLayoutRefs(dir: string): Promise<LayoutRef[]> {
  const path = join(dir, INDEX_FILE);
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    throw new NotFoundError(`no OCI layout at ${dir}: ${INDEX_FILE} is missing`, {
      status: 404,
      cause: error,
    });
  }
  const index = parseManifest(bytes, MediaType.ociIndex, path);
  if (index.kind !== 'index') throw new ManifestInvalidError(`invalid ${path}: not an image index`);
  const refs: LayoutRef[] = [];
  for (const descriptor of index.manifests) {
    const name = descriptor.annotations?.[REF_NAME_ANNOTATION];
    if (name === undefined) continue;
    refs.push({ ...parseRefName(name, path), descriptor });
  }
  return refs;
}

function parseRefName(name: string, indexPath: string): { repository: string; tag: string } {
  const where = `ref name ${JSON.stringify(name)} in ${indexPath}`;
  let parsed;
  try {
    parsed = parseReference(name);
  } catch (error) {
    // The same class (so the same code: TAG_INVALID, DIGEST_INVALID…), with the index named.
    const Same = error instanceof InvalidInputError ? (error.constructor as typeof NameInvalidError) : NameInvalidError;
    throw new Same(`invalid ${where}: ${(error as Error).message}`, { cause: error });
  }
  if (parsed.tag === undefined || parsed.digest !== undefined) {
    throw new NameInvalidError(`invalid ${where}: expected <repository>:<tag>`);
  }
  return { repository: parsed.repository, tag: parsed.tag };
}
