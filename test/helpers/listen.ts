// Helpers for `blobmirror listen` tests: the built CLI as a long-running child with its JSON log
// lines parsed, and a fedora-messaging publisher on the real RabbitMQ.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import { promisify } from 'node:util';
import amqp, { type ChannelModel, type ConfirmChannel } from 'amqplib';
import { vi } from 'vitest';
import { stringify } from 'yaml';
import { metadataView, type RepositoryView } from './tree-check.js';
import { CLI_ARGS } from './cli.js';

const run = promisify(execFile);

export const BROKER = 'amqp://guest:guest@127.0.0.1:5672';
export const TOPIC_PREFIX = 'org.fedoraproject.prod.';

export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  // vi.waitFor retries until the callback stops throwing; the probe's "not yet" is undefined or false.
  return vi.waitFor(
    async () => {
      const value = await probe();
      if (value === undefined || value === false)
        throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
      return value;
    },
    { timeout: timeoutMs, interval: 20 },
  );
}

/** The current generation's repositories ({} before the first one). */
export async function publishedRepositories(metadataDir: string): Promise<Record<string, RepositoryView>> {
  return metadataView(metadataDir).catch(() => ({}));
}

/** Add a `listen:` section to a config written by writeTestConfig. */
export async function addListenSection(configFile: string, listen: Record<string, unknown>): Promise<void> {
  await appendFile(configFile, stringify({ listen }));
}

export interface LogLine {
  level: number;
  msg: string;
  time: string;
  [key: string]: unknown;
}

export interface ListenerProcess {
  info: { webhook: string | null; queue: string | null; stateDir: string };
  /** Every JSON log line so far. */
  logs: LogLine[];
  waitForLog(what: string, match: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** SIGTERM; resolves with the exit code. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
  child: ChildProcess;
}

const running = new Set<ChildProcess>();
process.once('exit', () => running.forEach((child) => child.kill('SIGKILL')));

/** Start `blobmirror listen` and wait until it consumes (when it has amqp) and listens. */
export async function startListener(configFile: string, env: NodeJS.ProcessEnv = {}): Promise<ListenerProcess> {
  const child = spawn(process.execPath, [...CLI_ARGS, 'listen', '-c', configFile, '--json', '--log-format', 'json'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  const logs: LogLine[] = [];
  const raw: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (line) => {
    raw.push(line);
    try {
      logs.push(JSON.parse(line) as LogLine);
    } catch {
      // Not a log line (a crash's stack trace): kept in `raw` for the failure message.
    }
  });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  void exited.then(() => running.delete(child));
  const info = await Promise.race([
    waitFor(
      'listen --json output',
      () => (stdout.includes('\n}') ? (JSON.parse(stdout) as ListenerProcess['info']) : undefined),
      20_000,
    ),
    exited.then(({ code }) => {
      throw new Error(`listen exited (${code}) before starting:\n${raw.join('\n')}`);
    }),
  ]);
  const waitForLog: ListenerProcess['waitForLog'] = (what, match, timeoutMs = 30_000) =>
    waitFor(`log line: ${what}`, () => logs.find(match), timeoutMs).catch((error: Error) => {
      throw new Error(`${error.message}\n${raw.slice(-20).join('\n')}`);
    });
  if (info.queue) await waitForLog('consuming', (l) => l.msg.startsWith('consuming from queue'));
  return {
    info,
    logs,
    waitForLog,
    child,
    stop: async () => {
      child.kill('SIGTERM');
      return (await exited).code;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

export interface PublishOptions {
  exchange?: string;
  /** `fedora_messaging_schema`; default: the topic. */
  schema?: string;
}

/** A publisher that sends what fedora-messaging sends, and fails when nothing is bound to the key. */
export class Bus {
  private constructor(
    private readonly connection: ChannelModel,
    private readonly channel: ConfirmChannel,
    private readonly returned: Set<string>,
  ) {}

  static async open(): Promise<Bus> {
    const connection = await amqp.connect(BROKER);
    const channel = await connection.createConfirmChannel();
    const returned = new Set<string>();
    channel.on('return', (message: { properties: { messageId: string } }) =>
      returned.add(message.properties.messageId),
    );
    return new Bus(connection, channel, returned);
  }

  /** Publish on `org.fedoraproject.prod.<topic>`; the message id. */
  async publish(topic: string, body: unknown, options: PublishOptions = {}): Promise<string> {
    const messageId = randomUUID();
    const content = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
    this.channel.publish(options.exchange ?? 'amq.topic', `${TOPIC_PREFIX}${topic}`, content, {
      contentType: 'application/json',
      contentEncoding: 'utf-8',
      persistent: true,
      mandatory: true,
      messageId,
      headers: {
        fedora_messaging_schema: options.schema ?? topic,
        fedora_messaging_severity: 20,
        'sent-at': new Date().toISOString(),
        priority: 0,
      },
    });
    await this.channel.waitForConfirms();
    // The broker sends basic.return before the confirm of an unroutable mandatory message.
    if (this.returned.has(messageId)) throw new Error(`nothing is bound to ${TOPIC_PREFIX}${topic}`);
    return messageId;
  }

  /** Ready messages in a queue (not counting unacked ones). */
  async queueDepth(queue: string): Promise<number> {
    const channel = await this.connection.createChannel();
    try {
      return (await channel.checkQueue(queue)).messageCount;
    } finally {
      await channel.close().catch(() => {});
    }
  }

  async declareTopicExchange(name: string): Promise<void> {
    await this.channel.assertExchange(name, 'topic', { durable: false });
  }

  /** A fanout exchange with one queue behind it, to catch dead-lettered messages. */
  async declareDeadLetter(exchange: string, queue: string): Promise<void> {
    await this.channel.assertExchange(exchange, 'fanout', { durable: false });
    await this.channel.assertQueue(queue, { durable: false });
    await this.channel.bindQueue(queue, exchange, '');
  }

  async cleanup(queues: string[], exchanges: string[] = []): Promise<void> {
    for (const queue of queues) await this.channel.deleteQueue(queue);
    for (const exchange of exchanges) await this.channel.deleteExchange(exchange);
  }

  async close(): Promise<void> {
    await this.connection.close();
  }
}

/** Have the broker close a listener's connection (found by the name it gives itself), as a broker restart would. */
export async function closeBrokerConnection(listenerPid: number): Promise<void> {
  // Tab-separated `pid  client_properties` lines; only this form of the pid is accepted back.
  const { stdout } = await run('rabbitmqctl', ['list_connections', 'pid', 'client_properties', '-q']);
  const name = `{"connection_name","blobmirror listen (pid ${listenerPid})"}`;
  const pid = stdout
    .split('\n')
    .find((line) => line.includes(name))
    ?.split('\t')[0];
  if (!pid) throw new Error(`no broker connection named blobmirror listen (pid ${listenerPid})`);
  await run('rabbitmqctl', ['close_connection', pid, 'closed by a blobmirror test', '-q']);
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
