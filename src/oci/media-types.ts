// Manifest media types blobmirror understands. Layer and config types are open-ended (artifacts
// use their own), so only manifests are restricted to this list.
export const MediaType = {
  ociManifest: 'application/vnd.oci.image.manifest.v1+json',
  ociIndex: 'application/vnd.oci.image.index.v1+json',
  dockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  dockerList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  schema1Signed: 'application/vnd.docker.distribution.manifest.v1+prettyjws',
  schema1: 'application/vnd.docker.distribution.manifest.v1+json',
  ociConfig: 'application/vnd.oci.image.config.v1+json',
  ociLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  dockerConfig: 'application/vnd.docker.container.image.v1+json',
  dockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
} as const;

export const INDEX_TYPES: readonly string[] = [MediaType.ociIndex, MediaType.dockerList];
export const IMAGE_TYPES: readonly string[] = [MediaType.ociManifest, MediaType.dockerManifest];
export const SCHEMA1_TYPES: readonly string[] = [MediaType.schema1Signed, MediaType.schema1];

/** Every manifest type, in the order sent in `Accept` (preferred first). */
export const MANIFEST_TYPES: readonly string[] = [...INDEX_TYPES, ...IMAGE_TYPES, ...SCHEMA1_TYPES];

// Layers that registries do not serve ("foreign"); their bytes live at the descriptor's `urls`.
const NON_DISTRIBUTABLE = [
  'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
];

// RFC 6838 type/subtype with optional +suffix, no parameters.
const MEDIA_TYPE = /^[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}\/[A-Za-z0-9][A-Za-z0-9!#$&^_.+-]{0,126}$/;

export function isMediaType(value: unknown): value is string {
  return typeof value === 'string' && MEDIA_TYPE.test(value);
}

export function isManifestType(value: string): boolean {
  return MANIFEST_TYPES.includes(value);
}

export function isNonDistributable(mediaType: string): boolean {
  return NON_DISTRIBUTABLE.includes(mediaType);
}

/** `Content-Type` may carry parameters (`; charset=utf-8`); compare on the bare type. */
export function bareMediaType(contentType: string | undefined): string | undefined {
  const bare = contentType?.split(';')[0]?.trim().toLowerCase();
  return bare ? bare : undefined;
}
