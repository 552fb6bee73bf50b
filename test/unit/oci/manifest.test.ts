import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidInputError } from '../../../src/errors.js';
import type { Digest } from '../../../src/oci/digest.js';
import {
  manifestBlobs,
  manifestDigest,
  parseManifest,
  type ImageManifest,
  type Manifest,
} from '../../../src/oci/manifest.js';
import { MediaType } from '../../../src/oci/media-types.js';

const d = (c: string) => `sha256:${c.repeat(64)}` as Digest;
const sha256 = (bytes: Buffer | string) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const FOREIGN = 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip';

function image(overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociManifest,
    config: { mediaType: MediaType.ociConfig, digest: d('c'), size: 100 },
    layers: [
      { mediaType: MediaType.ociLayerGzip, digest: d('1'), size: 1000 },
      { mediaType: MediaType.ociLayerGzip, digest: d('2'), size: 2000 },
    ],
    ...overrides,
  };
}

function index(overrides: Record<string, unknown> = {}) {
  return {
    schemaVersion: 2,
    mediaType: MediaType.ociIndex,
    manifests: [
      { mediaType: MediaType.ociManifest, digest: d('a'), size: 500, platform: { os: 'linux', architecture: 'amd64' } },
      {
        mediaType: MediaType.ociManifest,
        digest: d('b'),
        size: 501,
        platform: { os: 'linux', architecture: 'arm64', variant: 'v8' },
      },
    ],
    ...overrides,
  };
}

function invalid(run: () => unknown): InvalidInputError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidInputError);
    return error as InvalidInputError;
  }
  throw new Error('expected an InvalidInputError');
}

describe('parseManifest: images and indexes', () => {
  it('parses an OCI image manifest', () => {
    const m = parseManifest(json(image()), MediaType.ociManifest, 'r:t') as ImageManifest;
    expect(m.kind).toBe('image');
    expect(m.mediaType).toBe(MediaType.ociManifest);
    expect(m.config).toEqual({ mediaType: MediaType.ociConfig, digest: d('c'), size: 100 });
    expect(m.layers.map((l) => l.digest)).toEqual([d('1'), d('2')]);
  });

  it('parses a Docker v2 manifest and a Docker manifest list', () => {
    const docker = image({
      mediaType: MediaType.dockerManifest,
      config: { mediaType: MediaType.dockerConfig, digest: d('c'), size: 1 },
      layers: [{ mediaType: MediaType.dockerLayerGzip, digest: d('1'), size: 2 }],
    });
    expect(parseManifest(json(docker), MediaType.dockerManifest, 'r:t')).toMatchObject({
      kind: 'image',
      mediaType: MediaType.dockerManifest,
    });
    const list = index({ mediaType: MediaType.dockerList });
    const parsed = parseManifest(json(list), MediaType.dockerList, 'r:t');
    expect(parsed).toMatchObject({ kind: 'index', mediaType: MediaType.dockerList });
  });

  it('parses an OCI index with platforms, keeping annotations and artifactType', () => {
    const withExtras = index();
    withExtras.manifests.push({
      mediaType: MediaType.ociManifest,
      digest: d('e'),
      size: 10,
      platform: { os: 'unknown', architecture: 'unknown' },
      // @ts-expect-error extra descriptor fields
      annotations: { 'vnd.docker.reference.type': 'attestation-manifest' },
      artifactType: 'application/vnd.in-toto+json',
    });
    const m = parseManifest(json(withExtras), MediaType.ociIndex, 'r:t');
    expect(m.kind).toBe('index');
    if (m.kind !== 'index') return;
    expect(m.manifests.map((x) => x.platform)).toEqual([
      { os: 'linux', architecture: 'amd64' },
      { os: 'linux', architecture: 'arm64', variant: 'v8' },
      { os: 'unknown', architecture: 'unknown' },
    ]);
    expect(m.manifests[2]?.annotations).toEqual({ 'vnd.docker.reference.type': 'attestation-manifest' });
    expect(m.manifests[2]?.artifactType).toBe('application/vnd.in-toto+json');
  });

  it('takes the media type from Content-Type when the body has none, else from the shape', () => {
    const { mediaType: _i, ...bareIndex } = index();
    const { mediaType: _m, ...bareImage } = image();
    expect(parseManifest(json(bareIndex), MediaType.ociIndex, 'r:t')).toMatchObject({
      kind: 'index',
      mediaType: MediaType.ociIndex,
    });
    expect(parseManifest(json(bareIndex), undefined, 'r:t')).toMatchObject({
      kind: 'index',
      mediaType: MediaType.ociIndex,
    });
    expect(parseManifest(json(bareImage), undefined, 'r:t')).toMatchObject({
      kind: 'image',
      mediaType: MediaType.ociManifest,
    });
    expect(parseManifest(json(bareImage), 'application/octet-stream', 'r:t')).toMatchObject({
      kind: 'image',
      mediaType: MediaType.ociManifest,
    });
    expect(parseManifest(json(bareImage), MediaType.dockerManifest, 'r:t')).toMatchObject({
      kind: 'image',
      mediaType: MediaType.dockerManifest,
    });
  });

  it('refuses a body mediaType that disagrees with Content-Type', () => {
    const error = invalid(() => parseManifest(json(image()), MediaType.dockerManifest, 'r:t'));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toBe(
      `invalid manifest r:t: body mediaType "${MediaType.ociManifest}" differs from Content-Type "${MediaType.dockerManifest}"`,
    );
    expect(invalid(() => parseManifest(json(index()), MediaType.ociManifest, 'r:t')).code).toBe('MANIFEST_INVALID');
  });

  it('refuses manifest media types it does not know, in the body or from Content-Type', () => {
    const error = invalid(() =>
      parseManifest(json(image({ mediaType: 'application/vnd.example.manifest.v9+json' })), undefined, 'r:t'),
    );
    expect(error.code).toBe('MEDIA_TYPE_UNSUPPORTED');
    expect(error.message).toContain('"application/vnd.example.manifest.v9+json"');
    // A config media type is a media type, but not a manifest's.
    expect(
      invalid(() => parseManifest(json(image({ mediaType: MediaType.ociConfig })), MediaType.ociConfig, 'r:t')).code,
    ).toBe('MEDIA_TYPE_UNSUPPORTED');
  });

  it('cuts a huge unknown media type short in the message', () => {
    const error = invalid(() =>
      parseManifest(json(image({ mediaType: `x/${'y'.repeat(100_000)}` })), undefined, 'r:t'),
    );
    expect(error.code).toBe('MEDIA_TYPE_UNSUPPORTED');
    expect(error.message.length).toBeLessThan(300);
  });
});

