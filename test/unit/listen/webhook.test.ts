import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/errors.js';
import type { TaggedPush } from '../../../src/listen/registry-events.js';
import { readSecret, startWebhook, type Webhook } from '../../../src/listen/webhook.js';

const SECRET = 'hook-secret';
const log = pino({ level: 'silent' });
const push = (repository: string, tag = 'latest') => ({
  action: 'push',
  target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', repository, tag },
});

describe('webhook receiver', () => {
  let webhook: Webhook;
  const calls: TaggedPush[][] = [];
  let failNext = false;

  beforeAll(async () => {
    webhook = await startWebhook({
      config: { address: '127.0.0.1', port: 0, header: 'X-Hook-Secret', secretEnv: 'UNUSED' },
      secret: SECRET,
      log,
      accept: async (pushes) => {
        if (failNext) {
          failNext = false;
          throw new Error('ENOSPC');
        }
        calls.push(pushes);
        return { accepted: pushes.map((p) => p.repository), ignored: [] };
      },
    });
  });
  afterAll(() => webhook.close());

  const post = (body: string, headers: Record<string, string> = { 'x-hook-secret': SECRET }, url = webhook.url) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', ...headers },
      body,
    });

  it('answers only POST /notifications', async () => {
    expect((await fetch(webhook.url)).status).toBe(405);
    expect((await post('{}', undefined, webhook.url.replace('/notifications', '/other'))).status).toBe(404);
  });

  it('401 without the secret (bare or Bearer accepted), before reading anything', async () => {
    const body = JSON.stringify({ events: [push('a/b')] });
    expect((await post(body, {})).status).toBe(401);
    expect((await post(body, { 'x-hook-secret': 'wrong' })).status).toBe(401);
    expect(calls).toEqual([]);
    expect((await post(body, { 'x-hook-secret': `Bearer ${SECRET}` })).status).toBe(200);
    expect(calls.splice(0)).toEqual([[{ repository: 'a/b', tag: 'latest' }]]);
  });

  it('400 for what is not an envelope, 200 without a call for envelopes with no tagged push', async () => {
    expect((await post('{nope')).status).toBe(400);
    expect((await post('{"events": 3}')).status).toBe(400);
    const pulls = await post(JSON.stringify({ events: [{ action: 'pull', target: { repository: 'a/b', tag: 'x' } }] }));
    expect([pulls.status, await pulls.json()]).toEqual([200, { accepted: [], ignored: [] }]);
    expect(calls).toEqual([]);
  });

  it('503 when the triggers cannot be persisted, so the registry retries', async () => {
    failNext = true;
    expect((await post(JSON.stringify({ events: [push('a/b')] }))).status).toBe(503);
  });

  it('413 for a body over 1 MiB', async () => {
    expect((await post(JSON.stringify({ events: [], pad: 'x'.repeat(1024 * 1024) }))).status).toBe(413);
  });
});

describe('secrets and TLS files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'blobmirror-listen-unit-'));
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it('readSecret: file without its trailing newline, or env; empty is a ConfigError', async () => {
    await writeFile(path.join(dir, 'secret'), 'abc\n');
    expect(await readSecret({ address: '', port: 0, header: 'A', secretFile: path.join(dir, 'secret') })).toBe('abc');
    process.env.BLOBMIRROR_TEST_HOOK = 'from-env';
    expect(await readSecret({ address: '', port: 0, header: 'A', secretEnv: 'BLOBMIRROR_TEST_HOOK' })).toBe('from-env');
    await expect(readSecret({ address: '', port: 0, header: 'A', secretEnv: 'BLOBMIRROR_TEST_UNSET' })).rejects.toThrow(
      ConfigError,
    );
    await expect(
      readSecret({ address: '', port: 0, header: 'A', secretFile: path.join(dir, 'missing') }),
    ).rejects.toThrow(/listen\.webhook\.secretFile/);
  });
});
