// Issue 15: freshness routing against real nginx mirrors filled by real rsync. Two mirrors at
// generation N; a sync adds a tag (N+1); only mirror A is rsynced, B gets just the new file list
// (a half-copied generation). After one `crawl` round: no new blob goes to B, B keeps its share of
// the old blobs, a stock skopeo copy whose client ranks B first succeeds. After B rsyncs, one
// round brings it back. A stopped B leaves rotation after failuresBeforeOut checks, one good
// check brings it back.
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { stringify } from 'yaml';
import { generateImages } from '../../src/demo/image-generator.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import type { MirrorStateFile } from '../../src/freshness/mirror-state.js';
import type { RepositoryMetadata } from '../../src/publish/metadata-types.js';
import { rankMirrors } from '../../src/serve/mirrors.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { createSkopeo } from '../helpers/skopeo.js';
import { readRepositoryFile } from '../helpers/published.js';

const run = promisify(execFile);
const KiB = 1024;
const REPO = 'stable/app-1';
const CLIENTS = Array.from({ length: 120 }, (_, i) => `10.1.${i >> 8}.${i & 255}`);

describe('freshness routing with a stale mirror', () => {
  let registry: RegistryHandle;
  let work: string;
  let root: string;
  let configFile: string;
  let mirrorsFile: string;
  let master: NginxHandle;
  let a: NginxHandle;
  let b: NginxHandle;
  let serve: ServeProcess;
  const dirA = () => path.join(work, 'www-a');
  const dirB = () => path.join(work, 'www-b');

  const writeConfig = (tags: Record<string, unknown> | undefined) =>
    writeTestConfig({ registryUrl: registry.url, include: [REPO], tags }, path.join(work, 'master'));
  const crawl = async () => {
    const result = await runCli([
      'crawl',
      '--once',
      '--json',
      '--metadata',
      `${root}/metadata`,
      '--mirrors',
      mirrorsFile,
    ]);
    return jsonOf<MirrorStateFile>(result);
  };
  const moduleOf = (state: MirrorStateFile, mirror: NginxHandle) => state.mirrors[mirror.url]!.modules.containers!;
  const repository = async () => (await readRepositoryFile(path.join(root, 'metadata'), REPO)) as RepositoryMetadata;
  const blobsOfTag = (repo: RepositoryMetadata, tag: string) => repo.manifests[repo.tags[tag]!.digest]!.blobs;
  const redirect = async (digest: string, client: string) => {
    const response = await fetch(`${serve.url}/v2/${REPO}/blobs/${digest}`, {
      redirect: 'manual',
      headers: { 'X-Forwarded-For': client },
    });
    expect(response.status).toBe(307);
    return response.headers.get('location')!;
  };

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-freshness-'));
    const spec = fixtureSpec({
      seed: 'freshness',
      repos: 1,
      tagsPerRepo: 2,
      baseBytes: 32 * KiB,
      repoBytes: 8 * KiB,
      tagBytes: 4 * KiB,
    });
    await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    // Generation N has tag 1.0 only.
    ({ file: configFile, root } = await writeConfig({ include: ['^1\\.0$'] }));
    expect((await runCli(['sync', '-c', configFile])).code).toBe(0);
    await mkdir(dirA());
    await mkdir(dirB());
    for (const dir of [dirA(), dirB()]) await run('rsync', ['-aH', `${root}/tree/`, `${dir}/`]);
    master = await startNginx(path.join(root, 'tree'));
    a = await startNginx(dirA());
    b = await startNginx(dirB());
    mirrorsFile = await writeMirrorList(work, {
      master: master.url,
      clientIpHeader: 'X-Forwarded-For',
      mirrors: [
        { url: a.url, weight: 1 },
        { url: b.url, weight: 1 },
      ],
      check: { intervalSeconds: 3600, failuresBeforeOut: 2, timeoutSeconds: 2 },
    });
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await Promise.all([master, a, b].map((n) => n?.stop()));
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('keeps new blobs off the stale mirror only, and brings it back after it rsyncs', async () => {
    const first = await crawl();
    const gen1 = first.currentGeneration!;
    expect(moduleOf(first, a).verifiedGeneration).toBe(gen1);
    expect(moduleOf(first, b).verifiedGeneration).toBe(gen1);

    // Generation N+1 adds 1.1 (and latest). A gets all of it; B only the new file list.
    await writeConfig(undefined);
    expect((await runCli(['sync', '-c', configFile])).code).toBe(0);
    await run('rsync', ['-aH', '--delay-updates', `${root}/tree/`, `${dirA()}/`]);
    await copyFile(
      path.join(root, 'tree/fullfiletimelist-containers'),
      path.join(dirB(), 'fullfiletimelist-containers'),
    );
    const second = await crawl();
    const gen2 = second.currentGeneration!;
    expect(Number(gen2)).toBe(Number(gen1) + 1);
    expect(moduleOf(second, a)).toMatchObject({ verifiedGeneration: gen2, listedGeneration: gen2, inRotation: true });
    // Half-copied: the list claims N+1, the new blobs are missing: not verified at it.
    expect(moduleOf(second, b)).toMatchObject({ verifiedGeneration: gen1, listedGeneration: gen2, inRotation: true });
    expect(moduleOf(second, b).lastError?.message).toMatch(
      /claims generation \d+ but \d+ of \d+ new files are not there/,
    );

    serve = await startServe(['--metadata', `${root}/metadata`, '--mirrors', mirrorsFile, '--reload-interval', '0']);
    const repo = await repository();
    const oldBlobs = blobsOfTag(repo, '1.0');
    const newBlobs = blobsOfTag(repo, '1.1').filter((d) => !oldBlobs.includes(d));
    expect(newBlobs.length).toBeGreaterThan(0);
    for (const digest of newBlobs) expect(repo.blobs[digest]!.firstGeneration).toEqual({ containers: gen2 });
    let newToB = 0;
    let newToA = 0;
    let oldToB = 0;
    for (const client of CLIENTS) {
      for (const digest of newBlobs) {
        const location = await redirect(digest, client);
        if (location.startsWith(b.url)) newToB++;
        if (location.startsWith(a.url)) newToA++;
      }
      if ((await redirect(oldBlobs[0]!, client)).startsWith(b.url)) oldToB++;
    }
    expect(newToB).toBe(0);
    expect(newToA).toBe(CLIENTS.length * newBlobs.length);
    // Stale for new blobs, still right for the old ones: about half the clients keep B.
    expect(oldToB).toBeGreaterThan(CLIENTS.length / 4);
    expect(oldToB).toBeLessThan((CLIENTS.length * 3) / 4);

    const metrics = await (await fetch(`${serve.url}/metrics`)).text();
    expect(metrics).toMatch(new RegExp(`blobmirror_serve_stale_mirror_skips_total\\{mirror="${b.url}"\\} [1-9]`));
    expect(metrics).toMatch(/blobmirror_serve_requests_total\{route="blob",status="307"\} [1-9]/);
    expect((await fetch(`${serve.url}/readyz`)).status).toBe(200);

    // skopeo connects from 127.0.0.1 without the header: a serve whose list weights B so that key
    // ranks B first (checked with serve's own ranking), so B would get every blob without freshness.
    const heavyB = path.join(work, 'mirrors-heavy-b.yaml');
    const list = {
      master: master.url,
      mirrors: [
        { url: a.url, weight: 1 },
        { url: b.url, weight: 1_000_000 },
      ],
    };
    await writeFile(heavyB, stringify({ version: 1, ...list, check: { failuresBeforeOut: 2 } }));
    const ranked = rankMirrors(
      { master: master.url, mirrors: list.mirrors.map((m) => ({ ...m, repositories: ['**'] })) },
      REPO,
      '127.0.0.1',
    );
    expect(ranked[0]!.url).toBe(b.url);
    const skopeo = await createSkopeo();
    const before = (await b.requests()).length;
    const viaHeavy = await startServe(['--metadata', `${root}/metadata`, '--mirrors', heavyB]);
    try {
      const host = viaHeavy.url.replace('http://', '');
      await skopeo.ok([
        'copy',
        '--src-tls-verify=false',
        `docker://${host}/${REPO}:1.1`,
        `oci:${path.join(work, 'copied')}:1.1`,
      ]);
    } finally {
      await viaHeavy.stop();
    }
    // B served only blobs it has (the old ones), every one of them 200.
    const fromB = (await b.requests()).slice(before).filter((r) => r.method === 'GET');
    expect(fromB.length).toBeGreaterThan(0);
    expect(fromB.every((r) => r.status === 200)).toBe(true);
    expect(fromB.some((r) => newBlobs.some((d) => r.path.endsWith(d.slice('sha256:'.length))))).toBe(false);

    // B rsyncs: one round later it gets new-blob traffic again.
    await run('rsync', ['-aH', `${root}/tree/`, `${dirB()}/`]);
    expect(moduleOf(await crawl(), b).verifiedGeneration).toBe(gen2);
    let nowToB = 0;
    for (const client of CLIENTS) if ((await redirect(newBlobs[0]!, client)).startsWith(b.url)) nowToB++;
    expect(nowToB).toBeGreaterThan(CLIENTS.length / 4);
  }, 240_000);

  it('a stopped mirror leaves rotation after failuresBeforeOut failed checks and returns after one good one', async () => {
    const port = b.port;
    await b.stop();
    expect(moduleOf(await crawl(), b)).toMatchObject({ consecutiveFailures: 1, inRotation: true });
    const out = moduleOf(await crawl(), b);
    expect(out).toMatchObject({ consecutiveFailures: 2, inRotation: false });
    expect(out.lastError?.message).toMatch(/GET .*fullfiletimelist-containers/);
    const repo = await repository();
    const digest = blobsOfTag(repo, '1.0')[0]!;
    // serve refreshes its view of the state file in the background: the first requests after a
    // check may still be answered from the previous view.
    await vi.waitFor(
      async () => {
        for (const client of CLIENTS) expect(await redirect(digest, client)).not.toContain(`:${port}/`);
      },
      { timeout: 10_000, interval: 200 },
    );

    b = await startNginx(dirB(), { port });
    expect(moduleOf(await crawl(), b)).toMatchObject({ consecutiveFailures: 0, inRotation: true });
    await vi.waitFor(
      async () => {
        let toB = 0;
        for (const client of CLIENTS) if ((await redirect(digest, client)).startsWith(b.url)) toB++;
        expect(toB).toBeGreaterThan(0);
      },
      { timeout: 10_000, interval: 200 },
    );
  }, 120_000);
});
