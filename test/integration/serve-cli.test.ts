// The serve command as an operator meets it: TLS with a real certificate, usage errors with exit
// code 2 and a message naming the problem, SIGHUP reopening the access log, SIGTERM stopping.
import { execFile } from 'node:child_process';
import { request } from 'node:https';
import { mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { MetadataFixture } from '../helpers/metadata-fixture.js';
import { startServe } from '../helpers/serve-process.js';
import { createSkopeo } from '../helpers/skopeo.js';

const run = promisify(execFile);

function httpsGet(port: number, target: string, ca: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: target, ca }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('blobmirror serve command', () => {
  let work: string;
  let metadata: string;
  let mirrors: string;

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-serve-cli-'));
    metadata = path.join(work, 'metadata');
    const fixture = new MetadataFixture(metadata);
    fixture.tag('demo/app', '1.0', fixture.image('demo/app', 'one').digest);
    await fixture.publish('0000000001');
    mirrors = path.join(work, 'mirrors.yaml');
    await writeFile(mirrors, 'version: 1\nmaster: https://master.example.org/tree\n');
  });

  afterAll(() => rm(work, { recursive: true, force: true }));

  it('serves HTTPS with --tls-cert/--tls-key; skopeo inspects through it', async () => {
    const [cert, key] = [path.join(work, 'cert.pem'), path.join(work, 'key.pem')];
    await run('openssl', [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ]);
    const serve = await startServe([
      '--metadata',
      metadata,
      '--mirrors',
      mirrors,
      '--tls-cert',
      cert,
      '--tls-key',
      key,
    ]);
    try {
      expect(serve.url).toBe(`https://127.0.0.1:${serve.port}`);
      const reply = await httpsGet(serve.port, '/v2/', await readFile(cert));
      expect([reply.status, reply.body]).toEqual([200, '{}']);
      const skopeo = await createSkopeo();
      try {
        const inspected = JSON.parse(
          await skopeo.ok(['inspect', '--raw', '--tls-verify=false', `docker://127.0.0.1:${serve.port}/demo/app:1.0`]),
        ) as { schemaVersion: number };
        expect(inspected.schemaVersion).toBe(2);
      } finally {
        await skopeo.dispose();
      }
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });

  it('refuses bad options with exit 2 and a precise message', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--metadata', metadata, '--mirrors', mirrors, '--tls-cert', mirrors], /--tls-cert and --tls-key go together/],
      [['--metadata', path.join(work, 'nope'), '--mirrors', mirrors], /--metadata .*nope is not a directory/],
      [['--metadata', metadata, '--mirrors', path.join(work, 'nope.yaml')], /cannot read mirror list .*nope\.yaml/],
      [['--metadata', metadata, '--mirrors', mirrors, '--listen', 'localhost'], /--listen expects host:port/],
      [['--metadata', metadata, '--mirrors', mirrors, '--mode', 'proxy'], /Allowed choices are redirect, urls/],
      [
        ['--metadata', metadata, '--mirrors', mirrors, '--access-log', path.join(work, 'no', 'dir', 'log')],
        /--access-log .*no such file/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(['serve', ...args]);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr, args.join(' ')).toMatch(message);
    }
    await writeFile(
      path.join(work, 'bad.yaml'),
      'version: 1\nmaster: https://m\nmirrors:\n  - url: https://a\n    weight: -1\n',
    );
    const bad = await runCli(['serve', '--metadata', metadata, '--mirrors', path.join(work, 'bad.yaml')]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('bad.yaml: mirrors.0.weight (line 5, column 13): weight must be above 0');
  });

  it('without metadata says its cause once (naming the link once), not once per request', async () => {
    const empty = path.join(work, 'empty-metadata');
    await mkdir(empty);
    const serve = await startServe(['--metadata', empty, '--mirrors', mirrors]);
    try {
      for (let i = 0; i < 3; i++) expect((await fetch(`${serve.url}/v2/demo/app/manifests/1.0`)).status).toBe(503);
    } finally {
      expect(await serve.stop()).toBe(0);
    }
    const messages = serve.logLines().map((line) => (JSON.parse(line) as { msg: string }).msg);
    const causes = messages.filter((msg) => msg.includes('no published generation') || msg === 'no metadata to serve');
    expect(causes).toEqual([
      `no published generation: the link ${empty}/current does not exist; answering 503 until sync publishes one`,
    ]);
  });

  it('reopens the access log on SIGHUP (logrotate) and stops on SIGTERM', async () => {
    const log = path.join(work, 'access.log');
    const serve = await startServe(['--metadata', metadata, '--mirrors', mirrors, '--access-log', log]);
    try {
      await fetch(`${serve.url}/v2/demo/app/manifests/1.0`);
      await rename(log, `${log}.1`);
      process.kill(serve.pid, 'SIGHUP');
      // The reopen is asynchronous; a request after it lands in the new file.
      await vi.waitFor(
        async () => {
          await fetch(`${serve.url}/v2/demo/app/tags/list`);
          expect(await readFile(log, 'utf8')).toContain('tags/list');
        },
        { timeout: 5000, interval: 20 },
      );
      expect(await readFile(`${log}.1`, 'utf8')).toContain('"GET /v2/demo/app/manifests/1.0 HTTP/1.1" 200');
      expect(await readFile(log, 'utf8')).toContain('"GET /v2/demo/app/tags/list HTTP/1.1" 200');
    } finally {
      expect(await serve.stop()).toBe(0);
    }
  });
});
