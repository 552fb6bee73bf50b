import { z } from 'zod';
import { amqpSchema, repoPatternSchema } from '../config/schema.js';
import { parseYamlWith, readConfigText } from '../config/yaml.js';
import type { MirrorSet } from './mirrors.js';

// The mirror list `blobmirror serve` redirects to (docs/serving.md documents every key). Unknown
// keys are errors: a typo in `repositories` must not silently send clients to the wrong mirror.

// A base URL is where the mirror publishes the tree root: `<url>/<repository>/_blobs/...`.
const baseUrlSchema = z
  .string()
  .max(2048)
  .superRefine((value, ctx) => {
    // Messages never echo userinfo: it would carry a password into logs.
    const shown = JSON.stringify(value.replace(/\/\/[^@/]*@/, '//'));
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: `${shown} is not a URL; expected http(s)://host[:port][/path]` });
      return;
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:')
      ctx.addIssue({ code: 'custom', message: `${shown}: only http:// and https:// URLs are allowed` });
    if (url.username || url.password)
      ctx.addIssue({
        code: 'custom',
        message: `${shown}: credentials in a mirror URL would be handed to every client`,
      });
    if (url.search || url.hash || value.includes('?') || value.includes('#'))
      ctx.addIssue({ code: 'custom', message: `${shown}: no query or fragment; the blob path is appended to the URL` });
  })
  // One spelling, so `<url>/<path>` never doubles a slash.
  .transform((value) => value.replace(/\/+$/, ''));

const headerNameSchema = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'expected an HTTP header name like X-Forwarded-For');

const mirrorSchema = z
  .object({
    url: baseUrlSchema,
    weight: z.number().positive('weight must be above 0').max(1_000_000).default(1),
    country: z
      .string()
      .regex(/^[A-Za-z]{2}$/, 'expected a two-letter ISO 3166 country code like DE')
      .transform((c) => c.toUpperCase())
      .optional(),
    repositories: z
      .array(repoPatternSchema)
      .min(1, 'list at least one repository or glob ("**" for all)')
      .default(['**']),
    /** Tree modules carried (docs/formats.md, Modules); absent: every module. */
    modules: z
      .array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a module name like containers-arm64'))
      .min(1)
      .optional(),
  })
  .strict();

// `check:` turns on the mirror checker (`blobmirror crawl`) and freshness routing in serve: a blob
// goes only to a mirror verified at a generation holding it (docs/serving.md, "Mirror freshness").
const checkSchema = z
  .object({
    intervalSeconds: z.number().min(1).max(86_400).default(300),
    /** Failed checks in a row after which a mirror leaves rotation (one good check brings it back). */
    failuresBeforeOut: z.number().int().min(1).max(100).default(3),
    /** HEAD requests in flight per mirror. */
    concurrency: z.number().int().min(1).max(64).default(8),
    timeoutSeconds: z.number().positive().max(600).default(10),
    /** Mirrors the state file does not know yet: `avoid` sends them nothing, `trust` everything. */
    unchecked: z.enum(['avoid', 'trust']).default('avoid'),
    /** Listen for `<prefix>.blobmirror.generation.published` and check at once. */
    announcements: amqpSchema.optional(),
  })
  .strict();

export type CheckConfig = z.output<typeof checkSchema>;

export const mirrorConfigSchema = z
  .object({
    version: z.literal(1, { error: 'expected version: 1' }),
    master: baseUrlSchema,
    mirrors: z
      .array(mirrorSchema)
      .max(10_000)
      .default([])
      .refine(
        (mirrors) => new Set(mirrors.map((m) => m.url)).size === mirrors.length,
        'each mirror url may appear only once',
      ),
    clientIpHeader: headerNameSchema.optional(),
    clientCountryHeader: headerNameSchema.optional(),
    urlsPerBlob: z.number().int().min(1).max(16).default(3),
    check: checkSchema.optional(),
  })
  .strict();

export type MirrorConfig = z.output<typeof mirrorConfigSchema> & MirrorSet;

export function parseMirrorConfig(text: string, file: string): MirrorConfig {
  return parseYamlWith(text, file, mirrorConfigSchema);
}

export async function loadMirrorConfig(file: string): Promise<MirrorConfig> {
  return parseMirrorConfig(await readConfigText(file, 'mirror list'), file);
}