describe('parseManifest: rejected input', () => {
  it('refuses bodies over the size limit before parsing them', () => {
    const bytes = json(image());
    expect(parseManifest(bytes, MediaType.ociManifest, 'r:t', bytes.length).kind).toBe('image');
    const error = invalid(() => parseManifest(bytes, MediaType.ociManifest, 'r:t', bytes.length - 1));
    expect(error.code).toBe('TOO_LARGE');
    expect(error.message).toBe(
      `invalid manifest r:t: ${bytes.length} bytes is over the ${bytes.length - 1}-byte limit`,
    );
    // The default limit is 4 MiB.
    expect(invalid(() => parseManifest(Buffer.alloc(4 * 1024 * 1024 + 1, 0x20), undefined, 'r:t')).code).toBe(
      'TOO_LARGE',
    );
  });

  it.each([
    ['not JSON', '{"schemaVersion": 2,', 'not valid JSON'],
    ['empty', '', 'not valid JSON'],
    ['binary', '\u0000\u0001\u00ff', 'not valid JSON'],
    ['an array', '[]', 'not a JSON object'],
    ['a string', '"manifest"', 'not a JSON object'],
    ['null', 'null', 'not a JSON object'],
    ['a number', '2', 'not a JSON object'],
  ])('refuses a body that is %s', (_what, body, reason) => {
    const error = invalid(() => parseManifest(Buffer.from(body), MediaType.ociManifest, 'r:t'));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toBe(`invalid manifest r:t: ${reason}`);
  });

  const layer = (patch: Record<string, unknown>) =>
    image({ layers: [{ mediaType: MediaType.ociLayerGzip, digest: d('1'), size: 1, ...patch }] });

  it.each([
    ['a negative size', layer({ size: -1 }), 'layers.0.size: size must not be negative'],
    ['a fractional size', layer({ size: 1.5 }), 'layers.0.size: expected an integer size'],
    ['a size as a string', layer({ size: '1' }), 'layers.0.size'],
    ['a size over 2^53', layer({ size: 2 ** 60 }), 'layers.0.size'],
    ['an uppercase digest', layer({ digest: d('A') }), 'layers.0.digest: expected sha256:<64 lowercase hex>'],
    ['a traversal digest', layer({ digest: 'sha256:../../etc/passwd' }), 'layers.0.digest'],
    ['an md5 digest', layer({ digest: `md5:${'a'.repeat(32)}` }), 'layers.0.digest'],
    ['a missing digest', layer({ digest: undefined }), 'layers.0.digest'],
    ['a bad layer media type', layer({ mediaType: 'not a type' }), 'layers.0.mediaType'],
    [
      'a bad config digest',
      image({ config: { mediaType: MediaType.ociConfig, digest: 'sha256:x', size: 1 } }),
      'config.digest',
    ],
    ['no config', image({ config: undefined }), 'config'],
    ['layers that are not an array', image({ layers: {} }), 'layers'],
    ['schemaVersion 3', image({ schemaVersion: 3 }), 'schemaVersion'],
    ['a non-string annotation', layer({ annotations: { a: 1 } }), 'layers.0.annotations.a'],
  ])('refuses an image manifest with %s', (_what, body, reason) => {
    const error = invalid(() => parseManifest(json(body), MediaType.ociManifest, 'r:t'));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain(`invalid manifest r:t: ${reason}`);
  });

  it('refuses an index entry with an invalid digest', () => {
    const bad = index({ manifests: [{ mediaType: MediaType.ociManifest, digest: 'sha256:1234', size: 1 }] });
    expect(invalid(() => parseManifest(json(bad), MediaType.ociIndex, 'r:t')).message).toContain('manifests.0.digest');
  });

  it('copes with deeply nested JSON: ignored where unknown, refused where a value is expected', () => {
    const depth = 100_000;
    const deep = `${'['.repeat(depth)}${']'.repeat(depth)}`;
    const body = JSON.stringify(image()).replace(/}$/, `,"x-extension":${deep}}`);
    expect(parseManifest(Buffer.from(body), MediaType.ociManifest, 'r:t').kind).toBe('image');
    const inConfig = JSON.stringify(image()).replace(/"size":100/, `"size":${deep}`);
    expect(invalid(() => parseManifest(Buffer.from(inConfig), MediaType.ociManifest, 'r:t')).message).toContain(
      'config.size',
    );
    expect(invalid(() => parseManifest(Buffer.from(deep), MediaType.ociManifest, 'r:t')).message).toContain(
      'not a JSON object',
    );
  });
});

