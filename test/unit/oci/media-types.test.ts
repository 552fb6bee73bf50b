import { describe, expect, it } from 'vitest';
import {
  MANIFEST_TYPES,
  MediaType,
  bareMediaType,
  isManifestType,
  isMediaType,
  isNonDistributable,
} from '../../../src/oci/media-types.js';

describe('media types', () => {
  it('lists every manifest type once, indexes first (the Accept order)', () => {
    expect(new Set(MANIFEST_TYPES).size).toBe(MANIFEST_TYPES.length);
    expect(MANIFEST_TYPES.slice(0, 2)).toEqual([MediaType.ociIndex, MediaType.dockerList]);
    for (const type of [MediaType.ociManifest, MediaType.dockerManifest, MediaType.schema1Signed, MediaType.schema1])
      expect(isManifestType(type)).toBe(true);
  });

  it('does not treat config or layer types as manifests', () => {
    for (const type of [
      MediaType.ociConfig,
      MediaType.ociLayerGzip,
      MediaType.dockerConfig,
      MediaType.dockerLayerGzip,
      'application/json',
    ]) {
      expect(isManifestType(type)).toBe(false);
    }
    expect(isManifestType(`${MediaType.ociManifest}; charset=utf-8`)).toBe(false);
  });

  it.each([MediaType.ociLayerGzip, 'application/vnd.cncf.helm.chart.content.v1.tar+gzip', 'text/plain', 'a/b'])(
    'accepts the media type %j',
    (type) => {
      expect(isMediaType(type)).toBe(true);
    },
  );

  it.each([
    '',
    'application',
    'application/',
    '/json',
    'application/json; charset=utf-8',
    'a/b/c',
    'application/js on',
    'application/json\n',
    `a/${'b'.repeat(200)}`,
    7,
    undefined,
  ])('rejects the media type %j', (type) => {
    expect(isMediaType(type)).toBe(false);
  });

  it('knows the layers registries do not serve', () => {
    expect(isNonDistributable('application/vnd.docker.image.rootfs.foreign.diff.tar.gzip')).toBe(true);
    expect(isNonDistributable('application/vnd.oci.image.layer.nondistributable.v1.tar+gzip')).toBe(true);
    expect(isNonDistributable(MediaType.ociLayerGzip)).toBe(false);
    expect(isNonDistributable(MediaType.dockerLayerGzip)).toBe(false);
  });

  it('strips Content-Type parameters and case', () => {
    expect(bareMediaType('Application/VND.OCI.Image.Index.v1+JSON; charset=utf-8')).toBe(MediaType.ociIndex);
    expect(bareMediaType(` ${MediaType.ociManifest} `)).toBe(MediaType.ociManifest);
    expect(bareMediaType(undefined)).toBeUndefined();
    expect(bareMediaType('')).toBeUndefined();
    expect(bareMediaType('; charset=utf-8')).toBeUndefined();
  });
});
