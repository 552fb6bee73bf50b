import { randomUUID } from 'node:crypto';
import type { ChannelModel } from 'amqplib';
import type { FileListWritten } from './file-list.js';
import type { RepositoryMetadata } from './metadata-types.js';
import { safeUrl, socketOptions } from '../amqp/connection.js';
import type { ParsedConfig } from '../config/schema.js';
import { describeError } from '../errors.js';

// After sync publishes a generation: one fedora-messaging style message on AMQP
// (docs/formats.md, "Generation announcement"), so mirror checkers (and mirrors) act at once
// instead of at their next interval. A failed announcement never fails the sync: the generation
// is published and checkers still find it at their interval.

export const ANNOUNCEMENT_TOPIC = 'blobmirror.generation.published';
export const ANNOUNCEMENT_SCHEMA = 'blobmirror.generation.published.v1';

export type AnnounceConfig = NonNullable<ParsedConfig['announce']>;

export interface GenerationAnnouncement {
  generation: string;
  previousGeneration: string | null;
  publishedAt: string;
  modules: Record<string, { root: string; fileList: string; sha256: string }>;
  repositories: Record<string, { tagsChanged: string[]; tagsRemoved: string[] }>;
}

/**
 * PURE: the message body from the generation before and what the run changed: the repositories
 * it synced (`repositories`, each read from `previous` too) and those the generation dropped.
 * Repositories carried forward as published changed nothing.
 */
export function announcementBody(
  generation: string,
  previous: { id: string; repositories: Map<string, RepositoryMetadata> } | undefined,
  repositories: readonly RepositoryMetadata[],
  dropped: readonly string[],
  modules: Record<string, { root: string }>,
  lists: readonly FileListWritten[],
  publishedAt: string,
): GenerationAnnouncement {
  const changed: GenerationAnnouncement['repositories'] = {};
  const now = new Map(repositories.map((r) => [r.name, r] as const));
  for (const name of new Set([...now.keys(), ...dropped])) {
    const before = previous?.repositories.get(name)?.tags ?? {};
    const after = now.get(name)?.tags ?? {};
    const tagsChanged = Object.keys(after).filter((t) => before[t]?.digest !== after[t]!.digest);
    const tagsRemoved = Object.keys(before).filter((t) => !Object.hasOwn(after, t));
    if (tagsChanged.length || tagsRemoved.length)
      changed[name] = { tagsChanged: tagsChanged.sort(), tagsRemoved: tagsRemoved.sort() };
  }
  const byModule = new Map(lists.map((l) => [l.module, l] as const));
  return {
    generation,
    previousGeneration: previous?.id ?? null,
    publishedAt,
    modules: Object.fromEntries(
      Object.entries(modules).flatMap(([name, { root }]) => {
        const list = byModule.get(name);
        return list ? [[name, { root, fileList: list.file.split('/').pop()!, sha256: list.sha256 }]] : [];
      }),
    ),
    repositories: changed,
  };
}

const PUBLISH_TIMEOUT_MS = 10_000;

/** Publish with a broker confirm; resolves to an error message instead of throwing. */
export async function announce(config: AnnounceConfig, body: GenerationAnnouncement): Promise<string | undefined> {
  const { amqp: bus } = config;
  const topic = `${bus.topicPrefix}.${ANNOUNCEMENT_TOPIC}`;
  let connection: ChannelModel | undefined;
  const timeout = new Promise<never>((_, reject) =>
    setTimeout(() => reject(new Error(`no confirm within ${PUBLISH_TIMEOUT_MS} ms`)), PUBLISH_TIMEOUT_MS).unref(),
  );
  try {
    await Promise.race([
      timeout,
      (async () => {
        // Loaded here: most runs announce nothing, and the client costs every sync ~8 MB.
        const { default: amqp } = await import('amqplib');
        connection = await amqp.connect(bus.url, await socketOptions(bus, 'announce.amqp', 'announce'));
        const channel = await connection.createConfirmChannel();
        channel.publish(bus.exchange, topic, Buffer.from(JSON.stringify(body)), {
          contentType: 'application/json',
          contentEncoding: 'utf-8',
          deliveryMode: 2,
          messageId: randomUUID(),
          headers: {
            fedora_messaging_schema: ANNOUNCEMENT_SCHEMA,
            fedora_messaging_severity: 20,
            'sent-at': new Date().toISOString(),
          },
        });
        await channel.waitForConfirms();
      })(),
    ]);
    return undefined;
  } catch (error) {
    return `announcing generation ${body.generation} on ${safeUrl(bus.url)} (${topic}): ${describeError(error)}`;
  } finally {
    await (connection as ChannelModel | undefined)?.close().catch(() => {});
  }
}