describe('manifestBlobs', () => {
  it('lists config then layers, each digest once', () => {
    const m = parseManifest(
      json(
        image({
          layers: [
            { mediaType: MediaType.ociLayerGzip, digest: d('1'), size: 1 },
            { mediaType: MediaType.ociLayerGzip, digest: d('2'), size: 2 },
            { mediaType: MediaType.ociLayerGzip, digest: d('1'), size: 1 },
            { mediaType: MediaType.ociLayerGzip, digest: d('c'), size: 100 },
          ],
        }),
      ),
      MediaType.ociManifest,
      'r:t',
    );
    expect(manifestBlobs(m)).toEqual([
      { digest: d('c'), size: 100, mediaType: MediaType.ociConfig },
      { digest: d('1'), size: 1, mediaType: MediaType.ociLayerGzip },
      { digest: d('2'), size: 2, mediaType: MediaType.ociLayerGzip },
    ]);
  });

  it('skips foreign (non-distributable) layers', () => {
    const m = parseManifest(
      json(
        image({
          layers: [
            { mediaType: FOREIGN, digest: d('f'), size: 5, urls: ['https://go.microsoft.com/fwlink/?linkid=0'] },
            { mediaType: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip', digest: d('e'), size: 6 },
            { mediaType: MediaType.ociLayerGzip, digest: d('1'), size: 1 },
          ],
        }),
      ),
      MediaType.ociManifest,
      'r:t',
    );
    expect(manifestBlobs(m).map((b) => b.digest)).toEqual([d('c'), d('1')]);
  });

  it('names schema1 blobs by blobSum, once each, with no size', () => {
    const m = parseManifest(
      json({
        schemaVersion: 1,
        name: 'r',
        tag: 't',
        architecture: 'amd64',
        fsLayers: [{ blobSum: d('1') }, { blobSum: d('2') }, { blobSum: d('1') }],
      }),
      MediaType.schema1,
      'r:t',
    );
    expect(manifestBlobs(m)).toEqual([
      { digest: d('1'), size: undefined, mediaType: undefined },
      { digest: d('2'), size: undefined, mediaType: undefined },
    ]);
  });

  it('has no blobs for an index', () => {
    expect(manifestBlobs(parseManifest(json(index()), MediaType.ociIndex, 'r:t'))).toEqual([]);
  });
});

// Signed schema1 as libtrust writes it: the payload's final `}` (and the whitespace before it) is
// cut off, `"signatures": [...]` is spliced in, and the protected header records where the cut was
// (formatLength) and what was cut (formatTail, base64url). The digest covers the payload only.
function signSchema1(payload: string, time = '2024-01-02T03:04:05Z'): string {
  const close = payload.search(/\s*}\s*$/);
  const formatLength = close;
  const formatTail = payload.slice(formatLength);
  const protectedHeader = Buffer.from(
    JSON.stringify({ formatLength, formatTail: Buffer.from(formatTail).toString('base64url'), time }),
  ).toString('base64url');
  const signatures = [
    {
      header: { jwk: { crv: 'P-256', kid: 'ABCD:EFGH', kty: 'EC', x: 'eA', y: 'eQ' }, alg: 'ES256' },
      signature: 'c2lnbmF0dXJl',
      protected: protectedHeader,
    },
  ];
  const indented = JSON.stringify(signatures, null, 3).replace(/\n/g, '\n   ');
  return `${payload.slice(0, formatLength)},\n   "signatures": ${indented}${formatTail}`;
}

