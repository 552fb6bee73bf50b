// What every AMQP connection blobmirror opens shares: TLS material read from the configured files
// (named by their config key when missing) and a broker URL safe to log. `listen` consumes and
// sync's generation announcement publishes; both connect through here.
import { readFile } from 'node:fs/promises';
import { ConfigError, describeError } from '../errors.js';

/** The connection part of an `amqp:` block (`listen.amqp`, `announce.amqp`). */
export interface AmqpConnectionConfig {
  url: string;
  tls?: { caFile?: string; certFile?: string; keyFile?: string };
}

/**
 * Socket options for amqplib: CA, client certificate and key read from the configured files.
 * `configKey` is where the block sits in the config (`listen.amqp`), `role` names the connection
 * on the broker's management page.
 */
export async function socketOptions(
  config: AmqpConnectionConfig,
  configKey: string,
  role: string,
): Promise<Record<string, unknown>> {
  const read = async (file: string | undefined, what: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (error) {
      throw new ConfigError(`${configKey}.tls.${what} ${file}: ${describeError(error)}`, { cause: error });
    }
  };
  const [ca, cert, key] = await Promise.all([
    read(config.tls?.caFile, 'caFile'),
    read(config.tls?.certFile, 'certFile'),
    read(config.tls?.keyFile, 'keyFile'),
  ]);
  return {
    clientProperties: { connection_name: `blobmirror ${role} (pid ${process.pid})` },
    ...(ca ? { ca: [ca] } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
  };
}

/** The broker URL without its password, for logs. */
export function safeUrl(url: string): string {
  return url.replace(/^(amqps?:\/\/[^:@/]*):[^@/]*@/, '$1:***@');
}
