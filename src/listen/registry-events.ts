// PURE: docker-distribution notification envelopes (`{"events":[...]}`), as the registry POSTs
// them to the webhook and as a bridge may forward them over the bus. Only a manifest pushed by
// tag means new content; blob pushes, pulls, mounts and deletes (which the next cron sync
// reconciles) do not.
import { z } from 'zod';
import { bareMediaType, isManifestType } from '../oci/media-types.js';
import { isRepositoryName, isTag } from '../oci/reference.js';

export interface TaggedPush {
  repository: string;
  tag: string;
}

export type EnvelopeResult = { ok: true; pushes: TaggedPush[]; skipped: number } | { ok: false; reason: string };

// Lenient about fields blobmirror does not use: registries add fields across versions.
const eventSchema = z.object({
  action: z.string(),
  target: z
    .object({
      mediaType: z.string().optional(),
      repository: z.string().optional(),
      tag: z.string().optional(),
    })
    .optional(),
});

const envelopeSchema = z.object({ events: z.array(eventSchema) });

export function isEnvelope(body: unknown): boolean {
  return typeof body === 'object' && body !== null && Array.isArray((body as { events?: unknown }).events);
}

/** The tagged manifest pushes of an envelope, deduplicated; `skipped` counts the other events. */
export function taggedPushes(body: unknown): EnvelopeResult {
  const parsed = envelopeSchema.safeParse(body);
  if (!parsed.success)
    return {
      ok: false,
      reason: `not a notification envelope: ${parsed.error.issues[0]!.path.join('.') || '(root)'}: ${parsed.error.issues[0]!.message}`,
    };
  const pushes = new Map<string, TaggedPush>();
  let skipped = 0;
  for (const event of parsed.data.events) {
    const target = event.target;
    const mediaType = bareMediaType(target?.mediaType);
    if (event.action !== 'push' || !target?.tag || !mediaType || !isManifestType(mediaType)) {
      skipped++;
      continue;
    }
    if (!isRepositoryName(target.repository))
      return {
        ok: false,
        reason: `event target.repository ${JSON.stringify(target.repository)} is not a repository name`,
      };
    if (!isTag(target.tag)) return { ok: false, reason: `event target.tag ${JSON.stringify(target.tag)} is not a tag` };
    pushes.set(`${target.repository}:${target.tag}`, { repository: target.repository, tag: target.tag });
  }
  return { ok: true, pushes: [...pushes.values()], skipped };
}
