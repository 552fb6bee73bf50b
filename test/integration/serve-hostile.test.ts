// Issue 8: `blobmirror serve` never reads outside its metadata directory and bounds what clients
// can make it hold. URL traversal is covered by the serve tests; here the metadata directory
// itself is tampered with (symlinks out of it, paths with ".."), and clients send oversized
// headers or open connections they never finish.
import { cp, mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { masterOnlyMirrors } from '../helpers/mirrors-file.js';
import { repositoryFilePath } from '../helpers/published.js';
import { startServe, type ServeProcess } from '../helpers/serve-process.js';
import { useTestWorld } from '../helpers/test-world.js';

const SECRET = 'outside-the-metadata-directory-secret';

describe('serve with a tampered metadata directory and hostile clients', () => {
  const world = useTestWorld({
    name: 'serve-hostile',
    spec: fixtureSpec({
      seed: 'serve-hostile',
      repos: 2,
      tagsPerRepo: 1,
      baseBytes: 32 * 1024,
      repoBytes: 4096,
      tagBytes: 1024,
    }),
    synced: { dir: 'sync' },
  });
  let metadata: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    metadata = path.join(world.config.root, 'metadata');
    const outside = path.join(world.work, 'outside');
    await mkdir(outside, { recursive: true });
    await writeFile(path.join(outside, 'secret'), SECRET);
    // stable/app-1's file itself is a symlink to an exact copy outside.
    const app1 = await repositoryFilePath(metadata, 'stable/app-1');
    await cp(app1, path.join(outside, 'app-1.json'));
    await rm(app1);
    await symlink(path.join(outside, 'app-1.json'), app1);
    // The directory holding stable/app-2's file now leads out of the metadata directory, to a
    // copy with the same bytes (so only the symlink can refuse it).
    const app2 = await repositoryFilePath(metadata, 'stable/app-2');
    const copy = path.join(outside, 'app-2-dir');
    await cp(path.dirname(app2), copy, { recursive: true, dereference: false, verbatimSymlinks: true });
    await rm(path.dirname(app2), { recursive: true });
    await symlink(copy, path.dirname(app2));

    serve = await startServe(['--metadata', metadata, '--mirrors', await masterOnlyMirrors(world.work)]);
  });

  afterAll(async () => {
    await serve?.stop();
  });

  it('does not follow a symlinked repository file or directory out of the metadata directory', async () => {
    for (const repo of ['stable/app-1', 'stable/app-2']) {
      const response = await fetch(`${serve.url}/v2/${repo}/tags/list`);
      const body = await response.text();
      expect(body).not.toContain(SECRET);
      expect(response.status, `${repo}: ${body}`).not.toBe(200);
    }
    // The service itself is still up.
    expect((await fetch(`${serve.url}/v2/`)).status).toBe(200);
  });

  it('answers oversized headers with an error and keeps serving', async () => {
    const response = await rawRequest(
      serve.port,
      `GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(128 * 1024)}\r\n\r\n`,
    );
    expect(response).toMatch(/^HTTP\/1\.1 4(00|31) /);
    expect((await fetch(`${serve.url}/v2/`)).status).toBe(200);
  });

  it('keeps answering while 300 clients hold half-sent requests open', async () => {
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 300; i++) {
        const socket = connect(serve.port, '127.0.0.1');
        socket.on('error', () => {});
        socket.write('GET /v2/ HTTP/1.1\r\nHost: x\r\n');
        sockets.push(socket);
      }
      const started = Date.now();
      expect((await fetch(`${serve.url}/v2/`)).status).toBe(200);
      expect(Date.now() - started).toBeLessThan(2000);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

function rawRequest(port: number, request: string): Promise<string> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect(port, '127.0.0.1', () => socket.end(request));
    socket.on('data', (d: Buffer) => (answer += d.toString('latin1')));
    socket.on('error', () => resolve(answer));
    socket.on('close', () => resolve(answer));
  });
}
