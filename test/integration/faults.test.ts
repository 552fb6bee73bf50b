// Issue 8: faults from the network. A fault proxy sits between blobmirror and the real registry
// (htpasswd auth, so every request carries credentials). For each fault the sync either recovers
// (retry, resume with Range) or fails the affected repository with a precise message and exit 1,
// and the tree never holds a file whose content does not match its name.
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { layoutBlobPath } from '../../src/oci-layout/layout-format.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import {
  startBlobHost,
  startFaultProxy,
  type FaultProxy,
  type FaultRule,
  type RecordedRequest,
} from '../helpers/fault-proxy.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { basicAuthorization } from '../helpers/token-server.js';
import { metadataView, treeProblems, type RepositoryView } from '../helpers/tree-check.js';

const KiB = 1024;
const RETRIES = 2;

interface Ctx {
  proxy: FaultProxy;
  /** The biggest blob (the shared base layer) and its size. */
  big: { re: RegExp; size: number };
  /** A blob only stable/app-1 has. */
  own: { re: RegExp; digest: string };
  summary: Record<string, any>;
  root: string;
  config: string;
}

interface FaultCase {
  name: string;
  rules: (ctx: Omit<Ctx, 'summary' | 'root' | 'config'>) => FaultRule[];
  /** `recovers`: exit 0 and the same metadata as a clean sync; else the failure expected for stable/app-1. */
  outcome: 'recovers' | { code: string; message: RegExp };
  check?: (ctx: Ctx) => void | Promise<void>;
}

const blobGets = (proxy: FaultProxy, re: RegExp): RecordedRequest[] =>
  proxy.requests.filter((r) => r.method === 'GET' && re.test(r.path));

/** The blob was resumed with Range after a cut, and only the bytes the client never wrote were sent twice. */
function expectResumed(ctx: Ctx, sentBeforeCut: number): void {
  const gets = blobGets(ctx.proxy, ctx.big.re);
  expect(gets.length).toBeGreaterThanOrEqual(2);
  const range = gets[1]!.headers.range;
  expect(range).toMatch(/^bytes=\d+-$/);
  const from = Number(/\d+/.exec(range!)![0]);
  expect(from).toBeGreaterThan(0);
  expect(from).toBeLessThanOrEqual(sentBeforeCut);
  const total = gets.reduce((sum, r) => sum + r.bytesSent, 0);
  // Refetched bytes: what the first answer sent beyond the offset the second one started at.
  expect(total - ctx.big.size).toBe(gets[0]!.bytesSent - from);
}

