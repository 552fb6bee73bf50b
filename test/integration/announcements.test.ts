// Issue 15: a published generation produces one message on RabbitMQ with the documented body,
// and a listening `crawl` verifies an already-rsynced mirror on it, without waiting its interval.
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateImages } from '../../src/demo/image-generator.js';
import { writeMirrorList } from '../helpers/mirrors-file.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { readMirrorState } from '../../src/freshness/mirror-state.js';
import { CLI_ARGS, runCli, writeTestConfig } from '../helpers/cli.js';
import { BROKER } from '../helpers/listen.js';
import { startNginx, type NginxHandle } from '../helpers/nginx.js';
import { pushLayout } from '../helpers/push.js';
import { startRegistry, type RegistryHandle } from '../helpers/registry.js';

const PREFIX = `test${process.pid}`;
const TOPIC = `${PREFIX}.blobmirror.generation.published`;

describe('generation announcements', () => {
  let registry: RegistryHandle;
  let work: string;
  let nginx: NginxHandle;

  beforeAll(async () => {
    registry = await startRegistry();
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-announce-'));
    await generateImages(
      fixtureSpec({
        seed: 'announce',
        repos: 1,
        tagsPerRepo: 2,
        baseBytes: 16 * 1024,
        repoBytes: 4096,
        tagBytes: 2048,
      }),
      path.join(work, 'layout'),
    );
    await pushLayout(registry, path.join(work, 'layout'));
  }, 120_000);

  afterAll(async () => {
    await nginx?.stop();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
  });

  it('one message per published generation; a listening checker verifies at once', async () => {
    const config = (tags?: Record<string, unknown>) =>
      writeTestConfig(
        {
          registryUrl: registry.url,
          include: ['stable/app-1'],
          tags,
          extra: { announce: { amqp: { url: BROKER, topicPrefix: PREFIX } } },
        },
        path.join(work, 'master'),
      );
    const { file, root } = await config({ include: ['^1\\.0$'] });
    expect((await runCli(['sync', '-c', file])).code).toBe(0);

    // The mirror is the master's own tree: always rsynced.
    nginx = await startNginx(path.join(root, 'tree'));
    const mirrors = await writeMirrorList(work, {
      master: nginx.url,
      mirrors: [{ url: nginx.url }],
      check: {
        intervalSeconds: 3600,
        announcements: { url: BROKER, queue: `blobmirror-crawl-${process.pid}`, routingKeys: [`${PREFIX}.#`] },
      },
    });
    const connection = await amqp.connect(BROKER);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    await channel.bindQueue(queue, 'amq.topic', TOPIC);
    const crawl = spawn(
      process.execPath,
      [...CLI_ARGS, 'crawl', '--metadata', `${root}/metadata`, '--mirrors', mirrors],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
      },
    );
    let log = '';
    crawl.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    try {
      const verifiedAt = async () =>
        (await readMirrorState(`${root}/metadata`))?.mirrors[nginx.url]?.modules.containers?.verifiedGeneration;
      for (let i = 0; i < 300 && !(log.includes('consuming from queue') && (await verifiedAt())); i++) await sleep(50);
      const gen1 = await verifiedAt();
      expect(gen1).toMatch(/^\d{10}$/);

      await config(undefined);
      expect((await runCli(['sync', '-c', file])).code).toBe(0);
      const synced = Date.now();
      let gen2: string | null | undefined;
      while (Date.now() - synced < 2000 && (gen2 = await verifiedAt()) === gen1) await sleep(25);
      expect(Number(gen2)).toBe(Number(gen1) + 1);

      const message = await channel.get(queue, { noAck: true });
      expect(message).not.toBe(false);
      if (!message) return;
      expect(message.fields.routingKey).toBe(TOPIC);
      expect(message.properties).toMatchObject({ contentType: 'application/json', deliveryMode: 2 });
      expect(message.properties.headers).toMatchObject({
        fedora_messaging_schema: 'blobmirror.generation.published.v1',
      });
      const body = JSON.parse(message.content.toString()) as Record<string, unknown>;
      const list = await readFile(path.join(root, 'tree/fullfiletimelist-containers'));
      const { createHash } = await import('node:crypto');
      expect(body).toEqual({
        generation: gen2,
        previousGeneration: gen1,
        publishedAt: expect.any(String),
        modules: {
          containers: {
            root: '',
            fileList: 'fullfiletimelist-containers',
            sha256: createHash('sha256').update(list).digest('hex'),
          },
        },
        repositories: { 'stable/app-1': { tagsChanged: ['1.1', 'latest'], tagsRemoved: [] } },
      });
      // Exactly one: the first sync was before the queue existed.
      expect(await channel.get(queue, { noAck: true })).toBe(false);
    } finally {
      crawl.kill('SIGTERM');
      await new Promise((resolve) => crawl.once('exit', resolve));
      await connection.close();
    }
  }, 120_000);
});
