// Issue 15, per-architecture modules: with `modules.perArchitecture` a mirror may carry only one
// architecture's module. Two nginx mirrors filled by rsync: A carries the whole tree, B (weighted
// far above A) only `containers-arm64`. The checker verifies B per module (arm64 only), serve
// sends arm64 blobs to B and never an amd64 one; a new generation rsynced to A alone keeps its new
// arm64 blobs off B while B keeps the old ones, until B rsyncs its module.
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import type { MirrorStateFile } from '../../src/freshness/mirror-state.js';
import type { RepositoryMetadata } from '../../src/publish/metadata-types.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { pushLayout } from '../helpers/push.js';
import { readRepositoryFile } from '../helpers/published.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';

const run = promisify(execFile);
const KiB = 1024;
const REPO = 'stable/app-1';
const ARM = 'containers-arm64';
const AMD = 'containers-amd64';
const CLIENTS = Array.from({ length: 40 }, (_, i) => `10.2.0.${i}`);

describe('freshness routing per architecture module', () => {
  let registry: RegistryHandle;
  let work: string;
  let root: string;
  let mirrorsFile: string;
  let master: NginxHandle;
  let a: NginxHandle;
  let b: NginxHandle;
  let serve: ServeProcess;
  const dirA = () => path.join(work, 'www-a');
  const dirB = () => path.join(work, 'www-b');
  const sync = async (tags: string[]) => {
    const config = await writeTestConfig(
      {
        registryUrl: registry.url,
        include: [REPO],
        tags: { include: tags },
        extra: { modules: { perArchitecture: true } },
      },
      path.join(work, 'master'),
    );
    root = config.root;
    const result = await runCli(['sync', '-c', config.file]);
    expect(result.code, result.stderr).toBe(0);
  };
  const rsyncA = () => run('rsync', ['-aH', '--delete', `${root}/tree/`, `${dirA()}/`]);
  const rsyncB = () => run('rsync', ['-aH', '--delete', `${root}/tree/arm64/`, `${dirB()}/arm64/`]);
  const crawl = async () =>
    jsonOf<MirrorStateFile>(
      await runCli(['crawl', '--once', '--json', '--metadata', `${root}/metadata`, '--mirrors', mirrorsFile]),
    );
  const repository = async () => (await readRepositoryFile(path.join(root, 'metadata'), REPO)) as RepositoryMetadata;
  /** Blobs of `tag` (an index over two platforms) that live in `module` only. */
  const onlyIn = (repo: RepositoryMetadata, tag: string, module: string) => {
    const top = repo.tags[tag]!.digest;
    const closure = [top, ...repo.manifests[top]!.manifests];
    const blobs = new Set(closure.flatMap((d) => repo.manifests[d]?.blobs ?? []));
    return [...blobs].filter((d) => Object.keys(repo.blobs[d]!.modules).join() === module);
  };
  const redirects = (digest: string) =>
    Promise.all(
      CLIENTS.map(async (client) => {
        const response = await fetch(`${serve.url}/v2/${REPO}/blobs/${digest}`, {
          redirect: 'manual',
          headers: { 'X-Forwarded-For': client },
        });
        expect(response.status).toBe(307);
        return response.headers.get('location')!;
      }),
    );
  const toB = (locations: string[]) => locations.filter((l) => l.startsWith(`${b.url}/`));

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-freshness-modules-'));
    const spec = fixtureSpec({ seed: 'modules', repos: 1, baseBytes: 16 * KiB, repoBytes: 4 * KiB, tagBytes: 2 * KiB });
    spec.repositories[0]!.tags = [
      { tag: '1.0', unique: [2 * KiB], multiPlatform: true },
      { tag: '2.0', unique: [2 * KiB], multiPlatform: true },
    ];
    await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    await sync(['^1\\.0$']);
    await mkdir(dirA());
    await mkdir(path.join(dirB(), 'arm64'), { recursive: true });
    await rsyncA();
    await rsyncB();
    master = await startNginx(path.join(root, 'tree'));
    a = await startNginx(dirA());
    b = await startNginx(dirB());
    mirrorsFile = await writeMirrorList(work, {
      master: master.url,
      clientIpHeader: 'X-Forwarded-For',
      mirrors: [
        { url: a.url, weight: 1 },
        { url: b.url, weight: 1000, modules: [ARM] },
      ],
      check: { intervalSeconds: 3600, timeoutSeconds: 2 },
    });
    serve = await startServe([
      '--metadata',
      path.join(root, 'metadata'),
      '--mirrors',
      mirrorsFile,
      '--reload-interval',
      '0',
    ]);
  }, 120_000);

  afterAll(async () => {
    await serve?.stop();
    await Promise.all([master, a, b].map((n) => n?.stop()));
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('checks the arm64-only mirror per module and sends it arm64 blobs only', async () => {
    const state = await crawl();
    expect(Object.keys(state.mirrors[b.url]!.modules)).toEqual([ARM]);
    expect(Object.keys(state.mirrors[a.url]!.modules).sort()).toEqual([AMD, ARM]);
    const generation1 = state.mirrors[a.url]!.modules[ARM]!.verifiedGeneration;
    expect(state.mirrors[b.url]!.modules[ARM]).toMatchObject({ verifiedGeneration: generation1, inRotation: true });

    const repo = await repository();
    const [arm] = onlyIn(repo, '1.0', ARM);
    const [amd] = onlyIn(repo, '1.0', AMD);
    expect(arm && amd).toBeTruthy();
    // B outweighs A a thousand to one: nearly every client goes there for an arm64 blob, at B's
    // arm64 module path; for an amd64 blob never, whatever the weights say.
    await expect.poll(async () => toB(await redirects(arm!)).length).toBeGreaterThan(CLIENTS.length * 0.9);
    for (const location of toB(await redirects(arm!))) expect(location).toContain(`${b.url}/arm64/${REPO}/_blobs/`);
    expect(toB(await redirects(amd!))).toEqual([]);
  });

  it('a generation rsynced to A only keeps its new arm64 blobs off B, until B rsyncs its module', async () => {
    await sync(['^[12]\\.0$']);
    await rsyncA();
    await crawl();
    const repo = await repository();
    const [newArm] = onlyIn(repo, '2.0', ARM);
    const [oldArm] = onlyIn(repo, '1.0', ARM);
    await expect.poll(async () => toB(await redirects(newArm!)).length).toBe(0);
    expect(toB(await redirects(oldArm!)).length).toBeGreaterThan(CLIENTS.length * 0.9);

    await rsyncB();
    await crawl();
    await expect.poll(async () => toB(await redirects(newArm!)).length).toBeGreaterThan(CLIENTS.length * 0.9);
  });
});
