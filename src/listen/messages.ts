// PURE: what a message from the bus asks for. A message becomes a decision: trigger a sync of
// some repositories (tags are carried for the log: a targeted sync always re-reads the whole
// repository, since tag selection such as keepNewest depends on all its tags), ignore it (known
// but not ours), or reject it as invalid. Nothing here throws on bad input.
import { z } from 'zod';
import { isRepositoryName, isTag } from '../oci/reference.js';
import { isEnvelope, taggedPushes } from './registry-events.js';

export interface BusMessage {
  routingKey: string;
  /** The `fedora_messaging_schema` header, when the sender set one. */
  schema?: string | undefined;
  body: Buffer;
}

export interface BodhiMapping {
  /** NVR name -> repository. */
  repositories: Readonly<Record<string, string>>;
  /** For names not in `repositories`, e.g. `fedora/{name}`. */
  template?: string | undefined;
}

export interface MessageContext {
  isSelected(repository: string): boolean;
  bodhi: BodhiMapping;
}

export type HandlerName = 'image-uploader' | 'bodhi' | 'registry-notification' | 'generic';

export interface Target {
  repository: string;
  tags: string[];
}

export type Decision =
  /** `ignored` explains the parts of the message left out (unselected repositories, unmapped builds). */
  | { kind: 'trigger'; handler: HandlerName; targets: Target[]; ignored: string[] }
  | { kind: 'ignored'; handler: HandlerName; reason: string }
  | { kind: 'invalid'; reason: string };

const TOPIC_PREFIX = /^org\.fedoraproject\.(?:prod|stg)\./;
const IMAGE_UPLOADER = 'fedora_image_uploader.published.v1.container';
const BODHI_STABLE = 'bodhi.update.complete.stable';

class Invalid extends Error {}

const imageUploaderBody = z.object({ repository: z.string(), tags: z.array(z.string()).default([]) });
const bodhiBody = z.object({
  update: z.object({
    content_type: z.string().nullable().optional(),
    builds: z.array(z.object({ nvr: z.string() })).default([]),
  }),
});
const genericBody = z
  .object({
    repository: z.string().optional(),
    repositories: z.array(z.string()).optional(),
    tags: z.array(z.string()).default([]),
  })
  .refine(
    (b) => b.repository !== undefined || b.repositories !== undefined,
    'names neither repository nor repositories',
  );

