import path from 'node:path';
import type { z } from 'zod';
import { configSchema, type ParsedConfig, type ParsedListenConfig } from './schema.js';
import { parseYamlWith, readConfigText } from './yaml.js';

export interface StoragePaths {
  /** What mirrors rsync: `<repo>/_blobs/<alg>/<hex>` hardlinks. */
  tree: string;
  /** Generations of repository metadata for the mirror-list service. */
  metadata: string;
  /** Master-only: object store, partial downloads, lock. Same filesystem as the tree. */
  state: string;
}

/** `listen:` with its files resolved and the state directory defaulted. */
export type ListenConfig = ParsedListenConfig & { stateDir: string };

export type Config = Omit<ParsedConfig, 'storage' | 'listen'> & {
  storage: StoragePaths;
  listen?: ListenConfig;
  file: string;
};

function resolveStorage(storage: ParsedConfig['storage'], baseDir: string): StoragePaths {
  const at = (p: string) => path.resolve(baseDir, p);
  const root = storage.root ? at(storage.root) : undefined;
  return {
    tree: storage.tree ? at(storage.tree) : path.join(root!, 'tree'),
    metadata: storage.metadata ? at(storage.metadata) : path.join(root!, 'metadata'),
    state: storage.state ? at(storage.state) : path.join(root!, 'state'),
  };
}

function resolveListen(listen: ParsedListenConfig, baseDir: string, stateDir: string): ListenConfig {
  const at = (p: string | undefined) => (p === undefined ? undefined : path.resolve(baseDir, p));
  const tls = listen.amqp?.tls && {
    caFile: at(listen.amqp.tls.caFile),
    certFile: at(listen.amqp.tls.certFile),
    keyFile: at(listen.amqp.tls.keyFile),
  };
  return {
    ...listen,
    ...(listen.amqp ? { amqp: { ...listen.amqp, ...(tls ? { tls } : {}) } } : {}),
    ...(listen.webhook ? { webhook: { ...listen.webhook, secretFile: at(listen.webhook.secretFile) } } : {}),
    stateDir: at(listen.stateDir) ?? path.join(stateDir, 'listen'),
  };
}

/** Relative paths in the config are relative to the config file, as operators expect. */
function resolvePaths(parsed: ParsedConfig, baseDir: string): Config {
  const source =
    parsed.source.type === 'oci-layout'
      ? { ...parsed.source, path: path.resolve(baseDir, parsed.source.path) }
      : parsed.source;
  const storage = resolveStorage(parsed.storage, baseDir);
  const { listen, ...rest } = parsed;
  return {
    ...rest,
    source,
    storage,
    ...(listen ? { listen: resolveListen(listen, baseDir, storage.state) } : {}),
    file: '',
  };
}

// The one config-specific wording; everything else is the shared YAML/zod reporting.
function describeIssue(issue: z.core.$ZodIssue): string | undefined {
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'type')
    return 'expected type: registry or type: oci-layout';
  return undefined;
}

/** Parse and validate config text; `file` is only used in messages and for relative paths. */
export function parseConfig(text: string, file: string): Config {
  const parsed = parseYamlWith(text, file, configSchema, describeIssue);
  return { ...resolvePaths(parsed, path.dirname(path.resolve(file))), file };
}

export async function loadConfig(file: string): Promise<Config> {
  return parseConfig(await readConfigText(file, 'config'), file);
}
