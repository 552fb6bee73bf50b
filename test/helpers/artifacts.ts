import { createHash, sign, type KeyObject } from 'node:crypto';
import type { Digest } from '../../src/oci/digest.js';
import { MediaType } from '../../src/oci/media-types.js';

// Attached artifacts as their producers write them: a cosign signature manifest (what
// `skopeo copy --sign-by-sigstore-private-key` and `cosign sign` push under sha256-<hex>.sig),
// OCI 1.1 artifacts with a subject, and the fallback-tag index oras maintains on registries
// without the referrers API. Each comes with its blobs, ready for a FakeSource or a push.

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Artifact {
  descriptor: Descriptor;
  bytes: Buffer;
  blobs: Map<Digest, Buffer>;
}

export const SIMPLE_SIGNING = 'application/vnd.dev.cosign.simplesigning.v1+json';
export const SIGNATURE_ANNOTATION = 'dev.cosignproject.cosign/signature';
export const EMPTY = { mediaType: 'application/vnd.oci.empty.v1+json', bytes: Buffer.from('{}') };

export const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}` as Digest;

function describe(mediaType: string, bytes: Buffer, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType, digest: sha256(bytes), size: bytes.length, ...extra };
}

function manifest(body: Record<string, unknown>, blobs: Buffer[], extra: Partial<Descriptor> = {}): Artifact {
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, ...body }));
  return {
    descriptor: describe(body.mediaType as string, bytes, extra),
    bytes,
    blobs: new Map(blobs.map((b) => [sha256(b), b])),
  };
}

/** The simple-signing payload a sigstore signature signs: which image, under which name. */
export function signingPayload(dockerReference: string, digest: Digest): Buffer {
  return Buffer.from(
    JSON.stringify({
      critical: {
        identity: { 'docker-reference': dockerReference },
        image: { 'docker-manifest-digest': digest },
        type: 'cosign container image signature',
      },
      optional: null,
    }),
  );
}

/** A `.sig` manifest with one signature layer per image reference given (ECDSA P-256, SHA-256). */
export function cosignSignature(
  key: KeyObject,
  signatures: Array<{ dockerReference: string; digest: Digest }>,
): Artifact {
  const payloads = signatures.map((s) => signingPayload(s.dockerReference, s.digest));
  const config = Buffer.from(
    JSON.stringify({
      architecture: '',
      os: '',
      config: {},
      rootfs: { type: 'layers', diff_ids: payloads.map(sha256) },
    }),
  );
  const layers = payloads.map((payload) =>
    describe(SIMPLE_SIGNING, payload, {
      annotations: { [SIGNATURE_ANNOTATION]: sign('sha256', payload, key).toString('base64') },
    }),
  );
  return manifest({ mediaType: MediaType.ociManifest, config: describe(MediaType.ociConfig, config), layers }, [
    config,
    ...payloads,
  ]);
}

/** An OCI 1.1 artifact (empty config) attached to `subject`. */
export function referrer(
  subject: Descriptor,
  artifactType: string,
  content: Buffer,
  annotations: Record<string, string> = {},
): Artifact {
  const layer = describe(artifactType, content);
  return manifest(
    {
      mediaType: MediaType.ociManifest,
      artifactType,
      config: describe(EMPTY.mediaType, EMPTY.bytes),
      layers: [layer],
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
      annotations,
    },
    [EMPTY.bytes, content],
    { artifactType, annotations },
  );
}

/** The index under the fallback tag sha256-<hex> listing an image's referrers. */
export function fallbackIndex(referrers: Artifact[]): Artifact {
  return manifest({ mediaType: MediaType.ociIndex, manifests: referrers.map((r) => r.descriptor) }, []);
}
