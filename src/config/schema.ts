import { z } from 'zod';
import { isMediaType } from '../oci/media-types.js';
import { platformFilterSchema } from '../oci/platform.js';
import { isRepositoryName } from '../oci/reference.js';

// Version 1 of the YAML config. Every key is documented in docs/configuration.md; unknown keys
// are errors (a typo must not silently select nothing).

const regexSchema = z.string().superRefine((value, ctx) => {
  try {
    new RegExp(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: `not a valid regular expression: ${(error as Error).message}` });
  }
});

// Repository patterns: an exact name, or a glob where `*` matches within one path component and
// `**` across components (`stable/**`).
export const repoPatternSchema = z.string().superRefine((value, ctx) => {
  const probe = value.replace(/\*\*/g, 'x').replace(/\*/g, 'x');
  if (!isRepositoryName(probe)) {
    ctx.addIssue({
      code: 'custom',
      message: `${JSON.stringify(value)} is not a repository name or glob (lowercase [a-z0-9._-] components joined by "/", with * or **)`,
    });
  }
});

const tlsSchema = z
  .object({
    caFile: z.string().min(1).optional(),
    certFile: z.string().min(1).optional(),
    keyFile: z.string().min(1).optional(),
  })
  .strict()
  .refine((tls) => Boolean(tls.certFile) === Boolean(tls.keyFile), 'certFile and keyFile go together');