const schema1Payload = JSON.stringify(
  {
    schemaVersion: 1,
    name: 'library/old',
    tag: 'latest',
    architecture: 'amd64',
    fsLayers: [{ blobSum: d('1') }, { blobSum: d('2') }],
    history: [{ v1Compatibility: '{"id":"x"}' }, { v1Compatibility: '{"id":"y"}' }],
  },
  null,
  3,
);

describe('schema1', () => {
  it('parses signed schema1 and digests the payload without the signatures', () => {
    const signed = Buffer.from(signSchema1(schema1Payload));
    expect(JSON.parse(signed.toString()).signatures).toHaveLength(1);
    const m = parseManifest(signed, MediaType.schema1Signed, 'r:t');
    expect(m).toEqual({
      kind: 'schema1',
      mediaType: MediaType.schema1Signed,
      architecture: 'amd64',
      blobSums: [d('1'), d('2')],
    });
    expect(manifestDigest(signed, MediaType.schema1Signed)).toBe(sha256(schema1Payload));
    expect(manifestDigest(signed, MediaType.schema1Signed)).not.toBe(sha256(signed));
  });

  it('gives the same digest whatever the signature, as registries do', () => {
    const a = Buffer.from(signSchema1(schema1Payload, '2020-01-01T00:00:00Z'));
    const b = Buffer.from(signSchema1(schema1Payload, '2030-12-31T23:59:59Z'));
    expect(a.equals(b)).toBe(false);
    expect(manifestDigest(a, MediaType.schema1Signed)).toBe(manifestDigest(b, MediaType.schema1Signed));
  });

  it('digests unsigned schema1 and every other type over all bytes', () => {
    const unsigned = Buffer.from(schema1Payload);
    expect(manifestDigest(unsigned, MediaType.schema1)).toBe(sha256(unsigned));
    const signed = Buffer.from(signSchema1(schema1Payload));
    expect(manifestDigest(signed, MediaType.ociManifest)).toBe(sha256(signed));
  });

  it('accepts signed and unsigned schema1 types interchangeably between body and Content-Type', () => {
    const body = JSON.parse(schema1Payload);
    body.mediaType = MediaType.schema1;
    expect(parseManifest(json(body), MediaType.schema1Signed, 'r:t')).toMatchObject({
      kind: 'schema1',
      mediaType: MediaType.schema1,
    });
  });

  it('infers signed schema1 from schemaVersion 1 when nothing declares a type', () => {
    expect(parseManifest(Buffer.from(schema1Payload), undefined, 'r:t')).toMatchObject({
      kind: 'schema1',
      mediaType: MediaType.schema1Signed,
    });
    expect(parseManifest(Buffer.from(schema1Payload), 'application/json', 'r:t')).toMatchObject({
      kind: 'schema1',
      mediaType: MediaType.schema1Signed,
    });
  });

  it('refuses schema1 with an invalid blobSum', () => {
    const body = JSON.parse(schema1Payload);
    body.fsLayers[1].blobSum = 'sha256:../../x';
    expect(invalid(() => parseManifest(json(body), MediaType.schema1, 'r:t')).message).toContain('fsLayers.1.blobSum');
  });

  const signedWith = (protectedHeader: unknown) => {
    const body = JSON.parse(schema1Payload);
    body.signatures = [{ signature: 'x', protected: protectedHeader }];
    return json(body);
  };
  const header = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

  it.each([
    ['no signatures', Buffer.from(schema1Payload), 'signed schema1 without signatures[0].protected'],
    ['a protected header that is not a string', signedWith(7), 'signed schema1 without signatures[0].protected'],
    ['a protected header that is not base64url JSON', signedWith('%%%'), 'not base64url JSON'],
    ['no formatLength', signedWith(header({ formatTail: 'Cn0' })), 'no valid formatLength/formatTail'],
    [
      'a negative formatLength',
      signedWith(header({ formatLength: -1, formatTail: 'Cn0' })),
      'no valid formatLength/formatTail',
    ],
    [
      'a fractional formatLength',
      signedWith(header({ formatLength: 1.5, formatTail: 'Cn0' })),
      'no valid formatLength/formatTail',
    ],
    [
      'a formatLength past the end',
      signedWith(header({ formatLength: 1e9, formatTail: 'Cn0' })),
      'no valid formatLength/formatTail',
    ],
    ['no formatTail', signedWith(header({ formatLength: 3 })), 'no valid formatLength/formatTail'],
    ['a protected header that is JSON null', signedWith(header(null)), 'no valid formatLength/formatTail'],
    ['a body that is JSON null', Buffer.from('null'), 'signed schema1 without signatures[0].protected'],
    ['a body that is not JSON', Buffer.from('{'), 'not JSON'],
  ])('refuses to digest signed schema1 with %s', (_what, bytes, reason) => {
    const error = invalid(() => manifestDigest(bytes, MediaType.schema1Signed));
    expect(error.code).toBe('MANIFEST_INVALID');
    expect(error.message).toContain(reason);
  });
});