const CASES: FaultCase[] = [
  {
    name: 'connection reset mid-body: resumed with Range',
    rules: ({ big }) => [
      { method: 'GET', path: big.re, times: 1, fault: { kind: 'reset', afterBytes: 300 * KiB, pauseMs: 150 } },
    ],
    outcome: 'recovers',
    check: (ctx) => expectResumed(ctx, 300 * KiB),
  },
  {
    name: 'truncated body (FIN before Content-Length): resumed with Range',
    rules: ({ big }) => [
      { method: 'GET', path: big.re, times: 1, fault: { kind: 'truncate', afterBytes: 200 * KiB, pauseMs: 150 } },
    ],
    outcome: 'recovers',
    check: (ctx) => expectResumed(ctx, 200 * KiB),
  },
  {
    name: 'Content-Length lies short (a clean short body): resumed with Range',
    rules: ({ big }) => [{ method: 'GET', path: big.re, times: 1, fault: { kind: 'lie-length', delta: -400 * KiB } }],
    outcome: 'recovers',
    check: (ctx) => {
      const gets = blobGets(ctx.proxy, ctx.big.re);
      expect(gets.map((g) => g.headers.range)).toEqual([undefined, `bytes=${ctx.big.size - 400 * KiB}-`]);
      expect(gets.reduce((sum, r) => sum + r.bytesSent, 0)).toBe(ctx.big.size);
    },
  },
  {
    name: 'Content-Length lies long (every byte, then the connection drops): complete without a refetch',
    rules: ({ big }) => [{ method: 'GET', path: big.re, times: 1, fault: { kind: 'lie-length', delta: 1000 } }],
    outcome: 'recovers',
    check: (ctx) => expect(blobGets(ctx.proxy, ctx.big.re).reduce((sum, r) => sum + r.bytesSent, 0)).toBe(ctx.big.size),
  },
  {
    name: 'one flipped byte: the blob is downloaded again from zero in the same run',
    rules: ({ big }) => [{ method: 'GET', path: big.re, times: 1, fault: { kind: 'flip' } }],
    outcome: 'recovers',
    check: (ctx) => {
      const gets = blobGets(ctx.proxy, ctx.big.re);
      expect(gets.map((g) => [g.headers.range, g.bytesSent])).toEqual([
        [undefined, ctx.big.size],
        [undefined, ctx.big.size],
      ]);
      // The wasted download is counted as fetched.
      expect(ctx.summary.bytes.fetched).toBe(ctx.summary.bytes.toFetch + ctx.big.size);
    },
  },
  {
    name: 'a byte flipped on every download: DIGEST_MISMATCH for that repository only, nothing kept',
    rules: ({ own }) => [{ method: 'GET', path: own.re, fault: { kind: 'flip' } }],
    outcome: {
      code: 'DIGEST_MISMATCH',
      message: /blob sha256:[0-9a-f]{64} of stable\/app-1: content hashes to sha256:[0-9a-f]{64}, not sha256:/,
    },
  },
  {
    name: '500 on the second manifest GET: retried',
    rules: () => [{ method: 'GET', path: /\/manifests\//, skip: 1, times: 1, fault: { kind: 'status', status: 500 } }],
    outcome: 'recovers',
    check: (ctx) => {
      const gets = ctx.proxy.requests.filter((r) => r.method === 'GET' && r.path.includes('/manifests/'));
      expect(gets.map((r) => r.status).slice(0, 2)).toEqual([200, 500]);
      expect(gets.slice(2).some((r) => r.path === gets[1]!.path && r.status === 200)).toBe(true);
    },
  },
  {
    name: '502 on a tags list once: retried',
    rules: () => [{ method: 'GET', path: /\/tags\/list/, times: 1, fault: { kind: 'status', status: 502 } }],
    outcome: 'recovers',
  },
  {
    name: '503 on the /v2/ ping once: retried',
    rules: () => [{ path: /^\/v2\/$/, times: 1, fault: { kind: 'status', status: 503 } }],
    outcome: 'recovers',
  },
  {
    name: '503 on every blob of one repository: that repository fails after the retries',
    rules: ({ own }) => [{ method: 'GET', path: own.re, fault: { kind: 'status', status: 503 } }],
    outcome: {
      code: 'REGISTRY_ERROR',
      message:
        /registry http:\/\/127\.0\.0\.1:\d+ answered 503 for GET \/v2\/stable\/app-1\/blobs\/sha256:[0-9a-f]{64} \(UNAVAILABLE: injected 503\)/,
    },
    // retries + 1, once in the run (the alias latest does not try it again).
    check: (ctx) => expect(blobGets(ctx.proxy, ctx.own.re).length).toBe(RETRIES + 1),
  },
  {
    name: '429 with Retry-After: 1 is honoured',
    rules: () => [{ method: 'HEAD', path: /\/manifests\//, times: 1, fault: { kind: 'too-many', retryAfter: '1' } }],
    outcome: 'recovers',
    check: (ctx) => {
      const heads = ctx.proxy.requests.filter((r) => r.method === 'HEAD');
      const refused = heads.find((r) => r.status === 429)!;
      const retried = heads.find((r) => r.path === refused.path && r !== refused)!;
      expect(retried.at - refused.at).toBeGreaterThanOrEqual(950);
    },
  },
  {
    name: '429 without Retry-After twice: backoff, then success',
    rules: () => [{ method: 'GET', path: /\/manifests\//, times: 2, fault: { kind: 'too-many' } }],
    outcome: 'recovers',
  },
  {
    name: '429 asking for an hour: fails at once instead of hanging',
    rules: () => [
      { method: 'GET', path: /\/v2\/stable\/app-1\/tags\/list/, fault: { kind: 'too-many', retryAfter: '3600' } },
    ],
    outcome: {
      code: 'REGISTRY_ERROR',
      message: /answered 429 for GET \/v2\/stable\/app-1\/tags\/list \(TOOMANYREQUESTS: slow down\)/,
    },
    check: (ctx) =>
      expect(ctx.proxy.requests.filter((r) => r.path.startsWith('/v2/stable/app-1/tags/list'))).toHaveLength(1),
  },
  {
    name: 'stall mid-body longer than the timeout: resumed with Range',
    rules: ({ big }) => [
      { method: 'GET', path: big.re, times: 1, fault: { kind: 'stall', afterBytes: 256 * KiB, ms: 2500 } },
    ],
    outcome: 'recovers',
    check: (ctx) => expectResumed(ctx, 256 * KiB),
  },
  {
    name: 'stall before the headers of a manifest GET: timed out and retried',
    rules: () => [
      { method: 'GET', path: /\/manifests\//, times: 1, fault: { kind: 'stall', afterBytes: -1, ms: 2500 } },
    ],
    outcome: 'recovers',
  },
  {
    name: 'connection reset before any answer on a HEAD: retried',
    rules: () => [{ method: 'HEAD', path: /\/manifests\//, times: 1, fault: { kind: 'reset-early' } }],
    outcome: 'recovers',
  },
  {
    name: 'redirect loop on a blob: too many redirects, not retried forever',
    rules: ({ own }) => [{ method: 'GET', path: own.re, fault: { kind: 'redirect-loop' } }],
    outcome: {
      code: 'REGISTRY_ERROR',
      message: /too many redirects \(over 5\) for GET \/v2\/stable\/app-1\/blobs\/sha256:[0-9a-f]{64}/,
    },
    check: (ctx) => expect(blobGets(ctx.proxy, ctx.own.re).length).toBe(6),
  },
  {
    name: 'HTML instead of JSON for a tags list',
    rules: () => [{ method: 'GET', path: /\/v2\/stable\/app-1\/tags\/list/, fault: { kind: 'html' } }],
    outcome: { code: 'REGISTRY_ERROR', message: /^tags of stable\/app-1: response is not JSON \("<!DOCTYPE html>/ },
  },
  {
    name: 'HTML instead of JSON for a manifest',
    rules: () => [{ method: 'GET', path: /\/v2\/stable\/app-1\/manifests\//, fault: { kind: 'html' } }],
    outcome: {
      code: 'MANIFEST_INVALID',
      message: /^invalid manifest stable\/app-1@sha256:[0-9a-f]{64}: not valid JSON/,
    },
  },
  {
    name: 'HTML 200 on the /v2/ ping: the 401 on the first real request still authenticates',
    rules: () => [{ path: /^\/v2\/$/, fault: { kind: 'html' } }],
    outcome: 'recovers',
  },
];

describe('network faults between blobmirror and the registry', () => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let work: string;
  let generated: GeneratedImages;
  let baseline: Record<string, RepositoryView>;
  let big: Ctx['big'];
  let own: Ctx['own'];
  const timings: Record<string, number> = {};

  const sync = async (name: string) => {
    const { username, password } = registry.auth!;
    const config = await writeTestConfig(
      {
        registryUrl: proxy.url,
        include: ['stable/**'],
        auth: { username, password },
        extraSource: { timeoutSeconds: 1, idleTimeoutSeconds: 1, retries: RETRIES, concurrency: 2 },
      },
      path.join(work, name.replace(/[^a-z0-9]+/gi, '-').slice(0, 60)),
    );
    const result = await runCli(['sync', '-c', config.file, '--json', '--log-format', 'json'], { timeoutMs: 60_000 });
    return { result, ...config };
  };

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'htpasswd' });
    proxy = await startFaultProxy({ upstream: registry.url, seed: 'faults' });
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-faults-'));
    const layout = path.join(work, 'layout');
    generated = await generateImages(
      fixtureSpec({ repos: 2, tagsPerRepo: 1, baseBytes: 1024 * KiB, repoBytes: 96 * KiB, tagBytes: 16 * KiB }),
      layout,
    );
    await pushLayout(registry, layout);
    const sizes = new Map<string, number>();
    for (const digest of generated.blobs) sizes.set(digest, (await stat(layoutBlobPath(layout, digest))).size);
    const [bigDigest, bigSize] = [...sizes].sort(([, a], [, b]) => b - a)[0]!;
    big = { re: new RegExp(`/blobs/${bigDigest}$`), size: bigSize };
    const other = new Set(generated.repositories['stable/app-2']!.blobs);
    const ownDigest = generated.repositories['stable/app-1']!.blobs.filter((d) => !other.has(d)).sort(
      (a, b) => sizes.get(b)! - sizes.get(a)!,
    )[0]!;
    own = { re: new RegExp(`/v2/stable/app-1/blobs/${ownDigest}$`), digest: ownDigest };
    const clean = await sync('baseline');
    expect(clean.result.code, clean.result.stderr).toBe(0);
    baseline = await metadataView(path.join(clean.root, 'metadata'));
  });

  afterAll(async () => {
    console.log(`fault case timings (ms): ${JSON.stringify(timings)}`);
    await proxy?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it.each(CASES)('$name', async (fault) => {
    proxy.setRules(fault.rules({ proxy, big, own }));
    proxy.reset();
    const started = Date.now();
    const { result, root, file } = await sync(fault.name);
    timings[fault.name] = Date.now() - started;
    const summary = jsonOf(result);
    const ctx: Ctx = { proxy, big, own, summary, root, config: file };
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
    if (fault.outcome === 'recovers') {
      expect(result.code, result.stderr).toBe(0);
      expect(summary.failures).toEqual([]);
      expect(await metadataView(path.join(root, 'metadata'))).toEqual(baseline);
      await fault.check?.(ctx);
    } else {
      expect(result.code, result.stderr).toBe(1);
      expect(summary.result).toBe('partial');
      expect(summary.failures.length).toBeGreaterThan(0);
      for (const failure of summary.failures) {
        expect(failure).toMatchObject({ repository: 'stable/app-1', code: fault.outcome.code });
        expect(failure.message).toMatch(fault.outcome.message);
      }
      // The other repository is published as a clean sync would publish it.
      const view = await metadataView(path.join(root, 'metadata'));
      expect(view['stable/app-2']).toEqual(baseline['stable/app-2']);
      expect(result.stderr).toContain(`"code":"${fault.outcome.code}"`);
      await fault.check?.(ctx);
      // The next run without the fault completes.
      proxy.setRules([]);
      const again = await runCli(['sync', '-c', file, '--json'], { timeoutMs: 60_000 });
      expect(again.code, again.stderr).toBe(0);
      expect(await metadataView(path.join(root, 'metadata'))).toEqual(baseline);
      expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
    }
  });

  it('a blob redirected to another host is fetched there without the registry Authorization', async () => {
    const { username, password } = registry.auth!;
    const host = await startBlobHost(registry.url, basicAuthorization(username, password));
    try {
      proxy.setRules([
        {
          method: 'GET',
          path: /\/blobs\//,
          fault: { kind: 'redirect', to: (p) => `${host.url}${p.replace(/^\/v2/, '')}` },
        },
      ]);
      proxy.reset();
      const { result, root } = await sync('redirect-other-host');
      expect(result.code, result.stderr).toBe(0);
      expect(await metadataView(path.join(root, 'metadata'))).toEqual(baseline);
      expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
      // The registry got credentials on the blob GETs; the storage host got the GETs and no credentials.
      const redirected = proxy.requests.filter((r) => r.status === 307);
      expect(redirected.length).toBe(
        generated.repositories['stable/app-1']!.blobs.length +
          generated.repositories['stable/app-2']!.blobs.filter(
            (d) => !generated.repositories['stable/app-1']!.blobs.includes(d),
          ).length,
      );
      for (const r of redirected) expect(r.headers.authorization).toMatch(/^Basic /);
      expect(host.requests.length).toBe(redirected.length);
      for (const r of host.requests) expect(r.headers.authorization).toBeUndefined();
    } finally {
      await host.close();
    }
  });
});
