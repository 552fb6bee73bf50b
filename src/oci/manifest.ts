import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ManifestInvalidError, MediaTypeUnsupportedError, TooLargeError } from '../errors.js';
import { asDigest, isDigest, type Digest } from './digest.js';
import {
  INDEX_TYPES,
  IMAGE_TYPES,
  SCHEMA1_TYPES,
  MediaType,
  isMediaType,
  isManifestType,
  isNonDistributable,
} from './media-types.js';
import type { Platform } from './platform.js';

export const DEFAULT_MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  platform?: Platform;
  annotations?: Record<string, string>;
  artifactType?: string;
}

/** OCI 1.1: an artifact names the manifest it is attached to in `subject`. */
interface Attachable {
  subject?: Descriptor;
  artifactType?: string;
}

export interface IndexManifest extends Attachable {
  kind: 'index';
  mediaType: string;
  manifests: Descriptor[];
}

export interface ImageManifest extends Attachable {
  kind: 'image';
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

/** Legacy Docker schema1: blobs are named by `fsLayers[].blobSum`, sizes are unknown. */
export interface Schema1Manifest {
  kind: 'schema1';
  mediaType: string;
  architecture: string;
  blobSums: Digest[];
}

export type Manifest = IndexManifest | ImageManifest | Schema1Manifest;

export const isIndex = (m: Manifest): m is IndexManifest => m.kind === 'index';
export const isImage = (m: Manifest): m is ImageManifest => m.kind === 'image';

const digestSchema = z.string().refine(isDigest, 'expected sha256:<64 lowercase hex> or sha512:<128 lowercase hex>');
const sizeSchema = z
  .number()
  .int('expected an integer size')
  .nonnegative('size must not be negative')
  .max(Number.MAX_SAFE_INTEGER);
const mediaTypeSchema = z
  .string()
  .refine(isMediaType, 'expected a media type like application/vnd.oci.image.layer.v1.tar+gzip');

const platformSchema = z.object({
  architecture: z.string().max(64),
  os: z.string().max(64),
  variant: z.string().max(64).optional(),
  'os.version': z.string().max(256).optional(),
});

const descriptorSchema = z.object({
  mediaType: mediaTypeSchema,
  digest: digestSchema,
  size: sizeSchema,
  urls: z.array(z.string().max(4096)).max(64).optional(),
  platform: platformSchema.optional(),
  annotations: z.record(z.string(), z.string()).optional(),
  artifactType: mediaTypeSchema.optional(),
});

const indexSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaTypeSchema.optional(),
  manifests: z.array(descriptorSchema).max(10_000),
  subject: descriptorSchema.optional(),
  artifactType: mediaTypeSchema.optional(),
});

const imageSchema = z.object({
  schemaVersion: z.literal(2),
  mediaType: mediaTypeSchema.optional(),
  config: descriptorSchema,
  layers: z.array(descriptorSchema).max(10_000),
  subject: descriptorSchema.optional(),
  artifactType: mediaTypeSchema.optional(),
});

const schema1Schema = z.object({
  schemaVersion: z.literal(1),
  architecture: z.string().max(64).default(''),
  fsLayers: z.array(z.object({ blobSum: digestSchema })).max(10_000),
});

function fail(what: string, reason: string): never {
  throw new ManifestInvalidError(`invalid manifest ${what}: ${reason}`);
}

function zodReason(error: z.ZodError): string {
  const issue = error.issues[0];
  if (!issue) return 'does not match the schema';
  const path = issue.path.length ? issue.path.join('.') : '(root)';
  return `${path}: ${issue.message}`;
}

function parseWith<T>(schema: z.ZodType<T>, json: unknown, what: string): T {
  const result = schema.safeParse(json);
  if (!result.success) fail(what, zodReason(result.error));
  return result.data;
}

/**
 * The digest a registry gives a manifest: sha256 of its bytes, except signed schema1 whose
 * digest covers the payload without the `signatures` (rebuilt from the JWS protected header).
 */
export function manifestDigest(bytes: Buffer, mediaType: string, what = '(schema1)'): Digest {
  const payload = mediaType === MediaType.schema1Signed ? schema1Payload(bytes, what) : bytes;
  return asDigest(`sha256:${createHash('sha256').update(payload).digest('hex')}`);
}