describe('manifest properties', () => {
  const contentTypes = fc.constantFrom(undefined, 'application/json', ...Object.values(MediaType));
  const onlyInvalidInput = (run: () => unknown) => {
    try {
      run();
    } catch (error) {
      if (!(error instanceof InvalidInputError)) throw error;
    }
  };

  it('parseManifest throws nothing but InvalidInputError for arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), contentTypes, (bytes, contentType) => {
        onlyInvalidInput(() => parseManifest(Buffer.from(bytes), contentType, 'r:t', 200));
      }),
      { numRuns: 500 },
    );
  });

  it('parseManifest throws nothing but InvalidInputError for arbitrary JSON', () => {
    fc.assert(
      fc.property(fc.jsonValue(), contentTypes, (value, contentType) => {
        onlyInvalidInput(() => parseManifest(json(value), contentType, 'r:t'));
      }),
      { numRuns: 500 },
    );
  });

  it('parseManifest throws nothing but InvalidInputError for manifests with arbitrary fields replaced', () => {
    const field = fc.constantFrom(
      'schemaVersion',
      'mediaType',
      'config',
      'layers',
      'manifests',
      'fsLayers',
      'architecture',
    );
    const base = fc.constantFrom<Record<string, unknown>>(image(), index(), JSON.parse(schema1Payload));
    const descriptorPatch = fc.record(
      {
        mediaType: fc.jsonValue(),
        digest: fc.jsonValue(),
        size: fc.jsonValue(),
        platform: fc.jsonValue(),
        urls: fc.jsonValue(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(
        base,
        field,
        fc.jsonValue(),
        descriptorPatch,
        contentTypes,
        (body, key, value, patch, contentType) => {
          const mutated = structuredClone(body);
          mutated[key] = value;
          if (Array.isArray(mutated.layers) && mutated.layers.length)
            mutated.layers[0] = { ...mutated.layers[0], ...patch };
          if (Array.isArray(mutated.manifests) && mutated.manifests.length)
            mutated.manifests[0] = { ...mutated.manifests[0], ...patch };
          let parsed: Manifest | undefined;
          onlyInvalidInput(() => (parsed = parseManifest(json(mutated), contentType, 'r:t')));
          // Whatever was accepted has only valid digests, so blob paths built from it are safe.
          if (parsed)
            for (const blob of manifestBlobs(parsed))
              expect(blob.digest).toMatch(/^sha(?:256:[0-9a-f]{64}|512:[0-9a-f]{128})$/);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('manifestDigest of signed schema1 throws nothing but InvalidInputError for arbitrary JSON and headers', () => {
    const protectedArb = fc.oneof(
      fc.string(),
      fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
    );
    const body = fc.oneof(
      fc.jsonValue(),
      protectedArb.map((p) => ({ schemaVersion: 1, signatures: [{ protected: p }] })),
      fc.record({ formatLength: fc.jsonValue(), formatTail: fc.jsonValue() }, { requiredKeys: [] }).map((h) => ({
        signatures: [{ protected: Buffer.from(JSON.stringify(h)).toString('base64url') }],
      })),
    );
    fc.assert(
      fc.property(body, (value) => {
        onlyInvalidInput(() => manifestDigest(json(value), MediaType.schema1Signed));
      }),
      { numRuns: 500 },
    );
  });
});
