// Issue 2 acceptance: auth flows against the real registry, schema1, platform filter, and a bad
// blob in one repository not stopping the others.
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { pushLayout, pushSchema1Image } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { readRepositoryFile } from '../helpers/published.js';

const small = () =>
  fixtureSpec({ repos: 2, tagsPerRepo: 1, baseBytes: 256 * 1024, repoBytes: 32 * 1024, tagBytes: 16 * 1024 });

async function currentRepo(root: string, repo: string) {
  return readRepositoryFile(path.join(root, 'metadata'), repo);
}

describe.each(['token', 'htpasswd'] as const)('%s auth', (mode) => {
  let registry: RegistryHandle;
  let work: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: mode });
    work = await mkdtemp(path.join(tmpdir(), `blobmirror-auth-${mode}-`));
    await generateImages(small(), path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('syncs with the right credentials, catalog included', async () => {
    const { username, password } = registry.auth!;
    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/**'], auth: { username, passwordEnv: 'TEST_REGISTRY_PASSWORD' } },
      path.join(work, 'ok'),
    );
    const tokensBefore = registry.tokenServer?.requests().length ?? 0;
    const result = await runCli(['sync', '-c', config.file, '--json'], { env: { TEST_REGISTRY_PASSWORD: password } });
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf(result).repositories.synced).toBe(2);
    expect(result.stdout + result.stderr).not.toContain(password);
    if (mode === 'token') {
      // One token per scope (catalog + each repository), cached for the whole run.
      const tokens = registry.tokenServer!.requests().slice(tokensBefore);
      expect(tokens.map((t) => t.scopes.join(' ')).sort()).toEqual([
        'registry:catalog:*',
        'repository:stable/app-1:pull',
        'repository:stable/app-2:pull',
      ]);
    }
  });

  it('wrong credentials: one clear line, exit 1 or 2, no stack trace, no secret', async () => {
    const config = await writeTestConfig(
      {
        registryUrl: registry.url,
        include: ['stable/app-1'],
        auth: { username: registry.auth!.username, password: 'wrong-password-123' },
      },
      path.join(work, 'bad'),
    );
    const result = await runCli(['sync', '-c', config.file, '--log-format', 'json']);
    expect([1, 2]).toContain(result.code);
    expect(result.stdout + result.stderr).toMatch(/AUTH_FAILED/);
    expect(result.stdout + result.stderr).toMatch(/refused|answered 401/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout + result.stderr).not.toContain('wrong-password-123');
  });

  it('no credentials at all says how to fix it', async () => {
    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/app-1'] },
      path.join(work, 'none'),
    );
    const result = await runCli(['sync', '-c', config.file]);
    expect([1, 2]).toContain(result.code);
    expect(result.stdout + result.stderr).toMatch(/AUTH_FAILED/);
  });
});

describe('schema1, platform filter and failure isolation', () => {
  let registry: RegistryHandle;
  let work: string;
  let generated: GeneratedImages;

  beforeAll(async () => {
    registry = await startRegistry({ schema1: true });
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-misc-'));
    const spec = fixtureSpec({
      repos: 3,
      tagsPerRepo: 2,
      baseBytes: 256 * 1024,
      repoBytes: 32 * 1024,
      tagBytes: 16 * 1024,
      multiPlatform: true,
    });
    generated = await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
  });
  afterAll(async () => {
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('a signed schema1 tag: manifest digest per the JWS payload, fsLayers blobs pulled', async () => {
    const { digest } = await pushSchema1Image(registry, 'stable/legacy', 'old');
    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/legacy'] },
      path.join(work, 's1'),
    );
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const repo = await currentRepo(config.root, 'stable/legacy');
    expect(repo.tags.old.digest).toBe(digest);
    expect(repo.manifests[digest].mediaType).toBe('application/vnd.docker.distribution.manifest.v1+prettyjws');
    const blobs = Object.keys(repo.blobs);
    expect(blobs.length).toBeGreaterThan(0);
    for (const blob of blobs) {
      const bytes = await readFile(path.join(config.root, 'tree', repo.blobs[blob].path));
      expect(`sha256:${createHash('sha256').update(bytes).digest('hex')}`).toBe(blob);
      expect(repo.blobs[blob].size).toBe(bytes.length);
    }
  });

  it('platforms: [linux/arm64] keeps only arm64 children of an index', async () => {
    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/app-1'], platforms: ['linux/arm64'] },
      path.join(work, 'arm'),
    );
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const repo = await currentRepo(config.root, 'stable/app-1');
    const index = repo.manifests[repo.tags.latest.digest];
    expect(index.manifests.length).toBe(1);
    expect(repo.manifests[index.manifests[0]].platform).toMatchObject({ os: 'linux', architecture: 'arm64' });
    // The amd64 image's own blobs were not fetched.
    expect(Object.keys(repo.blobs).length).toBeLessThan(generated.repositories['stable/app-1']!.blobs.length);
  });

  it('modules per architecture: each module self-contained, shared blobs one inode, paths in metadata', async () => {
    // Two platforms over a per-platform base and one `common` layer both platforms share.
    const layout = path.join(work, 'arch-layout');
    await generateImages(
      {
        seed: 'arch',
        sharedLayers: [
          { name: 'base', size: 64 * 1024, perPlatform: true },
          { name: 'common', size: 32 * 1024 },
        ],
        repositories: [
          { name: 'stable/app-1', layers: ['base', 'common'], tags: [{ tag: '9.0', multiPlatform: true }] },
        ],
      },
      layout,
    );
    await pushLayout(registry, layout);
    const config = await writeTestConfig(
      {
        registryUrl: registry.url,
        include: ['stable/app-1'],
        extra: { modules: { name: 'containers', perArchitecture: true } },
      },
      path.join(work, 'arch'),
    );
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    const tree = path.join(config.root, 'tree');
    expect((await readdir(tree)).sort()).toEqual(['amd64', 'arm64']);
    const metadata = path.join(config.root, 'metadata');
    const index = JSON.parse(await readFile(path.join(metadata, 'current', 'index.json'), 'utf8'));
    expect(index.modules).toEqual({ 'containers-amd64': { root: 'amd64' }, 'containers-arm64': { root: 'arm64' } });
    const repo = await currentRepo(config.root, 'stable/app-1');
    // Every image of an architecture finds all its blobs inside that architecture's module.
    for (const [digest, entry] of Object.entries(repo.manifests) as [
      string,
      { platform?: { architecture: string }; blobs: string[] },
    ][]) {
      const architecture = entry.platform?.architecture;
      if (!architecture) continue;
      for (const blob of entry.blobs) {
        const inModule = repo.blobs[blob].modules[`containers-${architecture}`];
        expect(inModule, `${digest} ${blob}`).toBe(`${architecture}/stable/app-1/_blobs/sha256/${blob.slice(7)}`);
        await expect(stat(path.join(tree, inModule))).resolves.toBeTruthy();
      }
    }
    // The common layer is one inode in both modules.
    const shared = Object.entries(repo.blobs).find(
      ([, b]) => Object.keys((b as { modules: object }).modules).length === 2,
    ) as [string, { modules: Record<string, string> }] | undefined;
    expect(shared).toBeDefined();
    const [a, b] = await Promise.all(Object.values(shared![1].modules).map((p) => stat(path.join(tree, p))));
    expect(a!.ino).toBe(b!.ino);
    // Switching the layout back re-links everything into the single module.
    const flat = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/app-1'] },
      path.join(work, 'arch'),
    );
    const again = await runCli(['sync', '-c', flat.file, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(jsonOf(again).blobs.fetched).toBe(0);
    const flatRepo = await currentRepo(config.root, 'stable/app-1');
    for (const blob of Object.values(flatRepo.blobs) as { path: string; modules: Record<string, string> }[]) {
      expect(Object.keys(blob.modules)).toEqual(['containers']);
      await expect(stat(path.join(tree, blob.path))).resolves.toBeTruthy();
    }
  });

  it('a corrupt blob fails its repository with repo, tag and digest; others publish; nothing unverified in the tree', async () => {
    const all = new Set(Object.values(generated.repositories).flatMap((r) => r.blobs));
    const victimRepo = 'stable/app-2';
    const victim = generated.repositories[victimRepo]!.blobs.find((d) =>
      Object.entries(generated.repositories).every(([name, r]) => name === victimRepo || !r.blobs.includes(d)),
    )!;
    expect(all.has(victim)).toBe(true);
    const data = path.join(
      registry.dataDir,
      'docker/registry/v2/blobs/sha256',
      victim.slice(7, 9),
      victim.slice(7),
      'data',
    );
    const bytes = await readFile(data);
    bytes[Math.floor(bytes.length / 2)]! ^= 0xff;
    await writeFile(data, bytes);

    const config = await writeTestConfig(
      { registryUrl: registry.url, include: ['stable/app-*'] },
      path.join(work, 'corrupt'),
    );
    const result = await runCli(['sync', '-c', config.file, '--json', '--log-format', 'json']);
    expect(result.code).toBe(1);
    const summary = jsonOf(result);
    expect(summary.result).toBe('partial');
    expect(summary.repositories).toMatchObject({ selected: 3, failed: 1, synced: 2 });
    expect(summary.failures).toContainEqual(
      expect.objectContaining({
        repository: victimRepo,
        digest: victim,
        code: 'DIGEST_MISMATCH',
        tag: expect.any(String),
      }),
    );
    // The other repositories are published; the bad blob is nowhere in the tree or store.
    await expect(currentRepo(config.root, 'stable/app-1')).resolves.toBeTruthy();
    await expect(currentRepo(config.root, 'stable/app-3')).resolves.toBeTruthy();
    const treeFiles = await readdir(path.join(config.root, 'tree'), { recursive: true });
    expect(treeFiles.some((f) => String(f).endsWith(victim.slice(7)))).toBe(false);
    await expect(
      stat(path.join(config.root, 'state/objects/sha256', victim.slice(7, 9), victim.slice(7))),
    ).rejects.toMatchObject({ code: 'ENOENT' });
    expect(await readdir(path.join(config.root, 'state/partial'))).toEqual([]);
  });
});
