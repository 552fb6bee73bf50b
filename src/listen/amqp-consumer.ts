// The AMQP edge: a durable named queue bound to the exchange, a small prefetch, manual acks, and
// reconnection with backoff. Deliveries are handed out as opaque tokens; the listener settles a
// token once its work is done. When a channel dies its unacked deliveries go back to the broker,
// which redelivers them, so their tokens are dropped here and reported through `onLost`.
import { setTimeout as sleep } from 'node:timers/promises';
import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Logger } from 'pino';
import type { ListenConfig } from '../config/load.js';
import { safeUrl, socketOptions } from '../amqp/connection.js';
import { describeError } from '../errors.js';
import type { BusMessage } from './messages.js';

type AmqpConfig = NonNullable<ListenConfig['amqp']>;

export interface Delivery {
  token: string;
  message: BusMessage;
  messageId: string | undefined;
  redelivered: boolean;
}

export interface ConsumerEvents {
  onDelivery(delivery: Delivery): void;
  onLost(tokens: string[]): void;
  onConnection(connected: boolean): void;
}

export type Settlement = 'ack' | 'reject' | 'requeue';

const RECONNECT_MS = { initial: 1000, max: 30_000 };

export class AmqpConsumer {
  #connection: ChannelModel | undefined;
  #channel: Channel | undefined;
  #consumerTag: string | undefined;
  #generation = 0;
  #stopped = false;
  #options: Record<string, unknown> = {};
  readonly #held = new Map<string, { channel: Channel; message: ConsumeMessage }>();

  constructor(
    private readonly config: AmqpConfig,
    private readonly events: ConsumerEvents,
    private readonly log: Logger,
  ) {}

  get unacked(): number {
    return this.#held.size;
  }

  /** Read the TLS files (a ConfigError when unreadable), then connect in the background, retrying with backoff. */
  async start(): Promise<void> {
    this.#options = await socketOptions(this.config, 'listen.amqp', 'listen');
    void this.#connectLoop();
  }

  async #connectLoop(): Promise<void> {
    for (let delay = RECONNECT_MS.initial; !this.#stopped; delay = Math.min(delay * 2, RECONNECT_MS.max)) {
      try {
        await this.#connect(this.#options);
        return;
      } catch (error) {
        this.log.error(
          { broker: safeUrl(this.config.url), retryInMs: delay },
          `cannot consume from the broker: ${describeError(error)}`,
        );
        await this.#closeConnection();
        await sleep(delay);
      }
    }
  }

  async #connect(options: Record<string, unknown>): Promise<void> {
    const { url, exchange, queue, routingKeys, prefetch, deadLetterExchange } = this.config;
    const connection = await amqp.connect(url, options);
    this.#connection = connection;
    connection.on('error', (error: unknown) => this.log.warn(`broker connection error: ${describeError(error)}`));
    connection.on('close', () => this.#lostConnection(connection));
    const channel = await connection.createChannel();
    channel.on('error', (error: unknown) => this.log.warn(`broker channel error: ${describeError(error)}`));
    channel.on('close', () => this.#lostChannel(channel));
    await channel.checkExchange(exchange);
    await channel.assertQueue(queue, {
      durable: true,
      ...(deadLetterExchange ? { arguments: { 'x-dead-letter-exchange': deadLetterExchange } } : {}),
    });
    for (const key of routingKeys) await channel.bindQueue(queue, exchange, key);
    await channel.prefetch(prefetch);
    const generation = ++this.#generation;
    this.#channel = channel;
    const { consumerTag } = await channel.consume(queue, (message) => this.#deliver(channel, generation, message), {
      noAck: false,
    });
    this.#consumerTag = consumerTag;
    this.events.onConnection(true);
    this.log.info({ broker: safeUrl(url), exchange, queue, routingKeys, prefetch }, `consuming from queue ${queue}`);
  }

  #deliver(channel: Channel, generation: number, message: ConsumeMessage | null): void {
    // null: the broker cancelled the consumer (the queue was deleted); start over.
    if (message === null) {
      this.log.warn(`the broker cancelled the consumer of ${this.config.queue}; reconnecting`);
      void channel.close().catch(() => {});
      return;
    }
    const token = `${generation}.${message.fields.deliveryTag}`;
    this.#held.set(token, { channel, message });
    const { properties, fields } = message;
    const schema = properties.headers?.fedora_messaging_schema;
    this.events.onDelivery({
      token,
      message: {
        routingKey: fields.routingKey,
        schema: typeof schema === 'string' ? schema : undefined,
        body: message.content,
      },
      messageId: typeof properties.messageId === 'string' ? properties.messageId : undefined,
      redelivered: fields.redelivered,
    });
  }

  /** Ack, reject (dead-letter when configured, else dropped) or requeue; false if the delivery is gone. */
  settle(token: string, how: Settlement): boolean {
    const held = this.#held.get(token);
    if (!held) return false;
    this.#held.delete(token);
    try {
      if (how === 'ack') held.channel.ack(held.message);
      else held.channel.nack(held.message, false, how === 'requeue');
      return true;
    } catch (error) {
      this.log.warn(`cannot ${how} delivery ${token}: ${describeError(error)}; the broker will redeliver it`);
      return false;
    }
  }

  /** Ready messages in the queue, as the broker counts them. */
  async queueDepth(): Promise<number | undefined> {
    try {
      return this.#channel ? (await this.#channel.checkQueue(this.config.queue)).messageCount : undefined;
    } catch {
      return undefined;
    }
  }

  /** Stop receiving; deliveries already here stay held until settled or closed. */
  async stopConsuming(): Promise<void> {
    this.#stopped = true;
    if (this.#channel && this.#consumerTag) await this.#channel.cancel(this.#consumerTag).catch(() => {});
  }

  /** Close; every unsettled delivery goes back to the broker. */
  async close(): Promise<void> {
    this.#stopped = true;
    await this.#closeConnection();
  }

  async #closeConnection(): Promise<void> {
    const connection = this.#connection;
    this.#connection = undefined;
    this.#channel = undefined;
    await connection?.close().catch(() => {});
  }

  #lostChannel(channel: Channel): void {
    const lost = [...this.#held].filter(([, h]) => h.channel === channel).map(([token]) => token);
    for (const token of lost) this.#held.delete(token);
    if (lost.length) this.events.onLost(lost);
    if (this.#channel !== channel) return;
    this.#channel = undefined;
    // A channel closed by the broker (e.g. its consumer was cancelled) ends the connection too.
    void this.#connection?.close().catch(() => {});
  }

  #lostConnection(connection: ChannelModel): void {
    // A connection this class closed itself (#closeConnection forgets it first) is not "lost".
    if (this.#connection !== connection) return;
    this.#connection = undefined;
    this.#channel = undefined;
    this.events.onConnection(false);
    if (this.#stopped) return;
    this.log.warn('lost the broker connection; reconnecting');
    void this.#connectLoop();
  }
}
