// `blobmirror listen`, composed: bus deliveries and webhook pushes become triggers, the
// coalescer batches them, one targeted sync runs at a time (waiting for the tree lock like any
// run), and deliveries are settled only once their work is published or durably pending.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { Config, ListenConfig } from '../config/load.js';
import { LockedError, describeError } from '../errors.js';
import type { Source } from '../source/source.js';
import { acquireLock, describeHolder, readLock, type Lock } from '../store/lock.js';
import { stateLayout } from '../store/paths.js';
import { runSync } from '../sync/run.js';
import { isRepositorySelected } from '../sync/select.js';
import type { SyncSummary } from '../report/sync-summary.js';
import { AmqpConsumer, type Delivery } from './amqp-consumer.js';
import { Coalescer, type Batch } from './coalescer.js';
import { decide, type Decision } from './messages.js';
import type { TaggedPush } from './registry-events.js';
import {
  LISTENER_LOCK,
  PENDING_FILE,
  STATE_FORMAT_VERSION,
  STATUS_FILE,
  SnapshotWriter,
  loadPending,
  renderPending,
  type ListenerStatus,
} from './state-files.js';
import { readSecret, startWebhook, type Accepted, type Webhook } from './webhook.js';

export type ListeningConfig = Config & { listen: ListenConfig };

const DEPTH_REFRESH_MS = 5000;

export class Listener {
  readonly #listen: ListenConfig;
  readonly #log: Logger;
  readonly #coalescer: Coalescer;
  readonly #pending: SnapshotWriter;
  readonly #statusFile: SnapshotWriter;
  readonly #status: ListenerStatus;
  #consumer: AmqpConsumer | undefined;
  #webhook: Webhook | undefined;
  #lock: Lock | undefined;
  #depthTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;
  #stopping = false;
  #done: Promise<void> = Promise.resolve();