function schema1Payload(bytes: Buffer, what: string): Buffer {
  let json: { signatures?: Array<{ protected?: unknown }> };
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail(what, 'not JSON');
  }
  const protectedHeader = json?.signatures?.[0]?.protected;
  if (typeof protectedHeader !== 'string') fail(what, 'signed schema1 without signatures[0].protected');
  let header: { formatLength?: unknown; formatTail?: unknown };
  try {
    header = JSON.parse(Buffer.from(protectedHeader, 'base64url').toString('utf8'));
  } catch {
    fail(what, 'signature protected header is not base64url JSON');
  }
  const { formatLength, formatTail } = header ?? {};
  if (
    typeof formatLength !== 'number' ||
    !Number.isInteger(formatLength) ||
    formatLength < 0 ||
    formatLength > bytes.length ||
    typeof formatTail !== 'string'
  ) {
    fail(what, 'signature protected header has no valid formatLength/formatTail');
  }
  return Buffer.concat([bytes.subarray(0, formatLength), Buffer.from(formatTail, 'base64url')]);
}

/**
 * Parse untrusted manifest bytes. `contentType` is the type the registry declared; a body
 * `mediaType` that disagrees with it is an error, since clients would see two different things.
 */
export function parseManifest(
  bytes: Buffer,
  contentType: string | undefined,
  what: string,
  maxBytes = DEFAULT_MAX_MANIFEST_BYTES,
): Manifest {
  if (bytes.length > maxBytes) {
    throw new TooLargeError(`invalid manifest ${what}: ${bytes.length} bytes is over the ${maxBytes}-byte limit`);
  }
  let json: unknown;
  try {
    json = JSON.parse(bytes.toString('utf8'));
  } catch {
    fail(what, 'not valid JSON');
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) fail(what, 'not a JSON object');
  const body = json as { mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown };
  const declared = typeof body.mediaType === 'string' ? body.mediaType : undefined;
  if (
    declared &&
    contentType &&
    declared !== contentType &&
    !(SCHEMA1_TYPES.includes(declared) && SCHEMA1_TYPES.includes(contentType))
  ) {
    fail(what, `body mediaType ${JSON.stringify(declared)} differs from Content-Type ${JSON.stringify(contentType)}`);
  }
  // OCI manifests may omit mediaType; fall back to the declared type, then to the shape.
  const mediaType =
    declared ??
    (contentType && isManifestType(contentType) ? contentType : undefined) ??
    (body.schemaVersion === 1
      ? MediaType.schema1Signed
      : Array.isArray(body.manifests)
        ? MediaType.ociIndex
        : MediaType.ociManifest);
  if (!isManifestType(mediaType)) {
    throw new MediaTypeUnsupportedError(
      `unsupported manifest media type ${JSON.stringify(mediaType.slice(0, 100))} for ${what}`,
    );
  }
  if (INDEX_TYPES.includes(mediaType)) {
    const index = parseWith(indexSchema, json, what);
    return { kind: 'index', mediaType, manifests: index.manifests as Descriptor[], ...attachable(index) };
  }
  if (IMAGE_TYPES.includes(mediaType)) {
    const image = parseWith(imageSchema, json, what);
    return {
      kind: 'image',
      mediaType,
      config: image.config as Descriptor,
      layers: image.layers as Descriptor[],
      ...attachable(image),
    };
  }
  const schema1 = parseWith(schema1Schema, json, what);
  return {
    kind: 'schema1',
    mediaType,
    architecture: schema1.architecture,
    blobSums: schema1.fsLayers.map((layer) => layer.blobSum as Digest),
  };
}

function attachable(parsed: { subject?: unknown; artifactType?: string | undefined }): Attachable {
  return {
    ...(parsed.subject ? { subject: parsed.subject as Descriptor } : {}),
    ...(parsed.artifactType ? { artifactType: parsed.artifactType } : {}),
  };
}

/** What the referrers API lists an artifact as: its own artifactType, else its config's media type. */
export function artifactTypeOf(manifest: Manifest): string | undefined {
  if (manifest.kind === 'schema1') return undefined;
  return manifest.artifactType ?? (manifest.kind === 'image' ? manifest.config.mediaType : undefined);
}

/** A blob to mirror: its digest, and its size when the manifest says (schema1 does not). */
export interface BlobRef {
  digest: Digest;
  size: number | undefined;
  mediaType: string | undefined;
}

/** Blobs an image manifest references, each once, skipping layers registries do not serve. */
export function manifestBlobs(manifest: Manifest): BlobRef[] {
  const refs: BlobRef[] = [];
  if (manifest.kind === 'image') {
    for (const d of [manifest.config, ...manifest.layers]) {
      if (!isNonDistributable(d.mediaType)) refs.push({ digest: d.digest, size: d.size, mediaType: d.mediaType });
    }
  } else if (manifest.kind === 'schema1') {
    for (const digest of manifest.blobSums) refs.push({ digest, size: undefined, mediaType: undefined });
  }
  const seen = new Set<string>();
  return refs.filter((ref) => !seen.has(ref.digest) && seen.add(ref.digest));
}
