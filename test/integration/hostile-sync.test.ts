// Issue 14, part B, end to end: ONE sync over one real docker-registry holding every attack class
// next to good repositories, with the fault proxy in front for what a real registry will not do:
//   - a catalog whose second page's `Link rel=next` points to another host (refused): the
//     repositories after it are not listed, and zz/late, published by an earlier sync, must be
//     carried forward unchanged;
//   - hostile/tagless: in the catalog, but its tags list answers 404 (a blob and no manifest);
//   - hostile/too-many-tags: TOO_MANY tags all naming one manifest, over the default
//     tags.maxPerRepository (10,000);
//   - hostile/many-tags: 2,000 tags naming one manifest, under the limit: synced with the process
//     limited to FD_LIMIT open files;
//   - stable/app-2: a blob that sends 1 KiB and then stalls for two minutes.
// The good repositories (stable/app-1, stable/app-3, hostile/many-tags) must be published byte
// for byte as the registry holds them, the rest reported with precise codes, the run must end
// within its deadline and its peak RSS (GNU time's maximum resident set size) stay under 150 MB.
//
// TOO_MANY is 10,500 by default: pushing a tag is one manifest PUT (distribution 2.8 has no
// cheaper way), about 400 a second here, so 100,000 costs about four minutes. Set
// BLOBMIRROR_HOSTILE_TAGS=100000 for the full count of the issue.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layoutBlobPath } from '../../src/oci-layout/layout-format.js';
import { CLI_ARGS, jsonOf, runCli, type CliResult } from '../helpers/cli.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { fetchManifest, tagMany } from '../helpers/push.js';
import { readRepositoryFile } from '../helpers/published.js';
import { RegistryClient } from '../helpers/registry-client.js';
import { useTestWorld } from '../helpers/test-world.js';
import { treeProblems } from '../helpers/tree-check.js';

const KiB = 1024;
const TOO_MANY = Number(process.env.BLOBMIRROR_HOSTILE_TAGS ?? 10_500);
const MANY = 2_000;
const FD_LIMIT = 256;
const DEADLINE_SECONDS = 120;
const RSS_LIMIT_KB = 150 * 1024;
const FOREIGN = 'http://evil.example:9';
const GOOD = ['hostile/many-tags', 'stable/app-1', 'stable/app-3'];

const sha256 = (bytes: Buffer) => `sha256:${createHash('sha256').update(bytes).digest('hex')}`;

/** The built CLI under GNU time (-v: peak RSS) and prlimit (open files), as cron would run it. */
function runMeasured(args: string[], timeFile: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      '/usr/bin/time',
      ['-v', '-o', timeFile, 'prlimit', `--nofile=${FD_LIMIT}`, '--', process.execPath, ...CLI_ARGS, ...args],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), (DEADLINE_SECONDS + 60) * 1000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

