// Issue 8: secrets. Syncs with Basic (htpasswd) and Bearer token auth, succeeding and failing
// (wrong password, 5xx answers whose error bodies echo the request's Authorization back, as some
// proxies do): the password, the Basic header and every token never appear in stdout, stderr,
// --json output, logs at debug level, metadata or state files.
import { lstat, mkdtemp, readFile, readlink, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { runCli, writeTestConfig, type CliResult } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { basicAuthorization } from '../helpers/token-server.js';
import { listAll } from '../helpers/tree-check.js';

const echo = (headers: Record<string, unknown>) =>
  JSON.stringify({
    errors: [
      {
        code: 'UNAVAILABLE',
        message: `backend down; your request had Authorization: ${String(headers.authorization)}`,
        detail: { authorization: headers.authorization },
      },
    ],
  });

describe.each(['htpasswd', 'token'] as const)('secrets with %s auth', (mode) => {
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let work: string;

  afterAll(async () => {
    await proxy?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('never shows the password, the Basic header or a token', async () => {
    registry = await startRegistry({ auth: mode, ...(mode === 'token' ? { token: { expiresIn: 60 } } : {}) });
    proxy = await startFaultProxy({ upstream: registry.url, seed: `secrets-${mode}` });
    work = await mkdtemp(path.join(tmpdir(), `blobmirror-secrets-${mode}-`));
    await generateImages(
      fixtureSpec({
        seed: 'secrets',
        repos: 2,
        tagsPerRepo: 1,
        baseBytes: 64 * 1024,
        repoBytes: 8 * 1024,
        tagBytes: 4 * 1024,
      }),
      path.join(work, 'layout'),
    );
    await pushLayout(registry, path.join(work, 'layout'));
    const { username, password } = registry.auth!;
    const wrong = 'Wr0ng-pa55word-xyzzy';
    const env = { TEST_REGISTRY_PASSWORD: password };
    const config = await writeTestConfig(
      {
        registryUrl: proxy.url,
        include: ['stable/**'],
        auth: { username, passwordEnv: 'TEST_REGISTRY_PASSWORD' },
        extraSource: { retries: 1, timeoutSeconds: 5 },
      },
      path.join(work, 'sync'),
    );
    const results: CliResult[] = [];
    const cli = async (args: string[], extraEnv = env) => {
      const result = await runCli(args, { env: extraEnv });
      results.push(result);
      return result;
    };

    // Failing: error bodies that echo the Authorization header, on a retried manifest and on a blob.
    proxy.setRules([
      {
        method: 'GET',
        path: /\/manifests\//,
        times: 1,
        fault: { kind: 'respond', status: 503, headers: { 'content-type': 'application/json' }, body: echo },
      },
      {
        method: 'GET',
        path: /\/v2\/stable\/app-2\/blobs\//,
        fault: { kind: 'respond', status: 500, headers: { 'content-type': 'application/json' }, body: echo },
      },
    ]);
    const failing = await cli(['sync', '-c', config.file, '--json', '-v', '--log-format', 'json']);
    expect(failing.code, failing.stderr).toBe(1);
    expect(failing.stdout + failing.stderr).toMatch(
      /backend down; your request had Authorization: (Basic|Bearer) \[redacted\]/,
    );
    proxy.setRules([]);
    expect((await cli(['sync', '-c', config.file, '--json', '-v', '--log-format', 'json'])).code).toBe(0);
    expect((await cli(['sync', '-c', config.file, '-v', '--log-format', 'text'])).code).toBe(0);
    expect((await cli(['sync', '-c', config.file, '--dry-run', '--json'])).code).toBe(0);
    expect((await cli(['check-config', '-c', config.file, '--json'])).code).toBe(0);
    // A mirror list with credentials in a URL is refused without repeating them.
    const mirrorPassword = 'M1rror-pa55-qwerty';
    const mirrors = path.join(work, 'mirrors.yaml');
    await writeFile(
      mirrors,
      `version: 1\nmaster: https://sync:${mirrorPassword}@master.example.org/tree\nmirrors: []\n`,
    );
    const badMirrors = await cli([
      'serve',
      '--metadata',
      path.join(config.root, 'metadata'),
      '--mirrors',
      mirrors,
      '--log-format',
      'json',
    ]);
    expect(badMirrors.code).toBe(2);
    expect(badMirrors.stderr).toMatch(/credentials in a mirror URL/);
    const refused = await cli(['sync', '-c', config.file, '--json', '-v', '--log-format', 'json'], {
      TEST_REGISTRY_PASSWORD: wrong,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stdout + refused.stderr).toMatch(/AUTH_FAILED/);

    // What there was to leak: the password, the Basic header, every token the registry saw.
    const sent = proxy.requests.map((r) => r.headers.authorization).filter((a): a is string => Boolean(a));
    const tokens = [...new Set(sent.filter((a) => a.startsWith('Bearer ')).map((a) => a.slice(7)))];
    if (mode === 'token') expect(tokens.length).toBeGreaterThan(0);
    else expect(sent).toContain(basicAuthorization(username, password));
    const secrets = [
      password,
      wrong,
      mirrorPassword,
      basicAuthorization(username, password).slice(6),
      basicAuthorization(username, wrong).slice(6),
      ...tokens,
    ];

    const haystacks: Array<[string, string]> = results.flatMap((r, i): Array<[string, string]> => [
      [`run ${i} stdout`, r.stdout],
      [`run ${i} stderr`, r.stderr],
    ]);
    for (const rel of await listAll(config.root)) {
      const full = path.join(config.root, rel);
      haystacks.push([
        rel,
        (await lstat(full)).isSymbolicLink() ? await readlink(full) : await readFile(full, 'latin1'),
      ]);
    }
    expect(haystacks.length).toBeGreaterThan(12);
    const leaks = haystacks.flatMap(([where, text]) =>
      secrets.filter((s) => text.includes(s)).map((s) => `${where} holds ${s.slice(0, 6)}…`),
    );
    expect(leaks).toEqual([]);
  });
});
