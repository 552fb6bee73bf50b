// Request rates `blobmirror serve` sustains on loopback, measured with autocannon against the
// built CLI in its own process (the access log on, as in production). In the suite each run is
// short and only guards against collapse; for the figures in docs/serving.md run
//   SERVE_LOAD_SECONDS=10 npx vitest run test/integration/serve-load.test.ts
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Digest } from '../../src/oci/digest.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { MetadataFixture, type Described } from '../helpers/metadata-fixture.js';
import { measureServe, type LoadResult } from '../helpers/serve-load.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const SECONDS = Number(process.env.SERVE_LOAD_SECONDS ?? 2);
const CONNECTIONS = 32;
const AMD64 = { os: 'linux', architecture: 'amd64' };
const ARM64 = { os: 'linux', architecture: 'arm64', variant: 'v8' };

interface Rate extends LoadResult {
  scenario: string;
}

const measure = async (scenario: string, url: string, expectedStatus: 200 | 307): Promise<Rate> => ({
  scenario,
  ...(await measureServe(url, expectedStatus, { connections: CONNECTIONS, seconds: SECONDS })),
});

describe('serve request rates on loopback', () => {
  let work: string;
  const servers: ServeProcess[] = [];
  let image: Described & { blobs: Digest[] };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-serve-load-'));
    const fixture = new MetadataFixture(path.join(work, 'metadata'));
    image = fixture.image('fedora/toolbox', 'base', { layers: 8 });
    const amd = fixture.image('fedora/toolbox', 'amd', { platform: AMD64, layers: 8 });
    const arm = fixture.image('fedora/toolbox', 'arm', { platform: ARM64, layers: 8 });
    fixture.tag('fedora/toolbox', '39', image.digest);
    fixture.tag(
      'fedora/toolbox',
      'latest',
      fixture.index('fedora/toolbox', [
        { ...amd, platform: AMD64 },
        { ...arm, platform: ARM64 },
      ]).digest,
    );
    // A realistic catalog around it: 200 repositories of 20 tags each.
    for (let r = 0; r < 200; r++) {
      const name = `stable/app-${r}`;
      const digest = fixture.image(name, name).digest;
      for (let t = 0; t < 20; t++) fixture.tag(name, `1.${t}`, digest);
    }
    await fixture.publish('0000000001');
    const mirrors = await writeMirrorList(work, {
      master: 'https://master.example.org/containers',
      mirrors: Array.from({ length: 20 }, (_, m) => ({
        url: `https://mirror-${m}.example.net/containers`,
        weight: 1 + (m % 5),
        repositories: [m % 2 ? 'fedora/**' : '**'],
      })),
    });
    const common = ['--metadata', path.join(work, 'metadata'), '--mirrors', mirrors];
    servers.push(await startServe([...common, '--access-log', path.join(work, 'access.log')]));
    servers.push(await startServe([...common, '--mode', 'urls', '--access-log', path.join(work, 'access-urls.log')]));
  });

  afterAll(async () => {
    for (const server of servers) await server.stop();
    await rm(work, { recursive: true, force: true });
  });

  it(`sustains manifest GETs and blob redirects (${SECONDS} s per scenario, ${CONNECTIONS} connections)`, async () => {
    const [redirect, urls] = servers as [ServeProcess, ServeProcess];
    const base = `${redirect.url}/v2/fedora/toolbox`;
    const rates = [
      await measure('manifest GET by tag', `${base}/manifests/39`, 200),
      await measure('manifest GET by digest', `${base}/manifests/${image.digest}`, 200),
      await measure('index GET by tag', `${base}/manifests/latest`, 200),
      await measure('blob GET -> 307 redirect', `${base}/blobs/${image.blobs[1]}`, 307),
      await measure('tags/list (20 tags)', `${redirect.url}/v2/stable/app-7/tags/list`, 200),
      await measure('urls mode: manifest GET by tag', `${urls.url}/v2/fedora/toolbox/manifests/39`, 200),
    ];
    console.table(rates);
    for (const rate of rates) {
      expect(rate.unexpected, rate.scenario).toBe(0);
      // A floor far below the measured rates: catches a collapse, not a slow CI machine.
      expect(rate.requestsPerSecond, rate.scenario).toBeGreaterThan(200);
    }
  });
});
