// Issue 2: the registry client over TLS with a private CA and a client certificate, against the
// real docker-registry (http.tls with clientcas: it refuses clients without a certificate).
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { connect } from 'node:tls';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { pushLayout } from '../helpers/push.js';
import { freePort, startRegistry, stopChild, type RegistryHandle } from '../helpers/registry.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';

const run = promisify(execFile);

/** A CA, a server certificate for 127.0.0.1 and a client certificate, all signed by the CA. */
async function makePki(
  dir: string,
): Promise<Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string>> {
  const at = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run('openssl', [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    at('ca.key'),
    '-out',
    at('ca.pem'),
    '-subj',
    '/CN=blobmirror test CA',
    '-days',
    '2',
  ]);
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n'],
    ['client', 'extendedKeyUsage=clientAuth\n'],
  ] as const) {
    await writeFile(at(`${name}.ext`), ext);
    await run('openssl', [
      'req',
      ...ec,
      '-keyout',
      at(`${name}.key`),
      '-out',
      at(`${name}.csr`),
      '-subj',
      `/CN=${name}`,
    ]);
    await run('openssl', [
      'x509',
      '-req',
      '-in',
      at(`${name}.csr`),
      '-CA',
      at('ca.pem'),
      '-CAkey',
      at('ca.key'),
      '-CAcreateserial',
      '-out',
      at(`${name}.pem`),
      '-days',
      '2',
      '-extfile',
      at(`${name}.ext`),
    ]);
  }
  return {
    ca: at('ca.pem'),
    serverCert: at('server.pem'),
    serverKey: at('server.key'),
    clientCert: at('client.pem'),
    clientKey: at('client.key'),
  };
}

describe('sync over TLS with a private CA and a client certificate', () => {
  let plain: RegistryHandle;
  let tlsRegistry: ChildProcess;
  let work: string;
  let url: string;
  let pki: Awaited<ReturnType<typeof makePki>>;

  beforeAll(async () => {
    // Push over plain HTTP, then serve the same storage from a second registry with TLS.
    plain = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-tls-'));
    await generateImages(
      fixtureSpec({ repos: 2, tagsPerRepo: 1, baseBytes: 64 * 1024, repoBytes: 8 * 1024, tagBytes: 8 * 1024 }),
      path.join(work, 'layout'),
    );
    await pushLayout(plain, path.join(work, 'layout'));
    pki = await makePki(work);
    const port = await freePort();
    const configFile = path.join(work, 'tls-registry.yml');
    await writeFile(
      configFile,
      stringify({
        version: 0.1,
        log: { level: 'error' },
        storage: { filesystem: { rootdirectory: plain.dataDir } },
        http: {
          addr: `127.0.0.1:${port}`,
          tls: { certificate: pki.serverCert, key: pki.serverKey, clientcas: [pki.ca] },
        },
      }),
    );
    tlsRegistry = spawn('/usr/bin/docker-registry', ['serve', configFile], { stdio: 'ignore' });
    url = `https://127.0.0.1:${port}`;
    // Up when a TLS handshake with the client certificate completes.
    const tlsOptions = {
      host: '127.0.0.1',
      port,
      ca: readFileSync(pki.ca),
      cert: readFileSync(pki.clientCert),
      key: readFileSync(pki.clientKey),
    };
    await vi.waitFor(
      () =>
        new Promise<void>((resolve, reject) => {
          const socket = connect(tlsOptions, () => (socket.end(), resolve()));
          socket.on('error', (error) => reject(new Error('TLS registry did not come up', { cause: error })));
        }),
      { timeout: 15_000, interval: 100 },
    );
  });

  afterAll(async () => {
    if (tlsRegistry) await stopChild(tlsRegistry);
    await plain?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('syncs with caFile, certFile and keyFile', async () => {
    const config = await writeTestConfig(
      {
        registryUrl: url,
        include: ['stable/**'],
        extraSource: { insecure: false, tls: { caFile: pki.ca, certFile: pki.clientCert, keyFile: pki.clientKey } },
      },
      path.join(work, 'ok'),
    );
    const result = await runCli(['sync', '-c', config.file, '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(jsonOf(result)).toMatchObject({ result: 'ok', repositories: { synced: 2 } });
  });

  it('without the client certificate the registry refuses the handshake: a clear error, exit 1', async () => {
    const config = await writeTestConfig(
      {
        registryUrl: url,
        include: ['stable/**'],
        extraSource: { insecure: false, retries: 0, tls: { caFile: pki.ca } },
      },
      path.join(work, 'nocert'),
    );
    const result = await runCli(['sync', '-c', config.file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^blobmirror: error \S+: .*(certificate|handshake|socket hang up|ECONNRESET)/im);
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('without the CA the server certificate is not trusted', async () => {
    const config = await writeTestConfig(
      {
        registryUrl: url,
        include: ['stable/**'],
        extraSource: { insecure: false, retries: 0, tls: { certFile: pki.clientCert, keyFile: pki.clientKey } },
      },
      path.join(work, 'noca'),
    );
    const result = await runCli(['sync', '-c', config.file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/certificate/i);
  });
});