export function decide(message: BusMessage, context: MessageContext): Decision {
  let body: unknown;
  try {
    body = JSON.parse(message.body.toString('utf8'));
  } catch {
    return { kind: 'invalid', reason: 'body is not JSON' };
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    return { kind: 'invalid', reason: 'body is not a JSON object' };
  const handler = handlerFor(message.routingKey.replace(TOPIC_PREFIX, ''), message.schema, body);
  if (!handler)
    return {
      kind: 'invalid',
      reason: `unknown schema (routing key ${message.routingKey}${message.schema ? `, schema ${message.schema}` : ''})`,
    };
  try {
    const found = HANDLERS[handler](body, context.bodhi);
    if ('reason' in found) return { kind: 'ignored', handler, reason: found.reason };
    return select(handler, found.targets, found.ignored, context);
  } catch (error) {
    if (error instanceof Invalid) return { kind: 'invalid', reason: `${handler}: ${error.message}` };
    throw error;
  }
}

function handlerFor(topic: string, schema: string | undefined, body: object): HandlerName | undefined {
  const named = (name: string) =>
    topic === name || topic.startsWith(`${name}.`) || schema === name || Boolean(schema?.startsWith(`${name}.`));
  if (named(IMAGE_UPLOADER)) return 'image-uploader';
  if (named(BODHI_STABLE)) return 'bodhi';
  if (isEnvelope(body)) return 'registry-notification';
  if ('repository' in body || 'repositories' in body) return 'generic';
  return undefined;
}

type Found = { targets: Target[]; ignored: string[] } | { reason: string };

const HANDLERS: Record<HandlerName, (body: object, bodhi: BodhiMapping) => Found> = {
  'image-uploader': (body) => {
    const { repository, tags } = parse(imageUploaderBody, body);
    return { targets: [target(repository, tags)], ignored: [] };
  },
  bodhi: (body, mapping) => {
    const { update } = parse(bodhiBody, body);
    if (update.content_type !== 'container')
      return { reason: `update content_type ${JSON.stringify(update.content_type ?? null)} is not container` };
    const targets: Target[] = [];
    const ignored: string[] = [];
    for (const { nvr } of update.builds) {
      const { name, version, release } = parseNvr(nvr);
      const repository = bodhiRepository(name, mapping);
      if (repository === undefined) ignored.push(`build ${nvr}: no repository for NVR name ${JSON.stringify(name)}`);
      // The tags Bodhi itself copies a stable container to.
      else targets.push(target(repository, [`${version}-${release}`, version, 'latest']));
    }
    return targets.length ? { targets, ignored } : { reason: ignored.join('; ') || 'update has no builds' };
  },
  'registry-notification': (body) => {
    const result = taggedPushes(body);
    if (!result.ok) throw new Invalid(result.reason);
    if (!result.pushes.length) return { reason: `no tagged manifest push among ${result.skipped} events` };
    return { targets: result.pushes.map((p) => target(p.repository, [p.tag])), ignored: [] };
  },
  generic: (body) => {
    const { repository, repositories = [], tags } = parse(genericBody, body);
    return {
      targets: [...(repository === undefined ? [] : [repository]), ...repositories].map((name) => target(name, tags)),
      ignored: [],
    };
  },
};

function parse<S extends z.ZodType>(schema: S, body: unknown): z.output<S> {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  throw new Invalid(`${issue.path.join('.') || 'body'}: ${issue.message}`);
}

function target(repository: string, tags: readonly string[]): Target {
  if (!isRepositoryName(repository)) throw new Invalid(`${JSON.stringify(repository)} is not a repository name`);
  const bad = tags.find((tag) => !isTag(tag));
  if (bad !== undefined) throw new Invalid(`${JSON.stringify(bad)} is not a tag`);
  return { repository, tags: [...tags] };
}

/** `name-version-release`; the name may itself contain dashes, version and release may not. */
export function parseNvr(nvr: string): { name: string; version: string; release: string } {
  const parts = nvr.split('-');
  if (parts.length < 3 || parts.some((p) => p === ''))
    throw new Invalid(`build NVR ${JSON.stringify(nvr)} is not name-version-release`);
  return { name: parts.slice(0, -2).join('-'), version: parts.at(-2)!, release: parts.at(-1)! };
}

export function bodhiRepository(name: string, mapping: BodhiMapping): string | undefined {
  const repository = Object.hasOwn(mapping.repositories, name)
    ? mapping.repositories[name]
    : mapping.template?.replaceAll('{name}', name);
  return isRepositoryName(repository) ? repository : undefined;
}

/** Merge targets per repository and keep the selected ones. */
function select(handler: HandlerName, targets: Target[], ignored: string[], context: MessageContext): Decision {
  const merged = new Map<string, Set<string>>();
  for (const t of targets) {
    const tags = merged.get(t.repository) ?? new Set<string>();
    for (const tag of t.tags) tags.add(tag);
    merged.set(t.repository, tags);
  }
  const selected: Target[] = [];
  const notes = [...ignored];
  for (const [repository, tags] of merged) {
    if (context.isSelected(repository)) selected.push({ repository, tags: [...tags] });
    else notes.push(`${repository}: not selected by repositories.include/exclude`);
  }
  if (!selected.length) return { kind: 'ignored', handler, reason: notes.join('; ') };
  return { kind: 'trigger', handler, targets: selected, ignored: notes };
}
