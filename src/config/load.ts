import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { LineCounter, parseDocument, isNode } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { configSchema, type ParsedConfig } from './schema.js';

export interface StoragePaths {
  /** What mirrors rsync: `<repo>/_blobs/<alg>/<hex>` hardlinks. */
  tree: string;
  /** Generations of repository metadata for the mirror-list service. */
  metadata: string;
  /** Master-only: object store, partial downloads, lock. Same filesystem as the tree. */
  state: string;
}

export type Config = Omit<ParsedConfig, 'storage'> & { storage: StoragePaths; file: string };

function resolveStorage(storage: ParsedConfig['storage'], baseDir: string): StoragePaths {
  const at = (p: string) => path.resolve(baseDir, p);
  const root = storage.root ? at(storage.root) : undefined;
  return {
    tree: storage.tree ? at(storage.tree) : path.join(root!, 'tree'),
    metadata: storage.metadata ? at(storage.metadata) : path.join(root!, 'metadata'),
    state: storage.state ? at(storage.state) : path.join(root!, 'state'),
  };
}

/** Relative paths in the config are relative to the config file, as operators expect. */
function resolvePaths(parsed: ParsedConfig, baseDir: string): Config {
  const source = parsed.source.type === 'oci-layout' ? { ...parsed.source, path: path.resolve(baseDir, parsed.source.path) } : parsed.source;
  return { ...parsed, source, storage: resolveStorage(parsed.storage, baseDir), file: '' };
}

function issueLocation(doc: ReturnType<typeof parseDocument>, counter: LineCounter, issuePath: PropertyKey[]): string {
  // Walk up until a node exists (a missing key is reported at its parent).
  for (let depth = issuePath.length; depth >= 0; depth--) {
    const node = doc.getIn(issuePath.slice(0, depth) as (string | number)[], true);
    if (isNode(node) && node.range) {
      const { line, col } = counter.linePos(node.range[0]);
      return `line ${line}, column ${col}`;
    }
  }
  return 'top level';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  if (issue.code === 'invalid_union' && issue.path.at(-1) === 'type') return 'expected type: registry or type: oci-layout';
  return issue.message;
}

/** Parse and validate config text; `file` is only used in messages and for relative paths. */
export function parseConfig(text: string, file: string): Config {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const yamlError = doc.errors[0];
  if (yamlError) {
    const { line, col } = counter.linePos(yamlError.pos[0]);
    throw new ConfigError(`${file}: line ${line}, column ${col}: YAML syntax error: ${yamlError.message.split('\n')[0]}`);
  }
  const result = configSchema.safeParse(doc.toJS());
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const keyPath = issue.path.length ? issue.path.join('.') : '(root)';
    const where = issueLocation(doc, counter, issue.path);
    const more = result.error.issues.length > 1 ? ` (and ${result.error.issues.length - 1} more problem${result.error.issues.length > 2 ? 's' : ''})` : '';
    throw new ConfigError(`${file}: ${keyPath} (${where}): ${formatIssue(issue)}${more}`);
  }
  return { ...resolvePaths(result.data, path.dirname(path.resolve(file))), file };
}

export async function loadConfig(file: string): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`cannot read config ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`, { cause: error });
  }
  return parseConfig(text, file);
}
