import { createHash } from 'node:crypto';
import pLimit from 'p-limit';
import { MediaType } from '../src/oci/media-types.js';
import { expectStatus, keepAliveAgent } from './scale-http.js';

// The scale fixture (issue 17): N repositories x T tags, every tag its own manifest (an
// annotation names repository and tag), all on two shared blobs (a config and a layer). Pushed
// through the registry API directly, as a build system would: the blobs uploaded once, mounted
// into every other repository, then one manifest PUT per tag, over keep-alive connections.

export interface ScaleSize {
  repositories: number;
  tagsPerRepository: number;
}

/** Requests in flight while pushing: enough to keep docker-registry's goroutines busy. */
const PUSH_CONCURRENCY = 16;

export const scaleRepository = (n: number) => `stable/app-${String(n).padStart(5, '0')}`;
export const scaleTag = (t: number) => `1.${t}`;

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** A small gzip-typed layer (its bytes need not be a real tarball: nothing unpacks it). */
const LAYER = Buffer.from('blobmirror scale fixture: the one shared layer\n'.repeat(32));
const CONFIG = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers' } }));

export function scaleManifest(repository: string, tag: string): Buffer {
  const descriptor = (mediaType: string, bytes: Buffer) => ({ mediaType, digest: sha256(bytes), size: bytes.length });
  return Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: MediaType.ociManifest,
      config: descriptor(MediaType.ociConfig, CONFIG),
      layers: [descriptor(MediaType.ociLayerGzip, LAYER)],
      annotations: { 'org.example.blobmirror.scale': `${repository}:${tag}` },
    }),
  );
}

/** Push the fixture; `progress` hears every thousandth repository. Returns the repository names. */
export async function pushScaleFixture(
  registryUrl: string,
  size: ScaleSize,
  progress: (line: string) => void,
): Promise<string[]> {
  const agent = keepAliveAgent(PUSH_CONCURRENCY);
  const limit = pLimit(PUSH_CONCURRENCY);
  const repositories = Array.from({ length: size.repositories }, (_, i) => scaleRepository(i + 1));
  const [first] = repositories;
  try {
    for (const blob of [CONFIG, LAYER]) {
      const started = await expectStatus(202, agent, 'POST', `${registryUrl}/v2/${first}/blobs/uploads/`);
      const location = new URL(String(started.headers.location), registryUrl);
      location.searchParams.set('digest', sha256(blob));
      await expectStatus(201, agent, 'PUT', location.href, {
        headers: { 'content-type': 'application/octet-stream', 'content-length': String(blob.length) },
        body: blob,
      });
    }
    let done = 0;
    await Promise.all(
      repositories.map((repository) =>
        limit(async () => {
          if (repository !== first)
            for (const blob of [CONFIG, LAYER])
              await expectStatus(
                201,
                agent,
                'POST',
                `${registryUrl}/v2/${repository}/blobs/uploads/?mount=${sha256(blob)}&from=${first}`,
              );
          for (let t = 0; t < size.tagsPerRepository; t++) {
            const body = scaleManifest(repository, scaleTag(t));
            await expectStatus(201, agent, 'PUT', `${registryUrl}/v2/${repository}/manifests/${scaleTag(t)}`, {
              headers: { 'content-type': MediaType.ociManifest, 'content-length': String(body.length) },
              body,
            });
          }
          if (++done % 1000 === 0) progress(`pushed ${done}/${repositories.length} repositories`);
        }),
      ),
    );
    return repositories;
  } finally {
    agent.destroy();
  }
}
