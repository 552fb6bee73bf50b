// Issue 8: faults at the token endpoint. The registry runs with token auth; a fault proxy sits in
// front of the token server too (the registry proxy points the Bearer challenge's realm at it).
// A transient failure of the auth service is retried like any other; a broken one fails the
// repositories whose scope it refuses, with a precise AUTH_FAILED message.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy, type FaultRule } from '../helpers/fault-proxy.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { treeProblems } from '../helpers/tree-check.js';

/** Token requests for stable/app-1's pull scope (the query is URL-encoded). */
const APP1 = /^\/token\?.*scope=repository%3Astable%2Fapp-1%3Apull/;

const CASES: Array<{ name: string; rules: FaultRule[]; outcome: 'recovers' | RegExp }> = [
  { name: '503 once', rules: [{ path: APP1, times: 1, fault: { kind: 'status', status: 503 } }], outcome: 'recovers' },
  {
    name: '429 with Retry-After: 1 once',
    rules: [{ path: APP1, times: 1, fault: { kind: 'too-many', retryAfter: '1' } }],
    outcome: 'recovers',
  },
  {
    name: 'connection reset once',
    rules: [{ path: APP1, times: 1, fault: { kind: 'reset-early' } }],
    outcome: 'recovers',
  },
  {
    name: '503 every time',
    rules: [{ path: APP1, fault: { kind: 'status', status: 503 } }],
    outcome:
      /^token endpoint http:\/\/127\.0\.0\.1:\d+\/token for scope repository:stable\/app-1:pull answered 503 \(UNAVAILABLE: injected 503\)$/,
  },
  {
    name: 'an answer without a token',
    rules: [
      {
        path: APP1,
        fault: { kind: 'respond', headers: { 'content-type': 'application/json' }, body: '{"expires_in": 300}' },
      },
    ],
    outcome:
      /^token endpoint http:\/\/127\.0\.0\.1:\d+\/token for scope repository:stable\/app-1:pull returned no token$/,
  },
];

describe('faults at the token endpoint', () => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let tokens: FaultProxy;
  let work: string;

  beforeAll(async () => {
    registry = await startRegistry({ auth: 'token' });
    const realm = registry.tokenServer!.realm;
    tokens = await startFaultProxy({ upstream: new URL(realm).origin, seed: 'token-faults' });
    proxy = await startFaultProxy({ upstream: registry.url, seed: 'token-faults-registry' });
    const challenge = (h: Record<string, string | string[]>) => ({
      ...h,
      ...(h['www-authenticate']
        ? { 'www-authenticate': String(h['www-authenticate']).replace(realm, `${tokens.url}/token`) }
        : {}),
    });
    proxy.setRules([{ path: /^\/v2\//, fault: { kind: 'edit-headers', edit: challenge } }]);
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-token-faults-'));
    await generateImages(
      fixtureSpec({
        seed: 'token-faults',
        repos: 2,
        tagsPerRepo: 1,
        baseBytes: 32 * 1024,
        repoBytes: 4096,
        tagBytes: 1024,
      }),
      path.join(work, 'layout'),
    );
    await pushLayout(registry, path.join(work, 'layout'));
  });

  afterAll(async () => {
    await proxy?.close();
    await tokens?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it.each(CASES)('token endpoint: $name', async ({ name, rules, outcome }) => {
    tokens.setRules(rules);
    tokens.reset();
    const { username, password } = registry.auth!;
    const config = await writeTestConfig(
      {
        registryUrl: proxy.url,
        include: ['stable/app-1', 'stable/app-2'],
        auth: { username, passwordEnv: 'TEST_REGISTRY_PASSWORD' },
        extraSource: { retries: 2, timeoutSeconds: 2 },
      },
      path.join(work, name.replace(/[^a-z0-9]+/gi, '-')),
    );
    const result = await runCli(['sync', '-c', config.file, '--json'], { env: { TEST_REGISTRY_PASSWORD: password } });
    // The faults did reach blobmirror.
    expect(tokens.requests.some((r) => r.rule !== undefined)).toBe(true);
    const summary = jsonOf(result);
    if (outcome === 'recovers') {
      expect(result.code, result.stderr).toBe(0);
      expect(summary.repositories.synced).toBe(2);
    } else {
      expect(result.code, result.stderr).toBe(1);
      expect(summary.repositories).toMatchObject({ synced: 1, failed: 1 });
      for (const failure of summary.failures) {
        expect(failure).toMatchObject({ repository: 'stable/app-1', code: 'AUTH_FAILED' });
        expect(failure.message).toMatch(outcome);
      }
    }
    expect(await treeProblems(path.join(config.root, 'tree'))).toEqual([]);
  });
});
