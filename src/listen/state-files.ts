// The listener's files in its state directory (format: docs/formats.md, "Listener state"):
// pending.json, the accepted triggers not yet published (the webhook answers 2xx only once a
// trigger is in it), and status.json, for `blobmirror status` and monitoring. Both are replaced
// atomically; writes are serialized so an older snapshot never overwrites a newer one.
import { readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../store/fs-durable.js';
import type { DurableEntry } from './coalescer.js';

export const PENDING_FILE = 'pending.json';
export const STATUS_FILE = 'status.json';
export const LISTENER_LOCK = 'listener.lock';
export const STATE_FORMAT_VERSION = 1;

const pendingSchema = z.object({
  formatVersion: z.literal(STATE_FORMAT_VERSION),
  repositories: z.record(
    z.string(),
    z.object({ since: z.iso.datetime(), attempts: z.number().int().min(0), notBefore: z.iso.datetime() }),
  ),
});

/** PURE */
export function renderPending(entries: ReadonlyMap<string, DurableEntry>, now: Date): string {
  const repositories = Object.fromEntries(
    [...entries]
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([name, e]) => [name, { since: iso(e.since), attempts: e.attempts, notBefore: iso(e.notBefore) }]),
  );
  return `${JSON.stringify({ formatVersion: STATE_FORMAT_VERSION, updatedAt: now.toISOString(), repositories }, null, 1)}\n`;
}

/** PURE: throws with a one-line reason when the text is not a pending file. */
export function parsePending(text: string): Map<string, DurableEntry> {
  const parsed = pendingSchema.parse(JSON.parse(text));
  return new Map(
    Object.entries(parsed.repositories).map(([name, e]) => [
      name,
      { since: Date.parse(e.since), attempts: e.attempts, notBefore: Date.parse(e.notBefore) },
    ]),
  );
}

const iso = (ms: number) => new Date(ms).toISOString();

export type PendingLoad =
  { entries: Map<string, DurableEntry> } | { entries: Map<string, DurableEntry>; corrupt: string; movedTo: string };

/** Missing is empty; an unreadable file is moved aside (kept for a person to look at), not fatal. */
export async function loadPending(stateDir: string): Promise<PendingLoad> {
  const file = path.join(stateDir, PENDING_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: new Map() };
    throw error;
  }
  try {
    return { entries: parsePending(text) };
  } catch (error) {
    const movedTo = `${file}.corrupt-${Date.now()}`;
    await rename(file, movedTo);
    return { entries: new Map(), corrupt: (error as Error).message.split('\n')[0]!, movedTo };
  }
}

/** Serialized atomic writes of whatever `render` returns when the write runs. */
export class SnapshotWriter {
  #chain: Promise<void> = Promise.resolve();

  constructor(
    readonly file: string,
    private readonly render: () => string,
  ) {}

  /** Resolves once a snapshot taken after this call is on disk. */
  write(): Promise<void> {
    const next = this.#chain.then(() => writeFileAtomic(this.file, this.render()));
    this.#chain = next.catch(() => {});
    return next;
  }
}

export interface LastTrigger {
  repositories: string[];
  /** When the oldest trigger of the run arrived. */
  triggeredAt: string;
  finishedAt: string;
  result: 'ok' | 'partial' | 'failed';
  generation: string | null;
  /** Trigger to published metadata (or to failure). */
  latencyMs: number;
}

export interface ListenerStatus {
  formatVersion: number;
  pid: number;
  startedAt: string;
  updatedAt: string;
  state: 'starting' | 'idle' | 'waiting' | 'syncing' | 'stopping' | 'stopped';
  amqp: {
    queue: string;
    connected: boolean;
    /** Ready messages in the queue at `depthAt` (the broker's count; excludes unacked ones). */
    queueDepth: number | null;
    depthAt: string | null;
    /** Delivered to this listener and not yet acked (waiting for their sync). */
    unacked: number;
  } | null;
  webhook: { url: string } | null;
  pending: string[];
  running: string[];
  lastMessage: {
    at: string;
    messageId: string | null;
    routingKey: string;
    outcome: 'trigger' | 'ignored' | 'invalid';
    detail: string;
  } | null;
  lastTrigger: LastTrigger | null;
  lastError: { at: string; message: string } | null;
}
