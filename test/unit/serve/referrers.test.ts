import { request } from 'node:http';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MediaType } from '../../../src/oci/media-types.js';
import { startServer, type RunningServer } from '../../../src/serve/server.js';
import { MetadataFixture, type Described } from '../../helpers/metadata-fixture.js';

const SBOM = 'application/spdx+json';
const SIG = 'application/vnd.dev.cosign.artifact.sig.v1+json';

function get(
  server: RunningServer,
  target: string,
): Promise<{ status: number; headers: Record<string, unknown>; json: any }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port: server.port, path: target }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, json: JSON.parse(Buffer.concat(chunks).toString()) }),
      );
    })
      .on('error', reject)
      .end();
  });
}

describe('serve: the OCI 1.1 referrers API from the metadata', () => {
  let dir: string;
  let server: RunningServer;
  let image: Described;
  let unsigned: Described;
  let sbom: Described;
  let signature: Described;
  let cosign: Described;
  const descriptor = ({ mediaType, digest, size }: Described) => ({ mediaType, digest, size });

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-referrers-'));
    const fixture = new MetadataFixture(path.join(dir, 'metadata'));
    image = fixture.image('demo/app', 'image');
    unsigned = fixture.image('demo/app', 'unsigned');
    sbom = fixture.image('demo/app', 'sbom');
    signature = fixture.image('demo/app', 'signature');
    cosign = fixture.image('demo/app', 'cosign');
    fixture.tag('demo/app', '1.0', image.digest);
    fixture.tag('demo/app', '2.0', unsigned.digest);
    fixture.attach('demo/app', image.digest, {
      digest: sbom.digest,
      kind: 'referrer',
      artifactType: SBOM,
      annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
    });
    fixture.attach('demo/app', image.digest, { digest: signature.digest, kind: 'referrer', artifactType: SIG });
    // A cosign tag is no referrer: it has no subject, and the API does not list it.
    fixture.attach('demo/app', image.digest, {
      digest: cosign.digest,
      kind: 'cosign',
      tag: 'x.sig',
      artifactType: SIG,
    });
    await fixture.publish('0000000001');
    server = await startServer({
      metadataDir: path.join(dir, 'metadata'),
      mirrors: {
        version: 1,
        master: 'https://master.example.org/tree',
        mirrors: [],
        clientIpHeader: undefined,
        clientCountryHeader: undefined,
        urlsPerBlob: 1,
      },
      mode: 'redirect',
      host: '127.0.0.1',
      port: 0,
      log: pino({ level: 'silent' }),
      recheckMs: 0,
    });
  });

  afterAll(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('lists every referrer of an image as descriptors in an OCI index', async () => {
    const reply = await get(server, `/v2/demo/app/referrers/${image.digest}`);
    expect(reply.status).toBe(200);
    expect(reply.headers['content-type']).toBe(MediaType.ociIndex);
    expect(reply.headers['oci-filters-applied']).toBeUndefined();
    expect(reply.json).toEqual({
      schemaVersion: 2,
      mediaType: MediaType.ociIndex,
      manifests: [
        {
          ...descriptor(sbom),
          artifactType: SBOM,
          annotations: { 'org.opencontainers.image.created': '2026-01-01T00:00:00Z' },
        },
        { ...descriptor(signature), artifactType: SIG },
      ],
    });
  });

  it('filters by artifactType and says so', async () => {
    const reply = await get(server, `/v2/demo/app/referrers/${image.digest}?artifactType=${encodeURIComponent(SBOM)}`);
    expect(reply.headers['oci-filters-applied']).toBe('artifactType');
    expect(reply.json.manifests).toEqual([
      { ...descriptor(sbom), artifactType: SBOM, annotations: expect.any(Object) },
    ]);
  });

  it('answers an empty index, not 404, for an image without referrers and for an unknown digest', async () => {
    for (const digest of [unsigned.digest, `sha256:${'0'.repeat(64)}`]) {
      const reply = await get(server, `/v2/demo/app/referrers/${digest}`);
      expect(reply.status).toBe(200);
      expect(reply.json).toEqual({ schemaVersion: 2, mediaType: MediaType.ociIndex, manifests: [] });
    }
  });

  it('refuses a malformed digest and names an unknown repository', async () => {
    expect((await get(server, '/v2/demo/app/referrers/sha256:xyz')).status).toBe(400);
    const unknown = await get(server, `/v2/no/such/referrers/${image.digest}`);
    expect(unknown.status).toBe(404);
    expect(unknown.json.errors[0].code).toBe('NAME_UNKNOWN');
  });
});