const authSchema = z
  .object({
    username: z.string().min(1).optional(),
    password: z.string().optional(),
    passwordEnv: z.string().min(1).optional(),
    passwordFile: z.string().min(1).optional(),
    dockerConfig: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (a) => [a.password, a.passwordEnv, a.passwordFile].filter((p) => p !== undefined).length <= 1,
    'give only one of password, passwordEnv, passwordFile',
  )
  .refine((a) => !(a.password ?? a.passwordEnv ?? a.passwordFile) || a.username, 'a password needs a username');

const registrySourceSchema = z
  .object({
    type: z.literal('registry'),
    url: z.string().regex(/^https?:\/\/[^/\s]+\/?$/, 'expected http(s)://host[:port] with no path'),
    /** Plain HTTP is refused unless set; it is for test rigs and registries on localhost. */
    insecure: z.boolean().default(false),
    tls: tlsSchema.optional(),
    auth: authSchema.optional(),
    concurrency: z.number().int().min(1).max(64).default(8),
    timeoutSeconds: z.number().positive().max(3600).default(60),
    idleTimeoutSeconds: z.number().positive().max(3600).default(30),
    retries: z.number().int().min(0).max(20).default(5),
    blobDeadlineSeconds: z
      .number()
      .positive()
      .max(7 * 86_400)
      .default(6 * 3600),
    runDeadlineSeconds: z
      .number()
      .positive()
      .max(30 * 86_400)
      .optional(),
    catalogPageSize: z.number().int().min(1).max(10_000).default(1000),
  })
  .strict()
  .refine((s) => s.insecure || !s.url.startsWith('http://'), {
    message: 'plain http:// needs insecure: true',
    path: ['url'],
  });

const layoutSourceSchema = z
  .object({
    type: z.literal('oci-layout'),
    path: z.string().min(1),
  })
  .strict();

// `listen:` is read only by `blobmirror listen` (triggered syncs, docs/operations.md). Secrets are
// named by file or environment variable, never written in the config itself.
export const amqpSchema = z
  .object({
    url: z.string().regex(/^amqps?:\/\/\S+$/, 'expected amqp://user:password@host[:port][/vhost] or amqps://…'),
    tls: tlsSchema.optional(),
    exchange: z.string().min(1).max(255).default('amq.topic'),
    queue: z
      .string()
      .min(1)
      .max(255)
      .refine((q) => !q.startsWith('amq.'), 'queue names starting with "amq." are reserved by the broker'),
    routingKeys: z.array(z.string().min(1).max(255)).min(1, 'bind at least one routing key'),
    /** Deliveries held unacked at once; bounds how many distinct triggers one window can gather. */
    prefetch: z.number().int().min(1).max(100).default(10),
    /** Malformed and unknown messages are rejected to this exchange instead of being acked. */
    deadLetterExchange: z.string().min(1).max(255).optional(),
  })
  .strict()
  .refine((a) => !a.tls || a.url.startsWith('amqps://'), { message: 'tls needs an amqps:// url', path: ['tls'] });

const webhookSchema = z
  .object({
    address: z.string().min(1).default('127.0.0.1'),
    /** 0 picks a free port (tests); the bound URL is in the status file. */
    port: z.number().int().min(0).max(65535),
    header: z
      .string()
      .regex(/^[A-Za-z0-9-]+$/, 'expected an HTTP header name')
      .default('Authorization'),
    secretFile: z.string().min(1).optional(),
    secretEnv: z.string().min(1).optional(),
  })
  .strict()
  .refine(
    (w) => Boolean(w.secretFile) !== Boolean(w.secretEnv),
    'give exactly one of secretFile or secretEnv: the webhook never runs without a shared secret',
  );

const listenSchema = z
  .object({
    amqp: amqpSchema.optional(),
    webhook: webhookSchema.optional(),
    coalesceSeconds: z.number().min(0).max(300).default(3),
    /** Bodhi names builds by NVR; the name part maps to a repository here, or through `template`. */
    bodhi: z
      .object({
        repositories: z
          .record(
            z.string().regex(/^[A-Za-z0-9._+-]+$/, 'expected an NVR name'),
            z.string().refine(isRepositoryName, 'not a repository name'),
          )
          .default({}),
        template: z.string().includes('{name}', { message: 'template must contain {name}' }).optional(),
      })
      .strict()
      .default({ repositories: {} }),
    retry: z
      .object({
        initialSeconds: z.number().positive().max(3600).default(5),
        maxSeconds: z.number().positive().max(86_400).default(300),
      })
      .strict()
      .refine((r) => r.maxSeconds >= r.initialSeconds, 'maxSeconds must be at least initialSeconds')
      .default({ initialSeconds: 5, maxSeconds: 300 }),
    /** How long a triggered sync waits for the tree lock (a cron sync) before counting as failed. */
    lockWaitSeconds: z.number().min(0).max(86_400).default(3600),
    /** On SIGTERM, how long the sync in progress may take to finish before it is abandoned. */
    shutdownGraceSeconds: z.number().min(0).max(3600).default(60),
    /** Pending set, status file, listener lock; default <storage.state>/listen. */
    stateDir: z.string().min(1).optional(),
  })
  .strict()
  .refine((l) => l.amqp || l.webhook, 'configure amqp, webhook, or both');

export const configSchema = z
  .object({
    version: z.literal(1, { error: 'expected version: 1' }),
    source: z.discriminatedUnion('type', [registrySourceSchema, layoutSourceSchema]),
    repositories: z
      .object({
        include: z.array(repoPatternSchema).min(1, 'select at least one repository or pattern'),
        exclude: z.array(repoPatternSchema).default([]),
      })
      .strict(),
    tags: z
      .object({
        include: z.array(regexSchema).default([]),
        exclude: z.array(regexSchema).default([]),
        keepNewest: z.number().int().positive().optional(),
        /**
         * A repository selecting more tags than this (after include/exclude/keepNewest) fails as one
         * TOO_LARGE and keeps its published tags; every tag costs a HEAD and a metadata entry. At
         * most 100,000: the longest tags list the registry client accepts.
         */
        maxPerRepository: z.number().int().min(1).max(100_000).default(10_000),
      })
      .strict()
      .default({ include: [], exclude: [], maxPerRepository: 10_000 }),
    platforms: z.array(platformFilterSchema).default([]),
    /** Signatures, attestations, SBOMs and other OCI 1.1 referrers follow the images they are attached to. */
    attachments: z
      .object({
        enabled: z.boolean().default(true),
        /** Only these artifact types (a cosign tag counts as application/vnd.dev.cosign.artifact.<sig|att|sbom>.v1+json); empty: all. */
        artifactTypes: z
          .array(z.string().refine(isMediaType, 'expected a media type like application/spdx+json'))
          .default([]),
        /** Attachments of attachments (a signature of an SBOM) are followed this many levels down. */
        maxDepth: z.number().int().min(1).max(8).default(3),
      })
      .strict()
      .default({ enabled: true, artifactTypes: [], maxDepth: 3 }),
    storage: z
      .object({
        root: z.string().min(1).optional(),
        tree: z.string().min(1).optional(),
        metadata: z.string().min(1).optional(),
        state: z.string().min(1).optional(),
      })
      .strict()
      .refine((s) => s.root || (s.tree && s.metadata && s.state), 'give root, or all of tree, metadata and state'),
    metadata: z
      .object({
        keepGenerations: z.number().int().min(1).max(1000).default(5),
        maxManifestBytes: z
          .number()
          .int()
          .min(1024)
          .max(64 * 1024 * 1024)
          .default(4 * 1024 * 1024),
      })
      .strict()
      .default({ keepGenerations: 5, maxManifestBytes: 4 * 1024 * 1024 }),
    modules: z
      .object({
        /** quick-fedora-mirror module name: `fullfiletimelist-<name>` at the module root. */
        name: z
          .string()
          .regex(/^[a-z0-9][a-z0-9._-]{0,63}$/, 'expected a module name like containers ([a-z0-9._-])')
          .default('containers'),
        /** One module per architecture, rooted at <tree>/<architecture>/, so mirrors can carry a subset. */
        perArchitecture: z.boolean().default(false),
      })
      .strict()
      .default({ name: 'containers', perArchitecture: false }),
    retention: z
      .object({
        /** An unreferenced blob stays linked this long (mirrors and clients hold older metadata). */
        graceDays: z.number().min(0).max(3650).default(7),
        /** Tag history entries older than this are dropped (each tag keeps its newest). */
        historyDays: z.number().min(0).max(36500).default(90),
        /** Run gc at the end of every successful sync. */
        gcAfterSync: z.boolean().default(false),
      })
      .strict()
      .default({ graceDays: 7, historyDays: 90, gcAfterSync: false }),
    listen: listenSchema.optional(),
    /** After publishing a generation, announce it on AMQP (docs/formats.md, "Generation announcement"). */
    announce: z
      .object({
        amqp: z
          .object({
            url: amqpSchema.shape.url,
            tls: tlsSchema.optional(),
            exchange: z.string().min(1).max(255).default('amq.topic'),
            /** Routing key = `<topicPrefix>.blobmirror.generation.published`. */
            topicPrefix: z
              .string()
              .regex(/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/, 'expected dotted words like org.fedoraproject.prod'),
          })
          .strict(),
      })
      .strict()
      .optional(),
  })
  .strict();

export type ParsedConfig = z.output<typeof configSchema>;
export type SourceConfig = ParsedConfig['source'];
export type RegistrySourceConfig = Extract<SourceConfig, { type: 'registry' }>;
export type ParsedListenConfig = NonNullable<ParsedConfig['listen']>;
