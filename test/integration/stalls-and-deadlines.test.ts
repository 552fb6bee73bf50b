// Issue 14 "stalls and deadlines" and "errors name the thing": a blob that sends 1 KiB and then
// stalls (the fault proxy holds the connection for two minutes, as the server in the issue did)
// fails its repository with TIMEOUT while the others are published, and the run ends within a
// bound that follows from the configured timeouts; `sync --deadline` bounds the whole run; a
// registry that is down is NETWORK naming source.url's host, never a bare ECONNREFUSED.
import { stat } from 'node:fs/promises';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { layoutBlobPath } from '../../src/oci-layout/layout-format.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { useTestWorld } from '../helpers/test-world.js';
import { treeProblems } from '../helpers/tree-check.js';

const KiB = 1024;
/** What a sync of three small repositories costs besides the stall (CLI start, the good repositories). */
const SLACK_MS = 25_000;
const STALL = { kind: 'stall', afterBytes: KiB, ms: 120_000 } as const;

describe('stalls and deadlines', () => {
  const world = useTestWorld({
    name: 'stalls',
    spec: fixtureSpec({
      seed: 'stalls',
      repos: 3,
      tagsPerRepo: 1,
      baseBytes: 256 * KiB,
      repoBytes: 64 * KiB,
      tagBytes: 8 * KiB,
    }),
    proxySeed: 'stalls',
  });

  /** The biggest blob only stable/app-1 has (well over the 1 KiB sent before the stall). */
  async function ownBlob(): Promise<string> {
    const others = new Set(['stable/app-2', 'stable/app-3'].flatMap((r) => world.images.repositories[r]!.blobs));
    const own = world.images.repositories['stable/app-1']!.blobs.filter((d) => !others.has(d));
    const sized = await Promise.all(
      own.map(async (digest) => [digest, (await stat(layoutBlobPath(world.images.dir, digest))).size] as const),
    );
    const [digest, size] = sized.sort(([, a], [, b]) => b - a)[0]!;
    expect(size).toBeGreaterThan(32 * KiB);
    return digest;
  }

  async function sync(dir: string, extraSource: Record<string, unknown>, args: string[] = []) {
    const config = await world.writeConfig(dir, { registryUrl: world.proxy.url, extraSource });
    const started = Date.now();
    const result = await runCli(['sync', '-c', config.file, '--json', ...args], { timeoutMs: 180_000 });
    return { result, elapsedMs: Date.now() - started, summary: jsonOf(result), root: config.root };
  }

  it('a blob that sends 1 KiB and stalls fails its repository with TIMEOUT; the others are published in bounded time', async () => {
    const digest = await ownBlob();
    world.proxy.setRules([{ method: 'GET', path: new RegExp(`/v2/stable/app-1/blobs/${digest}$`), fault: STALL }]);
    world.proxy.reset();
    const blobDeadlineSeconds = 4;
    const { result, elapsedMs, summary, root } = await sync('stall', {
      idleTimeoutSeconds: 1,
      blobDeadlineSeconds,
      retries: 1,
    });
    expect(result.code, result.stderr).toBe(1);
    expect(summary.result).toBe('partial');
    expect(summary.repositories).toMatchObject({ synced: 2, failed: 1 });
    expect(summary.failures.length).toBeGreaterThan(0);
    for (const failure of summary.failures) {
      expect(failure).toMatchObject({ repository: 'stable/app-1', code: 'TIMEOUT' });
      expect(failure.message).toContain(`blob ${digest} of stable/app-1`);
      expect(failure.message).toContain(`127.0.0.1:${world.proxy.port}`);
    }
    // The stalled blob was resumed after each silent second, then given up at its deadline.
    const gets = world.proxy.requests.filter((r) => r.method === 'GET' && r.path.endsWith(digest));
    expect(gets.length).toBeGreaterThan(1);
    expect(gets.slice(1).every((r) => /^bytes=\d+-$/.test(String(r.headers.range)))).toBe(true);
    expect(elapsedMs).toBeLessThan(blobDeadlineSeconds * 1000 + SLACK_MS);
    expect(await treeProblems(path.join(root, 'tree'))).toEqual([]);
  });

  it('without a blob deadline the idle timeout and the bounded resumes still end the stalled blob', async () => {
    const digest = await ownBlob();
    world.proxy.setRules([{ method: 'GET', path: new RegExp(`/v2/stable/app-1/blobs/${digest}$`), fault: STALL }]);
    world.proxy.reset();
    const { result, elapsedMs, summary } = await sync('stall-idle', { idleTimeoutSeconds: 1, retries: 0 });
    expect(result.code, result.stderr).toBe(1);
    expect(summary.repositories).toMatchObject({ synced: 2, failed: 1 });
    expect(summary.failures[0]).toMatchObject({ repository: 'stable/app-1', code: 'TIMEOUT' });
    expect(summary.failures[0].message).toMatch(
      new RegExp(
        `^blob ${digest} of stable/app-1 at 127\\.0\\.0\\.1:${world.proxy.port} \\(source\\.url\\): no bytes for 1 s`,
      ),
    );
    // Six attempts of the store (each a second of silence) and nothing else waiting.
    expect(elapsedMs).toBeLessThan(6 * 1000 + SLACK_MS);
  });

  it('sync --deadline ends a run whose every blob stalls, each failure naming the deadline', async () => {
    world.proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, fault: STALL }]);
    world.proxy.reset();
    const deadlineSeconds = 3;
    const { result, elapsedMs, summary } = await sync('deadline', {}, ['--deadline', String(deadlineSeconds)]);
    expect(result.code, result.stderr).toBe(1);
    expect(summary.repositories.synced).toBe(0);
    expect(summary.failures.length).toBeGreaterThan(0);
    for (const failure of summary.failures) {
      expect(failure.code).toBe('TIMEOUT');
      expect(failure.message).toMatch(/the run's deadline of 3 s \(--deadline\) passed/);
    }
    expect(elapsedMs).toBeLessThan(deadlineSeconds * 1000 + SLACK_MS);
  });

  it('a registry that is down: NETWORK naming source.url and its host, never ECONNREFUSED', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const config = await writeTestConfig(
      { registryUrl: `http://127.0.0.1:${port}`, include: ['stable/**'], extraSource: { retries: 0 } },
      path.join(world.work, 'down'),
    );
    const result = await runCli(['sync', '-c', config.file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^blobmirror: error NETWORK: GET /v2/ at 127\\.0\\.0\\.1:${port} \\(source\\.url\\): connection refused$`,
        'm',
      ),
    );
    expect(result.stderr).not.toMatch(/ECONNREFUSED|ERR_GOT/);
  });
});
