// Issue 20 acceptance: the status page in serve, in Debian's chromium, on a tree synced for real
// from docker-registry; its pull line pulled with skopeo through serve and an nginx mirror.
// UPDATE_SCREENSHOTS=1 also writes docs/screenshots/*.png.
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatBytes } from '../../src/format.js';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { emptyModuleState, writeMirrorState } from '../../src/freshness/mirror-state.js';
import { launchBrowser, type Browser } from '../helpers/browser.js';
import { PACKAGE_ROOT, jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { fetchManifest, pushLayout, pushManifest } from '../helpers/push.js';
import { cosignSignature, fallbackIndex, referrer } from '../helpers/artifacts.js';
import { generateKeyPairSync } from 'node:crypto';
import type { Digest } from '../../src/oci/digest.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { createSkopeo, type Skopeo } from '../helpers/skopeo.js';

const KiB = 1024;
const MARKUP = '<img src=x onerror="document.title=1">maintenance <b>window</b>';
const SCREENSHOTS = process.env.UPDATE_SCREENSHOTS === '1' ? path.join(PACKAGE_ROOT, 'docs/screenshots') : undefined;

interface StatusJson {
  generation: { id: string; bytes: { unique: number; referenced: number; dedupeRatio: number } };
}

describe('status page in chromium against serve on a synced tree', () => {
  let work: string;
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let generated: GeneratedImages;
  let nginx: NginxHandle;
  let serve: ServeProcess;
  let browser: Browser;
  let noScript: Browser;
  let skopeo: Skopeo;
  let configDir: string;
  let status: StatusJson;
  let metadataDir: string;
  let toolbox: { mediaType: string; digest: Digest; size: number };
  let attached: { signature: Digest; sbom: Digest };

  const shot = async (page: Page, name: string) => {
    if (SCREENSHOTS) await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: true });
  };
  const open = async (target: string, via: Browser = browser) => {
    const page = await via.page();
    const response = await page.goto(`${serve.url}${target}`);
    expect(response?.status(), target).toBe(200);
    return page;
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-status-page-'));
    registry = await startRegistry();
    const spec = fixtureSpec({
      repos: 3,
      tagsPerRepo: 3,
      baseBytes: 512 * KiB,
      repoBytes: 64 * KiB,
      multiPlatform: true,
    });
    spec.repositories.push({ name: 'tools/toolbox', layers: ['base'], unique: [32 * KiB], tags: [{ tag: '39' }] });
    generated = await generateImages(spec, path.join(work, 'layout'));
    await pushLayout(registry, path.join(work, 'layout'));
    // tools/toolbox:39 is signed (a cosign tag) and has an SBOM (an OCI 1.1 referrer, found
    // through its fallback tag on docker-distribution).
    const got = await fetchManifest(registry, 'tools/toolbox', '39');
    toolbox = { mediaType: got.mediaType!, digest: got.digest as Digest, size: got.bytes.length };
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const stem = `sha256-${toolbox.digest.slice('sha256:'.length)}`;
    const signature = cosignSignature(privateKey, [
      { dockerReference: `${registry.host}/tools/toolbox`, digest: toolbox.digest },
    ]);
    await pushManifest(registry, 'tools/toolbox', signature, `${stem}.sig`);
    const sbom = referrer(toolbox, 'application/spdx+json', Buffer.from('{"spdxVersion":"SPDX-2.3"}'));
    await pushManifest(registry, 'tools/toolbox', sbom);
    await pushManifest(registry, 'tools/toolbox', fallbackIndex([sbom]), stem);
    attached = { signature: signature.descriptor.digest, sbom: sbom.descriptor.digest };
    configDir = path.join(work, 'master');
    const config = await writeTestConfig({ registryUrl: registry.url, include: ['stable/**', 'tools/**'] }, configDir);
    const sync = await runCli(['sync', '-c', config.file, '--json']);
    expect(sync.code, sync.stderr).toBe(0);
    status = jsonOf<StatusJson>(await runCli(['status', '-c', config.file, '--json']));
    metadataDir = path.join(config.root, 'metadata');

    // The only place blobs can come from: nginx serving the tree (the master URL).
    nginx = await startNginx(path.join(config.root, 'tree'));
    const mirrors = await writeMirrorList(work, {
      master: nginx.url,
      mirrors: [
        { url: `${nginx.url}/`, weight: 3, country: 'DE' },
        { url: 'http://127.0.0.1:9/arm-only', repositories: ['stable/**'], modules: ['containers-arm64'] },
      ],
    });
    serve = await startServe([
      '--metadata',
      path.join(config.root, 'metadata'),
      '--mirrors',
      mirrors,
      '--state',
      path.join(config.root, 'state'),
      '--reload-interval',
      '0',
    ]);
    browser = await launchBrowser();
    noScript = await launchBrowser({ javaScript: false });
    skopeo = await createSkopeo();
    proxy = await startFaultProxy({ upstream: registry.url });
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await noScript?.close();
    await serve?.stop();
    await nginx?.stop();
    await proxy?.close();
    await registry?.stop();
    await skopeo?.dispose();
    await rm(work, { recursive: true, force: true });
  });

  it('the overview shows the generation and the dedupe figure from the metadata', async () => {
    const { id, bytes } = status.generation;
    const page = await open('/');
    await expect.poll(() => page.locator('#generation .big').textContent()).toBe(id);
    const dedupe = await page.locator('#dedupe').textContent();
    expect(dedupe).toContain(`${bytes.dedupeRatio}×`);
    expect(dedupe).toContain(`${formatBytes(bytes.referenced - bytes.unique)} saved`);
    expect(bytes.referenced).toBeGreaterThan(bytes.unique);
    expect(await page.locator('table.runs tr', { hasText: 'sync' }).textContent()).toContain('ok');
    // The same figures as JSON.
    const api = (await (await fetch(`${serve.url}/api/overview`)).json()) as {
      generation: { id: string; bytes: { saved: number } };
    };
    expect(api.generation).toMatchObject({ id, bytes: { saved: bytes.referenced - bytes.unique } });
  });

  it('search finds a repository, as you type and without JavaScript', async () => {
    const page = await open('/repositories');
    expect(await page.locator('#repositories tbody tr').count()).toBe(4);
    await page.locator('#q').pressSequentially('toolb');
    await expect
      .poll(() => page.locator('#repositories tbody tr').allTextContents())
      .toEqual([expect.stringContaining('tools/toolbox')]);
    expect(new URL(page.url()).search).toBe('?q=toolb');

    const plain = await open('/repositories', noScript);
    await plain.locator('#q').fill('app-2');
    await plain.locator('form.search button').click();
    await plain.waitForURL(/q=app-2/);
    expect(await plain.locator('#repositories tbody tr td:first-child').allTextContents()).toEqual(['stable/app-2']);
    await plain.locator('#repositories a', { hasText: 'stable/app-2' }).click();
    await plain.waitForURL(/\/repositories\/stable\/app-2$/);
    expect(await plain.locator('h1').textContent()).toBe('stable/app-2');
  });

  it('a repository page lists every tag with its digest, and its pull line pulls with skopeo', async () => {
    const repository = 'stable/app-3';
    const tags = generated.repositories[repository]!.tags;
    const page = await open(`/repositories/${repository}`);
    const rows = await page
      .locator('#tags tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [tr.querySelector('.tag')!.textContent, tr.querySelector('.digest')!.textContent]),
      );
    expect(Object.fromEntries(rows)).toEqual(tags);
    expect(await page.locator('#tag-latest').textContent()).toContain('linux/amd64, linux/arm64');

    const pull = await page.locator('#pull').inputValue();
    const match = /^podman pull (127\.0\.0\.1:\d+\/stable\/app-3:(\S+))$/.exec(pull);
    expect(match, pull).not.toBeNull();
    await skopeo.ok(['copy', '--src-tls-verify=false', `docker://${match![1]}`, `oci:${path.join(work, 'pulled')}:x`]);
    const index = JSON.parse(await readFile(path.join(work, 'pulled', 'index.json'), 'utf8')) as {
      manifests: Array<{ digest: string }>;
    };
    const expected = tags[match![2]!]!;
    // skopeo picks the linux/amd64 image of an index; either way it came through serve.
    const manifest = index.manifests[0]!.digest;
    expect([expected, ...generated.manifests]).toContain(manifest);
    await shot(page, 'repository');
  });

  it('a repository page shows the signature and SBOM the metadata records as attached', async () => {
    const page = await open('/repositories/tools/toolbox');
    const badges = await page.locator('#tag-39 .badge').allTextContents();
    expect(badges.sort()).toEqual(['SBOM', 'signature']);
    const rows = await page
      .locator('#attachments tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [
          tr.getAttribute('data-tag'),
          tr.getAttribute('data-attachment'),
          tr.querySelector('.kind')!.textContent,
        ]),
      );
    expect(rows.sort()).toEqual(
      [
        ['39', attached.sbom, 'SBOM'],
        ['39', attached.signature, 'signature'],
      ].sort(),
    );
    expect(await page.locator('#attachments').textContent()).toContain('application/spdx+json');
    // A repository without attachments has no such section.
    expect(await (await open('/repositories/stable/app-1')).locator('#attachments').count()).toBe(0);
  });

  it('mirrors are listed with their share of the redirects; sorting works without JavaScript', async () => {
    const page = await open('/mirrors?sort=weight', noScript);
    const urls = await page.locator('table.mirrors tbody tr td:first-child a').allTextContents();
    expect(urls).toEqual([nginx.url, 'http://127.0.0.1:9/arm-only']);
    // The skopeo pull above was redirected to nginx for every blob.
    expect(await page.locator('table.mirrors tbody tr').first().textContent()).toContain('100.0 %');
    await page.locator('th a', { hasText: 'mirror' }).click();
    await page.waitForURL(/sort=url/);
    expect(await page.locator('table.mirrors tbody tr td:first-child a').allTextContents()).toEqual(
      [nginx.url, 'http://127.0.0.1:9/arm-only'].sort(),
    );
  });

  it("mirrors show the checker's verified generation, lag, failures and a lag chart", async () => {
    const arm = 'http://127.0.0.1:9/arm-only';
    const current = status.generation.id;
    const moduleState = (verifiedGeneration: string | null, failures: number, lastError: string | null) => ({
      ...emptyModuleState(),
      verifiedGeneration,
      lastCheckAt: new Date().toISOString(),
      consecutiveFailures: failures,
      inRotation: failures < 3,
      lastError: lastError === null ? null : { at: new Date().toISOString(), message: lastError },
    });
    const write = (updatedAt: string, armVerified: string | null, failures: number) =>
      writeMirrorState(metadataDir, {
        formatVersion: 1,
        updatedAt,
        checker: { pid: 1, host: 'test', startedAt: updatedAt },
        currentGeneration: current,
        mirrors: {
          [nginx.url]: { modules: { containers: moduleState(current, 0, null) } },
          [arm]: { modules: { 'containers-arm64': moduleState(armVerified, failures, failures ? MARKUP : null) } },
        },
      });
    const behind = String(Number(current) - 1).padStart(10, '0');
    await write(new Date(Date.now() - 300_000).toISOString(), behind, 0);
    await (await open('/mirrors')).close();
    await write(new Date().toISOString(), behind, 3);
    const page = await open('/mirrors?sort=lag');
    const rows = page.locator('table.mirrors tbody tr');
    expect(await rows.nth(0).textContent()).toContain(arm);
    expect(await rows.nth(0).textContent()).toMatch(/1\s*\(at \d{10}\)/);
    expect(await rows.nth(0).textContent()).toContain('out of rotation');
    expect(await rows.nth(0).locator('.error').textContent()).toBe(MARKUP);
    expect(await rows.nth(1).textContent()).toMatch(/0\s*\(at \d{10}\)/);
    // One lag sample per state the checker wrote while serve ran: two points on the arm mirror's chart.
    expect(await page.locator('figure', { hasText: arm }).locator('circle').count()).toBe(2);
    await shot(page, 'mirrors');
  });

  it("keeps showing the checker's last good state when a newer file is unreadable, and says so", async () => {
    const current = status.generation.id;
    await writeMirrorState(metadataDir, {
      formatVersion: 1,
      updatedAt: new Date().toISOString(),
      checker: { pid: 1, host: 'test', startedAt: new Date().toISOString() },
      currentGeneration: current,
      mirrors: {
        [nginx.url]: {
          modules: {
            containers: { ...emptyModuleState(), verifiedGeneration: current, lastCheckAt: new Date().toISOString() },
          },
        },
      },
    });
    const row = async () =>
      (await open('/mirrors?sort=url')).locator('table.mirrors tbody tr', { hasText: nginx.url }).textContent();
    expect(await row()).toMatch(new RegExp(`0\\s*\\(at ${current}\\)`));
    await writeFile(path.join(metadataDir, 'mirror-state.json'), '{"formatVersion": 1, "upd');
    const page = await open('/mirrors?sort=url');
    expect(await page.locator('[role=alert]').textContent()).toContain('showing the last state read');
    expect(await page.locator('table.mirrors tbody tr', { hasText: nginx.url }).textContent()).toMatch(
      new RegExp(`0\\s*\\(at ${current}\\)`),
    );
  });

  it('history charts the kept generations', async () => {
    const page = await open('/history');
    expect(await page.locator('svg.chart').count()).toBe(2);
    expect(await page.locator('table.history tbody tr td:first-child').allTextContents()).toEqual([
      status.generation.id,
    ]);
  });

  it('a failed last sync shows its error, markup in it shown as text', async () => {
    proxy.setRules([
      {
        path: /^\/v2\/_catalog/,
        fault: {
          kind: 'respond',
          status: 403,
          headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ errors: [{ code: 'DENIED', message: MARKUP }] }),
        },
      },
    ]);
    const failing = await writeTestConfig({ registryUrl: proxy.url, include: ['stable/**', 'tools/**'] }, configDir);
    const sync = await runCli(['sync', '-c', failing.file, '--json']);
    expect(sync.code).not.toBe(0);

    const page = await open('/');
    const alert = page.locator('section.alert[data-run="sync"]');
    await expect.poll(() => alert.textContent()).toContain('Last sync: failed');
    expect(await alert.textContent()).toContain(MARKUP);
    expect(await alert.locator('img, b').count()).toBe(0);
    expect(await page.title()).toBe('Overview · blobmirror');
    // The generation published before is still what is served.
    expect(await page.locator('#generation .big').textContent()).toBe(status.generation.id);
    await shot(page, 'overview');
    await shot(await open('/repositories'), 'repositories');
  }, 60_000);

  it('no page logged a console error', () => {
    expect([...browser.problems, ...noScript.problems]).toEqual([]);
  });

  it('is off with --no-status-page: / is the registry 404', async () => {
    const off = await startServe([
      '--metadata',
      path.join(work, 'master/mirror/metadata'),
      '--mirrors',
      path.join(work, 'mirrors.yaml'),
      '--no-status-page',
    ]);
    try {
      const response = await fetch(`${off.url}/`);
      expect(response.status).toBe(404);
      expect(await response.json()).toMatchObject({ errors: [{ code: 'UNSUPPORTED' }] });
      expect((await fetch(`${off.url}/v2/`)).status).toBe(200);
    } finally {
      await off.stop();
    }
  });
});
