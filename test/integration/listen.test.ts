// Issue 5 acceptance: `blobmirror listen` against the real RabbitMQ and docker-registry.
// Every scenario has its own storage root and queue; image-uploader topics carry a per-run suffix
// (the topic allows suffixes) so concurrent runs on the shared broker never see each other's
// messages, and the 20-message scenario uses its own exchange.
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages, type GeneratedImages } from '../../src/demo/image-generator.js';
import { fixtureSpec } from '../helpers/fixture-spec.js';
import { jsonOf, runCli, writeTestConfig } from '../helpers/cli.js';
import { startFaultProxy, type FaultProxy } from '../helpers/fault-proxy.js';
import {
  Bus,
  addListenSection,
  closeBrokerConnection,
  median,
  publishedRepositories,
  startListener,
  waitFor,
  type ListenerProcess,
} from '../helpers/listen.js';
import { pushLayout } from '../helpers/push.js';
import { freePort, startRegistry, type RegistryHandle } from '../helpers/registry.js';
import { tempFiles, treeProblems } from '../helpers/tree-check.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const RUN = randomUUID().slice(0, 8);
const UPLOADER = `fedora_image_uploader.published.v1.container.${RUN}`;
const GENERIC = `blobmirror.test.${RUN}`;

describe('blobmirror listen', () => {
  let work: string;
  let layout: string;
  let generated: GeneratedImages;
  let registry: RegistryHandle;
  let proxy: FaultProxy;
  let bus: Bus;
  const queues: string[] = [];
  const exchanges: string[] = [];
  const listeners: ListenerProcess[] = [];
  const latencies: { what: string; ms: number }[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(tmpdir(), 'blobmirror-listen-it-'));
    layout = path.join(work, 'layout');
    generated = await generateImages(
      fixtureSpec({
        repos: 6,
        candidateRepos: 1,
        tagsPerRepo: 2,
        baseBytes: MiB,
        repoBytes: 128 * KiB,
        tagBytes: 16 * KiB,
      }),
      layout,
    );
    [registry, bus] = await Promise.all([startRegistry(), Bus.open()]);
    await pushLayout(registry, layout);
    proxy = await startFaultProxy({ upstream: registry.url });
  });

  afterAll(async () => {
    for (const listener of listeners) await listener.kill().catch(() => {});
    await bus?.cleanup(queues, exchanges).catch(() => {});
    await bus?.close().catch(() => {});
    await proxy?.close();
    await registry?.stop();
    await rm(work, { recursive: true, force: true });
    if (latencies.length) {
      process.stdout.write(
        `\nlisten latency, trigger -> published metadata (median ${median(latencies.map((l) => l.ms))} ms):\n${latencies.map((l) => `  ${l.what}: ${l.ms} ms`).join('\n')}\n`,
      );
    }
  });

  /** A config for a fresh storage root whose source is `url`, with a listen: section. */
  async function setup(
    name: string,
    listen: Record<string, unknown>,
    url = registry.url,
    amqpExtra: Record<string, unknown> = {},
  ) {
    const dir = path.join(work, name);
    const config = await writeTestConfig({ registryUrl: url, include: ['stable/**'] }, dir);
    const queue = `blobmirror-test-${name}-${RUN}`;
    queues.push(queue);
    const amqp = {
      url: 'amqp://guest:guest@127.0.0.1:5672',
      queue,
      routingKeys: [`org.fedoraproject.prod.${UPLOADER}.#`, `org.fedoraproject.prod.${GENERIC}.#`],
      ...amqpExtra,
    };
    await addListenSection(config.file, { amqp, coalesceSeconds: 0.3, ...listen });
    return { ...config, queue, metadata: path.join(config.root, 'metadata'), tree: path.join(config.root, 'tree') };
  }

  async function listen(configFile: string, env?: NodeJS.ProcessEnv): Promise<ListenerProcess> {
    const listener = await startListener(configFile, env);
    listeners.push(listener);
    return listener;
  }

  const uploaded = (repository: string) => ({
    repository,
    tags: Object.keys(generated.repositories[repository]!.tags),
    architectures: ['x86_64'],
    registries: ['registry.fedoraproject.org'],
    release: 41,
    compose_id: 'Fedora-41-20261122.0',
  });

  /** Published with every tag the registry has: the repository's sync is complete. */
  const isPublished = async (metadata: string, repository: string) =>
    JSON.stringify((await publishedRepositories(metadata))[repository]?.tags) ===
    JSON.stringify(generated.repositories[repository]!.tags);

  const readStatus = async (root: string) =>
    JSON.parse(await readFile(path.join(root, 'state/listen/status.json'), 'utf8'));

  const triggeredRuns = (listener: ListenerProcess) =>
    listener.logs.filter((l) => l.msg.startsWith('triggered sync of '));

  it('1, 4: a fedora-messaging message syncs its repository; malformed, unknown and ignored messages are acked and logged, and the next valid one works', async () => {
    const s = await setup('basic', {});
    const listener = await listen(s.file);
    const malformed = await bus.publish(`${GENERIC}.malformed`, '{"repository": "stable/app-1"');
    const unknown = await bus.publish(
      `${GENERIC}.unknown`,
      { build_id: 42, owner: 'someone' },
      { schema: 'koji.build.tag.v1' },
    );
    const ignored = await bus.publish(UPLOADER, uploaded('candidate/app-1'));
    const sent = Date.now();
    const valid = await bus.publish(UPLOADER, uploaded('stable/app-1'));
    await waitFor('stable/app-1 published', () => isPublished(s.metadata, 'stable/app-1'));
    latencies.push({ what: 'fedora-messaging stable/app-1', ms: Date.now() - sent });

    const byId = (id: string) => listener.logs.find((l) => l.messageId === id);
    expect(byId(malformed)).toMatchObject({
      level: 40,
      msg: expect.stringMatching(/^invalid message .*: body is not JSON; acked and dropped$/),
    });
    expect(byId(unknown)).toMatchObject({ level: 40, msg: expect.stringContaining('unknown schema') });
    expect(byId(ignored)).toMatchObject({ level: 30, msg: expect.stringContaining('candidate/app-1: not selected') });
    expect(byId(valid)).toMatchObject({
      msg: expect.stringContaining('trigger from message'),
      handler: 'image-uploader',
    });
    // Tree: every blob of the repository, verified; nothing of the candidate.
    expect(await treeProblems(s.tree)).toEqual([]);
    for (const digest of generated.repositories['stable/app-1']!.blobs)
      await stat(path.join(s.tree, 'stable/app-1/_blobs/sha256', digest.slice(7)));
    expect(Object.keys(await publishedRepositories(s.metadata))).toEqual(['stable/app-1']);

    // More single triggers, for the latency figure.
    for (const repository of ['stable/app-2', 'stable/app-3', 'stable/app-4', 'stable/app-5']) {
      const at = Date.now();
      await bus.publish(UPLOADER, uploaded(repository));
      await waitFor(`${repository} published`, () => isPublished(s.metadata, repository));
      latencies.push({ what: `fedora-messaging ${repository}`, ms: Date.now() - at });
    }
    const status = await waitFor('status after the last run', async () => {
      const current = await readStatus(s.root);
      return current.lastTrigger?.repositories[0] === 'stable/app-5' && current.state === 'idle' ? current : undefined;
    });
    expect(status).toMatchObject({
      formatVersion: 1,
      amqp: { queue: s.queue, connected: true, unacked: 0 },
      pending: [],
      lastTrigger: { result: 'ok' },
    });
    expect(status.lastTrigger.latencyMs).toBeGreaterThan(0);

    expect(await listener.stop()).toBe(0);
    // Every message was acked: nothing went back to the queue when the listener let go.
    expect(await bus.queueDepth(s.queue)).toBe(0);
  });

  it('4: with deadLetterExchange, malformed and unknown messages are dead-lettered instead of dropped', async () => {
    const dlx = `blobmirror-test-dlx-${RUN}`;
    const dead = `blobmirror-test-dead-${RUN}`;
    await bus.declareDeadLetter(dlx, dead);
    exchanges.push(dlx);
    queues.push(dead);
    const s = await setup('dlx', {}, registry.url, { deadLetterExchange: dlx });
    const listener = await listen(s.file);
    const malformed = await bus.publish(`${GENERIC}.malformed`, 'not json at all');
    const unknown = await bus.publish(`${GENERIC}.unknown`, { hello: 'world' });
    await bus.publish(UPLOADER, uploaded('stable/app-1'));
    await waitFor('stable/app-1 published', () => isPublished(s.metadata, 'stable/app-1'));
    await waitFor('two dead letters', async () => (await bus.queueDepth(dead)) === 2);
    for (const id of [malformed, unknown])
      expect(listener.logs.find((l) => l.messageId === id)?.msg).toMatch(/; dead-lettered$/);
    expect(await listener.stop()).toBe(0);
    expect(await bus.queueDepth(s.queue)).toBe(0);
  });

  it('2: 20 messages for 5 repositories within the window make one or a few targeted syncs', async () => {
    const exchange = `blobmirror-test-${RUN}`;
    await bus.declareTopicExchange(exchange);
    exchanges.push(exchange);
    const s = await setup('burst', { coalesceSeconds: 2, bodhi: { template: 'stable/{name}' } });
    const config = (await readFile(s.file, 'utf8'))
      .replace(/routingKeys:\n(\s+- .*\n)+/, `routingKeys:\n      - "org.fedoraproject.prod.#"\n`)
      .replace(/(\n\s+queue:)/, `\n    exchange: ${exchange}$1`);
    await writeFile(s.file, config);
    const listener = await listen(s.file);
    const repos = ['stable/app-1', 'stable/app-2', 'stable/app-3', 'stable/app-4', 'stable/app-5'];
    const forms = [
      (r: string) => bus.publish('fedora_image_uploader.published.v1.container', uploaded(r), { exchange }),
      (r: string) =>
        bus.publish(
          'bodhi.update.complete.stable',
          {
            update: {
              content_type: 'container',
              alias: 'FEDORA-CONTAINER-1',
              builds: [{ nvr: `${r.split('/')[1]}-1.1-1`, type: 'container', signed: true }],
              status: 'stable',
            },
            agent: 'bodhi',
          },
          { exchange, schema: 'bodhi.update.complete.stable.v1' },
        ),
      (r: string) => bus.publish('blobmirror.sync', { repositories: [r] }, { exchange }),
      (r: string) =>
        bus.publish(
          'registry.notification',
          {
            events: [
              {
                action: 'push',
                target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', repository: r, tag: 'latest' },
              },
            ],
          },
          { exchange },
        ),
    ];
    const sent = Date.now();
    for (let i = 0; i < 20; i++) await forms[i % 4]!(repos[i % 5]!);
    for (const r of repos) await waitFor(`${r} published`, () => isPublished(s.metadata, r));
    latencies.push({ what: 'burst of 20 messages, last repository', ms: Date.now() - sent });
    await waitFor(
      'all 20 messages handled',
      () => listener.logs.filter((l) => l.msg.startsWith('trigger from message')).length === 20,
    );
    // The first message for each repository is held until its sync is published; the other 15
    // add nothing to what is pending and are acked at once, so the whole burst fits the window.
    expect(listener.logs.filter((l) => l.msg.startsWith('trigger from message') && l.held === false)).toHaveLength(15);
    const runs = triggeredRuns(listener);
    expect(runs.length).toBeGreaterThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(2);
    expect(runs[0]!.repositories).toEqual(repos);
    process.stdout.write(`burst: 20 messages -> ${runs.length} triggered sync(s)\n`);
    expect(await listener.stop()).toBe(0);
    expect(await bus.queueDepth(s.queue)).toBe(0);
  });

  it('3: SIGKILL in the middle of a triggered sync: after restart the message is redelivered and the sync completes, tree consistent', async () => {
    const s = await setup('kill', {}, proxy.url);
    // The shared base layer stalls half way: the sync is caught writing a blob.
    proxy.setRules([
      { method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'stall', ms: 20_000, afterBytes: 256 * KiB } },
    ]);
    const first = await listen(s.file);
    const id = await bus.publish(UPLOADER, uploaded('stable/app-6'));
    await first.waitForLog('triggered sync', (l) => l.msg === 'triggered sync of stable/app-6');
    // Killed mid-download: the stalled blob's first bytes are in a partial file.
    const partial = path.join(s.root, 'state/partial');
    await waitFor('a partial download on disk', async () => {
      for (const name of await readdir(partial).catch(() => []))
        if ((await stat(path.join(partial, name)).catch(() => undefined))?.size) return true;
      return undefined;
    });
    await first.kill();
    proxy.setRules([]);
    expect(await publishedRepositories(s.metadata)).toEqual({});
    // The broker takes the unacked message back; pending.json still names the repository.
    await waitFor('message back in the queue', async () => (await bus.queueDepth(s.queue)) === 1);
    expect(
      JSON.parse(await readFile(path.join(s.root, 'state/listen/pending.json'), 'utf8')).repositories,
    ).toHaveProperty(['stable/app-6']);

    const second = await listen(s.file);
    await second.waitForLog('redelivery', (l) => l.messageId === id && l.redelivered === true);
    await waitFor('stable/app-6 published', () => isPublished(s.metadata, 'stable/app-6'));
    await waitFor('the redelivered message acked', async () => (await readStatus(s.root)).amqp.unacked === 0);
    // The resumed pending entry and the redelivery make one run when the redelivery arrives
    // within the window; on a loaded machine it may come after it and make a second, no more.
    expect(triggeredRuns(second).length).toBeGreaterThanOrEqual(1);
    expect(triggeredRuns(second).length).toBeLessThanOrEqual(2);
    expect(await second.stop()).toBe(0);
    expect(await bus.queueDepth(s.queue)).toBe(0);
    expect(await treeProblems(s.tree)).toEqual([]);
    expect(await tempFiles(s.root)).toEqual([]);
    // Each blob once in the tree, a hardlink of its store object: nothing duplicated.
    for (const digest of generated.repositories['stable/app-6']!.blobs) {
      expect((await stat(path.join(s.tree, 'stable/app-6/_blobs/sha256', digest.slice(7)))).nlink).toBe(2);
    }
    expect(JSON.parse(await readFile(path.join(s.root, 'state/listen/pending.json'), 'utf8')).repositories).toEqual({});
  });

  it('SIGTERM during a triggered sync lets it finish and ack; past the grace period it is abandoned and the message goes back', async () => {
    const graceful = await setup('sigterm', { shutdownGraceSeconds: 30 }, proxy.url);
    proxy.setRules([
      { method: 'GET', path: /\/blobs\/sha256:/, times: 1, fault: { kind: 'stall', ms: 1500, afterBytes: 0 } },
    ]);
    const first = await listen(graceful.file);
    await bus.publish(UPLOADER, uploaded('stable/app-3'));
    await first.waitForLog('triggered sync', (l) => l.msg === 'triggered sync of stable/app-3');
    await waitFor('a stalled blob download', () => proxy.requests.some((r) => r.rule === 0));
    expect(await first.stop()).toBe(0);
    expect(await isPublished(graceful.metadata, 'stable/app-3')).toBe(true);
    expect(await bus.queueDepth(graceful.queue)).toBe(0);

    const hurried = await setup('abandon', { shutdownGraceSeconds: 0.5 }, proxy.url);
    proxy.setRules([{ method: 'GET', path: /\/blobs\/sha256:/, fault: { kind: 'stall', ms: 20_000, afterBytes: 0 } }]);
    const second = await listen(hurried.file);
    await bus.publish(UPLOADER, uploaded('stable/app-4'));
    await second.waitForLog('triggered sync', (l) => l.msg === 'triggered sync of stable/app-4');
    await waitFor('a stalled blob download', () => proxy.requests.some((r) => r.rule === 0));
    expect(await second.stop()).toBe(1);
    proxy.setRules([]);
    expect(second.logs.some((l) => l.msg.includes('did not finish within 0.5 s; abandoning it'))).toBe(true);
    await waitFor('message back in the queue', async () => (await bus.queueDepth(hurried.queue)) === 1);
    expect(
      JSON.parse(await readFile(path.join(hurried.root, 'state/listen/pending.json'), 'utf8')).repositories,
    ).toHaveProperty(['stable/app-4']);
  });

  it('a lost broker connection is re-established; the delivery it held is redelivered and still synced and acked', async () => {
    const s = await setup('reconnect', {}, proxy.url);
    proxy.setRules([
      { method: 'GET', path: /\/blobs\/sha256:/, times: 1, fault: { kind: 'stall', ms: 5000, afterBytes: 0 } },
    ]);
    const listener = await listen(s.file);
    const id = await bus.publish(UPLOADER, uploaded('stable/app-5'));
    await listener.waitForLog('triggered sync', (l) => l.msg === 'triggered sync of stable/app-5');
    await closeBrokerConnection(listener.child.pid!);
    await listener.waitForLog('reconnecting', (l) => l.msg === 'lost the broker connection; reconnecting');
    await listener.waitForLog('redelivery', (l) => l.messageId === id && l.redelivered === true);
    await waitFor('stable/app-5 published', () => isPublished(s.metadata, 'stable/app-5'));
    await waitFor('nothing held or pending', async () => {
      const status = await readStatus(s.root);
      return (
        status.amqp.connected && status.amqp.unacked === 0 && status.pending.length === 0 && !status.running.length
      );
    });
    expect(listener.logs.filter((l) => l.msg.startsWith('consuming from queue'))).toHaveLength(2);
    expect(await listener.stop()).toBe(0);
    expect(await bus.queueDepth(s.queue)).toBe(0);
    proxy.setRules([]);
  });

  it('5: a push to the registry triggers through the webhook; a wrong secret gets 401 and triggers nothing', async () => {
    const port = await freePort();
    const secret = randomBytes(12).toString('hex');
    const hooked = await startRegistry({
      notifications: [
        {
          url: `http://127.0.0.1:${port}/notifications`,
          headers: { Authorization: [`Bearer ${secret}`] },
          backoff: '500ms',
        },
      ],
    });
    try {
      const dir = path.join(work, 'webhook');
      const config = await writeTestConfig({ registryUrl: hooked.url, include: ['stable/**'] }, dir);
      const secretFile = path.join(dir, 'webhook-secret');
      await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
      await addListenSection(config.file, { webhook: { port, secretFile }, coalesceSeconds: 0.3 });
      const metadata = path.join(config.root, 'metadata');
      const listener = await listen(config.file);
      expect(listener.info.webhook).toBe(`http://127.0.0.1:${port}/notifications`);

      const pushedAt = Date.now();
      await pushLayout(hooked, layout, { repositories: ['stable/app-2'] });
      const pushDone = Date.now();
      await waitFor('stable/app-2 published', () => isPublished(metadata, 'stable/app-2'));
      latencies.push({
        what: `registry push stable/app-2 (push itself ${pushDone - pushedAt} ms)`,
        ms: Date.now() - pushedAt,
      });
      expect(listener.logs.some((l) => l.msg === 'trigger from the registry webhook: stable/app-2')).toBe(true);
      expect(listener.logs.every((l) => !String(l.msg).includes(secret))).toBe(true);

      const envelope = JSON.stringify({
        events: [
          {
            action: 'push',
            target: { mediaType: 'application/vnd.oci.image.index.v1+json', repository: 'stable/app-3', tag: 'latest' },
          },
        ],
      });
      const post = (headers: Record<string, string>) =>
        fetch(listener.info.webhook!, {
          method: 'POST',
          headers: { 'content-type': 'application/vnd.docker.distribution.events.v1+json', ...headers },
          body: envelope,
        });
      // The registry may still deliver late events of the push (more runs of stable/app-2); the
      // rejected calls name stable/app-3, which must never be synced.
      const app3Runs = () => triggeredRuns(listener).filter((l) => String(l.msg).includes('stable/app-3'));
      expect((await post({ authorization: 'Bearer not-the-secret' })).status).toBe(401);
      expect((await post({})).status).toBe(401);
      expect((await post({ authorization: `Bearer ${secret}x` })).status).toBe(401);
      // Once the listener has logged all three rejections, nothing of theirs can be queued.
      await vi.waitFor(() =>
        expect(
          listener.logs.filter((l) => l.msg.includes('rejected a request without the shared secret')),
        ).toHaveLength(3),
      );
      expect(app3Runs()).toEqual([]);
      expect(
        JSON.parse(await readFile(path.join(config.root, 'state/listen/pending.json'), 'utf8')).repositories,
      ).not.toHaveProperty(['stable/app-3']);
      expect(Object.keys(await publishedRepositories(metadata))).toEqual(['stable/app-2']);
      expect(await listener.stop()).toBe(0);
    } finally {
      await hooked.stop();
    }
  });

  it('6: a cron sync and a triggered sync started together both complete, one after the other', async () => {
    const s = await setup('cron', {}, proxy.url);
    // The cron run's first blob download stalls 2 s (then is resumed), so it holds the lock a while.
    proxy.setRules([
      { method: 'GET', path: /\/blobs\/sha256:/, times: 1, fault: { kind: 'stall', ms: 2000, afterBytes: 0 } },
    ]);
    const listener = await listen(s.file);
    const cron = runCli(['sync', '-c', s.file, '--repo', 'stable/app-1', '--wait-lock', '60', '--json']);
    await waitFor('the cron sync holding the lock', () =>
      stat(path.join(s.root, 'state/lock')).then(
        () => true,
        () => undefined,
      ),
    );
    await bus.publish(UPLOADER, uploaded('stable/app-2'));
    await listener.waitForLog('waiting for the lock', (l) => /^tree locked by sync \(pid \d+/.test(l.msg));
    const cronResult = await cron;
    expect(cronResult.code, cronResult.stderr).toBe(0);
    expect(jsonOf(cronResult)).toMatchObject({ result: 'ok', generation: '0000000001' });
    const done = await listener.waitForLog('triggered sync done', (l) => l.msg.startsWith('triggered sync ok'));
    // The triggered run started after cron published and carried its repository over.
    expect(done.generation).toBe('0000000002');
    expect(Object.keys(await publishedRepositories(s.metadata)).sort()).toEqual(['stable/app-1', 'stable/app-2']);
    expect(await listener.stop()).toBe(0);
    proxy.setRules([]);
  });
});