describe('one sync over a registry holding every attack class', () => {
  const world = useTestWorld({
    name: 'hostile-sync',
    spec: fixtureSpec({
      seed: 'hostile-sync',
      repos: 3,
      tagsPerRepo: 1,
      baseBytes: 256 * KiB,
      repoBytes: 64 * KiB,
      tagBytes: 8 * KiB,
    }),
    proxySeed: 'hostile-sync',
  });
  let stalled: string;
  let late: unknown;
  let root: string;
  let file: string;
  let timeDir: string;

  beforeAll(
    async () => {
      const started = Date.now();
      await tagMany(world.registry, { repository: 'stable/app-1', reference: '1.0' }, 'hostile/many-tags', [
        ...Array.from({ length: MANY }, (_, i) => `t${i}`),
      ]);
      await tagMany(
        world.registry,
        { repository: 'stable/app-3', reference: '1.0' },
        'hostile/too-many-tags',
        Array.from({ length: TOO_MANY }, (_, i) => `v${i}`),
      );
      await tagMany(world.registry, { repository: 'stable/app-3', reference: '1.0' }, 'zz/late', ['1.0']);
      // A blob and no manifest: the catalog lists it, its tags list answers 404 NAME_UNKNOWN.
      const blob = world.images.repositories['stable/app-1']!.blobs[0]!;
      await new RegistryClient(world.registry).expect(
        201,
        'POST',
        `/v2/hostile/tagless/blobs/uploads/?mount=${blob}&from=stable/app-1`,
      );
      console.log(`pushed ${MANY + TOO_MANY + 1} tag PUTs in ${Date.now() - started} ms`);

      // stable/app-2's biggest blob of its own (well over the 1 KiB sent before the stall).
      const others = new Set(['stable/app-1', 'stable/app-3'].flatMap((r) => world.images.repositories[r]!.blobs));
      const own = world.images.repositories['stable/app-2']!.blobs.filter((d) => !others.has(d));
      const sized = await Promise.all(
        own.map(async (digest) => [digest, (await stat(layoutBlobPath(world.images.dir, digest))).size] as const),
      );
      stalled = sized.sort(([, a], [, b]) => b - a)[0]![0];

      // An earlier sync published zz/late (straight from the registry).
      ({ file, root } = await world.writeConfig('hostile', { include: ['zz/late'] }));
      const first = await runCli(['sync', '-c', file]);
      expect(first.code, first.stderr).toBe(0);
      late = await readRepositoryFile(path.join(root, 'metadata'), 'zz/late');
      timeDir = await mkdtemp(path.join(tmpdir(), 'blobmirror-hostile-sync-time-'));
      // The tag PUTs take about 3 ms each on this machine; 100,000 of them need their own budget.
    },
    120_000 + TOO_MANY * 10,
  );
  afterAll(async () => {
    if (timeDir) await rm(timeDir, { recursive: true, force: true });
  });

  it('publishes the good repositories byte for byte, reports the rest precisely, within its deadline and 150 MB', async () => {
    ({ file } = await world.writeConfig('hostile', {
      registryUrl: world.proxy.url,
      include: ['**'],
      extraSource: { idleTimeoutSeconds: 1, blobDeadlineSeconds: 4, retries: 1, runDeadlineSeconds: DEADLINE_SECONDS },
    }));
    world.proxy.setRules([
      // Three repositories a page, so the catalog has pages to break between.
      {
        method: 'GET',
        path: /^\/v2\/_catalog\?/,
        times: 1,
        fault: { kind: 'forward', path: (p) => p.replace(/n=\d+/, 'n=3') },
      },
      // Page 2's next Link points elsewhere: refused, so zz/late (page 3) is never listed.
      {
        method: 'GET',
        path: /^\/v2\/_catalog\?/,
        times: 1,
        fault: {
          kind: 'edit-headers',
          edit: (h) => ({ ...h, link: `<${FOREIGN}/v2/_catalog?last=stable%2Fapp-3&n=3>; rel="next"` }),
        },
      },
      {
        method: 'GET',
        path: new RegExp(`/v2/stable/app-2/blobs/${stalled}$`),
        fault: { kind: 'stall', afterBytes: KiB, ms: 120_000 },
      },
    ]);
    world.proxy.reset();
    const timeFile = path.join(timeDir, 'time.txt');
    const started = Date.now();
    const result = await runMeasured(['sync', '-c', file, '--json'], timeFile);
    const elapsedMs = Date.now() - started;
    const peakKb = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(await readFile(timeFile, 'utf8'))?.[1]);
    console.log(
      `hostile sync: exit ${result.code} in ${elapsedMs} ms, peak RSS ${Math.round(peakKb / 1024)} MB, ${TOO_MANY} tags`,
    );

    expect(result.code, result.stderr).toBe(1);
    const summary = jsonOf(result);
    expect(elapsedMs).toBeLessThan(DEADLINE_SECONDS * 1000);
    expect(peakKb).toBeGreaterThan(0);
    expect(peakKb).toBeLessThan(RSS_LIMIT_KB);
    expect(result.stderr).not.toMatch(/EMFILE|too many open files/i);

    expect(summary).toMatchObject({
      result: 'partial',
      repositories: { selected: 6, synced: 4, failed: 2, empty: 1, carried: 1 },
      empty: ['hostile/tagless'],
      carried: ['zz/late'],
    });
    const { failures, failureCodes } = summary as { failures: any[]; failureCodes: Record<string, number> };
    expect(Object.keys(failureCodes).sort()).toEqual(['LISTING_INCOMPLETE', 'TIMEOUT', 'TOO_LARGE']);
    expect(failureCodes).toMatchObject({ LISTING_INCOMPLETE: 1, TOO_LARGE: 1 });
    expect(failures).toContainEqual({
      repository: '(catalog)',
      code: 'LISTING_INCOMPLETE',
      message: `catalog from 127.0.0.1:${world.proxy.port} incomplete after 2 page(s) (6 entries listed): REGISTRY_ERROR: registry pagination Link points to another host (${FOREIGN}); refusing to follow it`,
    });
    expect(failures).toContainEqual({
      repository: 'hostile/too-many-tags',
      code: 'TOO_LARGE',
      // Refused while its tags list was read: no total.
      message: `hostile/too-many-tags: more tags selected than tags.maxPerRepository (10000); narrow tags.include/exclude/keepNewest or raise the limit (its published tags are kept)`,
    });
    for (const f of failures.filter((f) => f.code === 'TIMEOUT')) {
      expect(f.repository).toBe('stable/app-2');
      expect(f.message).toContain(`blob ${stalled} of stable/app-2`);
    }
    // Over the limit costs its tags list only: not one HEAD of its tags.
    expect(
      world.proxy.requests.filter((r) => r.method === 'HEAD' && r.path.startsWith('/v2/hostile/too-many-tags/')),
    ).toEqual([]);

    // The good repositories are the registry's bytes; the failed ones are not published.
    const metadata = path.join(root, 'metadata');
    const tree = path.join(root, 'tree');
    const client = new RegistryClient(world.registry);
    for (const name of GOOD) {
      const repo = await readRepositoryFile(metadata, name);
      expect(Object.keys(repo.tags).length, name).toBe(name === 'hostile/many-tags' ? MANY : 2);
      for (const [digest, entry] of Object.entries(repo.manifests as Record<string, { path: string }>)) {
        const remote = await fetchManifest(world.registry, name, digest);
        expect((await readFile(path.join(metadata, entry.path))).equals(remote.bytes), `${name}@${digest}`).toBe(true);
      }
      for (const [digest, entry] of Object.entries(repo.blobs as Record<string, { path: string }>)) {
        const remote = await client.expect(200, 'GET', `/v2/${name}/blobs/${digest}`);
        expect(sha256(remote.body)).toBe(digest);
        expect((await readFile(path.join(tree, entry.path))).equals(remote.body), `${name} blob ${digest}`).toBe(true);
      }
    }
    for (const name of ['stable/app-2', 'hostile/too-many-tags', 'hostile/tagless'])
      await expect(readRepositoryFile(metadata, name), name).rejects.toThrow(/has no repository/);
    // Carried forward: the very file the earlier sync published.
    expect(await readRepositoryFile(metadata, 'zz/late')).toEqual(late);
    expect(await treeProblems(tree)).toEqual([]);
  });
});