  constructor(
    private readonly config: ListeningConfig,
    log: Logger,
    /** A fresh source per triggered sync (the CLI picks the backend). */
    private readonly openSource: () => Promise<Source>,
  ) {
    this.#listen = config.listen;
    this.#log = log;
    this.#coalescer = new Coalescer(this.#listen.coalesceSeconds * 1000, {
      initialMs: this.#listen.retry.initialSeconds * 1000,
      maxMs: this.#listen.retry.maxSeconds * 1000,
    });
    this.#pending = new SnapshotWriter(path.join(this.#listen.stateDir, PENDING_FILE), () =>
      renderPending(this.#coalescer.durable(), new Date()),
    );
    const now = new Date().toISOString();
    this.#status = {
      formatVersion: STATE_FORMAT_VERSION,
      pid: process.pid,
      startedAt: now,
      updatedAt: now,
      state: 'starting',
      amqp: this.#listen.amqp
        ? { queue: this.#listen.amqp.queue, connected: false, queueDepth: null, depthAt: null, unacked: 0 }
        : null,
      webhook: null,
      pending: [],
      running: [],
      lastMessage: null,
      lastTrigger: null,
      lastError: null,
    };
    this.#statusFile = new SnapshotWriter(path.join(this.#listen.stateDir, STATUS_FILE), () => this.#renderStatus());
  }

  /** Where it listens, once it does. */
  async start(): Promise<{ webhook: string | null; queue: string | null; stateDir: string }> {
    const { stateDir, amqp, webhook } = this.#listen;
    await mkdir(stateDir, { recursive: true });
    // One listener per state directory: two would both own pending.json.
    const lockFile = path.join(stateDir, LISTENER_LOCK);
    this.#lock = await acquireLock(lockFile, { command: 'listen' }).catch(async (error: unknown) => {
      if (!(error instanceof LockedError)) throw error;
      throw new LockedError(`another listener, ${describeHolder(await readLock(lockFile))}, uses ${stateDir}`);
    });
    await this.#resume();
    if (webhook) {
      const secret = await readSecret(webhook);
      this.#webhook = await startWebhook({
        config: webhook,
        secret,
        log: this.#log,
        accept: (pushes, requestId) => this.#acceptPushes(pushes, requestId),
      });
      this.#status.webhook = { url: this.#webhook.url };
      this.#log.info({ url: this.#webhook.url, header: webhook.header }, `webhook listening on ${this.#webhook.url}`);
    }
    if (amqp) {
      this.#consumer = new AmqpConsumer(
        amqp,
        {
          onDelivery: (delivery) => void this.#onDelivery(delivery),
          onLost: (tokens) => this.#coalescer.dropTokens(tokens),
          onConnection: (connected) => {
            this.#status.amqp!.connected = connected;
            void this.#refreshDepth();
          },
        },
        this.#log,
      );
      await this.#consumer.start();
      this.#depthTimer = setInterval(() => void this.#refreshDepth(), DEPTH_REFRESH_MS).unref();
    }
    this.#setState();
    this.#done = this.#loop();
    return { webhook: this.#webhook?.url ?? null, queue: amqp?.queue ?? null, stateDir };
  }

  /** Stop taking work, let the sync in progress finish within the grace period; true if it did. */
  async stop(): Promise<boolean> {
    if (this.#stopping) return true;
    this.#stopping = true;
    this.#status.state = 'stopping';
    void this.#statusFile.write().catch(() => {});
    await Promise.all([this.#consumer?.stopConsuming(), this.#webhook?.close()]);
    this.#wake?.();
    const graceMs = this.#listen.shutdownGraceSeconds * 1000;
    const finished = await Promise.race([this.#done.then(() => true), sleep(graceMs, false, { ref: false })]);
    if (!finished) {
      this.#log.warn(
        `the sync of ${this.#coalescer.running?.repositories.join(', ')} did not finish within ${this.#listen.shutdownGraceSeconds} s; abandoning it (it resumes at the next start)`,
      );
    }
    // Unsettled deliveries go back to the broker; pending.json keeps everything else.
    await this.#consumer?.close();
    clearInterval(this.#depthTimer);
    this.#status.state = 'stopped';
    if (this.#status.amqp) this.#status.amqp.connected = false;
    await this.#statusFile.write().catch(() => {});
    await this.#lock?.release();
    return finished;
  }

  async #resume(): Promise<void> {
    const loaded = await loadPending(this.#listen.stateDir);
    if ('corrupt' in loaded)
      this.#log.error(
        `pending set was unreadable (${loaded.corrupt}); moved to ${loaded.movedTo}, starting empty (the next full sync reconciles)`,
      );
    const entries = new Map(
      [...loaded.entries].filter(([name]) => isRepositorySelected(this.config.repositories, name)),
    );
    for (const name of loaded.entries.keys())
      if (!entries.has(name)) this.#log.warn(`dropping pending ${name}: no longer selected by the config`);
    this.#coalescer.restore(entries, Date.now());
    if (entries.size)
      this.#log.info(
        { repositories: [...entries.keys()] },
        `resuming ${entries.size} pending repositories from the previous run`,
      );
  }

  async #onDelivery(delivery: Delivery): Promise<void> {
    const { token, messageId, redelivered, message } = delivery;
    let decision: Decision;
    try {
      decision = decide(message, {
        isSelected: (name) => isRepositorySelected(this.config.repositories, name),
        bodhi: this.#listen.bodhi,
      });
    } catch (error) {
      decision = { kind: 'invalid', reason: `handler failed: ${describeError(error)}` };
    }
    const fields = { messageId: messageId ?? null, routingKey: message.routingKey, redelivered };
    const detail = decision.kind === 'trigger' ? decision.targets.map((t) => t.repository).join(', ') : decision.reason;
    this.#status.lastMessage = {
      at: new Date().toISOString(),
      messageId: messageId ?? null,
      routingKey: message.routingKey,
      outcome: decision.kind,
      detail,
    };
    if (decision.kind === 'invalid') {
      const deadLetter = Boolean(this.#listen.amqp?.deadLetterExchange);
      this.#log.warn(
        fields,
        `invalid message ${messageId ?? '(no message id)'}: ${decision.reason}; ${deadLetter ? 'dead-lettered' : 'acked and dropped'}`,
      );
      this.#consumer?.settle(token, deadLetter ? 'reject' : 'ack');
    } else if (decision.kind === 'ignored') {
      this.#log.info(
        { ...fields, handler: decision.handler },
        `ignored message ${messageId ?? '(no message id)'}: ${decision.reason}`,
      );
      this.#consumer?.settle(token, 'ack');
    } else {
      const repositories = decision.targets.map((t) => t.repository);
      const held = this.#coalescer.add(repositories, Date.now(), token);
      this.#log.info(
        { ...fields, handler: decision.handler, targets: decision.targets, ignored: decision.ignored, held },
        `trigger from message ${messageId ?? '(no message id)'}: ${repositories.join(', ')}${held ? '' : ' (already pending: acked)'}`,
      );
      if (held) {
        // The broker still holds the delivery, so a failed write loses nothing; it is only logged.
        await this.#pending
          .write()
          .catch((error: unknown) => this.#error(`cannot write ${PENDING_FILE}: ${describeError(error)}`));
        this.#wake?.();
      } else {
        this.#consumer?.settle(token, 'ack');
      }
    }
    this.#setState();
  }

  async #acceptPushes(pushes: TaggedPush[], requestId: string | undefined): Promise<Accepted> {
    const accepted = [
      ...new Set(
        pushes.map((p) => p.repository).filter((name) => isRepositorySelected(this.config.repositories, name)),
      ),
    ];
    const ignored = [...new Set(pushes.map((p) => p.repository).filter((name) => !accepted.includes(name)))];
    if (ignored.length)
      this.#log.info({ requestId, ignored }, `webhook: ignored pushes to unselected ${ignored.join(', ')}`);
    if (accepted.length) {
      this.#log.info(
        { requestId, pushes: pushes.filter((p) => accepted.includes(p.repository)) },
        `trigger from the registry webhook: ${accepted.join(', ')}`,
      );
      this.#coalescer.add(accepted, Date.now());
      await this.#pending.write();
      this.#wake?.();
      this.#setState();
    }
    return { accepted, ignored };
  }

  async #loop(): Promise<void> {
    while (!this.#stopping) {
      const now = Date.now();
      const batch = this.#coalescer.take(now);
      if (batch) {
        await this.#run(batch);
        continue;
      }
      const due = this.#coalescer.dueAt();
      await new Promise<void>((resolve) => {
        const timer = due === undefined ? undefined : setTimeout(resolve, Math.max(0, due - now));
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  async #run(batch: Batch): Promise<void> {
    this.#setState();
    const lockFile = stateLayout(this.config.storage.state).lock;
    const holder = await readLock(lockFile);
    if (holder)
      this.#log.info(`tree locked by ${describeHolder(holder)}; waiting up to ${this.#listen.lockWaitSeconds} s`);
    this.#log.info(
      { repositories: batch.repositories, waitedMs: batch.startedAt - batch.since },
      `triggered sync of ${batch.repositories.join(', ')}`,
    );
    let summary: SyncSummary | undefined;
    try {
      summary = await syncRepositories(this.config, this.#log, await this.openSource(), batch.repositories);
    } catch (error) {
      this.#error(`triggered sync failed: ${describeError(error)}`);
    }
    const failed = new Set(
      summary ? summary.plan.filter((r) => r.failures > 0).map((r) => r.name) : batch.repositories,
    );
    const finishedAt = Date.now();
    const finished = this.#coalescer.finish(failed, finishedAt);
    for (const token of finished.succeeded) this.#consumer?.settle(token, 'ack');
    // Failed repositories are pending again (with backoff): their deliveries are acked once that
    // is on disk, or requeued if it cannot be written, so the broker keeps the work.
    const persisted = await this.#pending.write().then(
      () => true,
      (error: unknown) => (this.#error(`cannot write ${PENDING_FILE}: ${describeError(error)}`), false),
    );
    for (const token of finished.failed) this.#consumer?.settle(token, persisted ? 'ack' : 'requeue');
    for (const f of summary?.failures ?? [])
      this.#log.error(f, `sync failed for ${f.repository}${f.tag ? `:${f.tag}` : ''}: ${f.message}`);
    for (const r of finished.retries)
      this.#log.warn(
        { repository: r.repository, attempts: r.attempts },
        `will retry ${r.repository} at ${new Date(r.at).toISOString()}`,
      );
    const result = summary?.result ?? 'failed';
    const latencyMs = finishedAt - batch.since;
    this.#status.lastTrigger = {
      repositories: batch.repositories,
      triggeredAt: new Date(batch.since).toISOString(),
      finishedAt: new Date(finishedAt).toISOString(),
      result,
      generation: summary?.generation ?? null,
      latencyMs,
    };
    this.#log.info(
      {
        result,
        generation: summary?.generation,
        published: summary?.published,
        latencyMs,
        repositories: batch.repositories,
      },
      `triggered sync ${result}: generation ${summary?.generation ?? 'none'}, ${latencyMs} ms after the trigger`,
    );
    await this.#refreshDepth();
  }

  async #refreshDepth(): Promise<void> {
    const amqp = this.#status.amqp;
    if (amqp && this.#consumer) {
      const depth = await this.#consumer.queueDepth();
      if (depth !== undefined) Object.assign(amqp, { queueDepth: depth, depthAt: new Date().toISOString() });
    }
    this.#setState();
  }

  #error(message: string): void {
    this.#log.error(message);
    this.#status.lastError = { at: new Date().toISOString(), message };
  }

  /** Recompute the state fields and write the status file (best effort: it is only for monitoring). */
  #setState(): void {
    if (!this.#stopping)
      this.#status.state = this.#coalescer.running ? 'syncing' : this.#coalescer.pending.size ? 'waiting' : 'idle';
    void this.#statusFile
      .write()
      .catch((error: unknown) => this.#log.warn(`cannot write ${STATUS_FILE}: ${describeError(error)}`));
  }

  #renderStatus(): string {
    const status = this.#status;
    status.updatedAt = new Date().toISOString();
    status.pending = [...this.#coalescer.pending.keys()].sort();
    status.running = this.#coalescer.running?.repositories ?? [];
    if (status.amqp) status.amqp.unacked = this.#consumer?.unacked ?? 0;
    return `${JSON.stringify(status, null, 1)}\n`;
  }
}

async function syncRepositories(
  config: ListeningConfig,
  log: Logger,
  source: Source,
  repositories: string[],
): Promise<SyncSummary> {
  try {
    return await runSync(
      config,
      source,
      { warn: (message, fields) => log.warn(fields ?? {}, message) },
      { repositories, lockWaitMs: config.listen.lockWaitSeconds * 1000 },
    );
  } finally {
    await source.close();
  }
}
