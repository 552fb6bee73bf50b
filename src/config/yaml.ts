import { readFile } from 'node:fs/promises';
import { LineCounter, isMap, isNode, isScalar, parseDocument, type Document } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';
import { knownKeysAt, nearestKey } from './schema-keys.js';

// Shared by every YAML file blobmirror reads (the sync config, the serve mirror list), so all of
// them report problems the same way: `<file>: <key.path> (line L, column C): <what is wrong>`,
// every problem at once (an operator fixes them in one edit, not one run each).

type Issue = z.core.$ZodIssue;

interface Problem {
  /** 0-based offset in the text, for the order; undefined when no node holds it. */
  offset?: number;
  text: string;
}

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly counter: LineCounter,
  ) {}

  where(offset: number | undefined): string {
    if (offset === undefined) return 'top level';
    const { line, col } = this.counter.linePos(offset);
    return `line ${line}, column ${col}`;
  }

  /** The nearest node that exists on the path (a missing key is reported at its parent). */
  nodeOffset(issuePath: readonly PropertyKey[]): number | undefined {
    for (let depth = issuePath.length; depth >= 0; depth--) {
      const node = depth ? this.doc.getIn(issuePath.slice(0, depth) as (string | number)[], true) : this.doc.contents;
      if (isNode(node) && node.range) return node.range[0];
    }
    return undefined;
  }

  /** Where `key` itself is written in the mapping at `mapPath`. */
  keyOffset(mapPath: readonly PropertyKey[], key: string): number | undefined {
    const map = mapPath.length ? this.doc.getIn(mapPath as (string | number)[], true) : this.doc.contents;
    const pair = isMap(map) ? map.items.find((item) => isScalar(item.key) && item.key.value === key) : undefined;
    return isScalar(pair?.key) && pair.key.range ? pair.key.range[0] : this.nodeOffset(mapPath);
  }
}

const keyPathOf = (issuePath: readonly PropertyKey[]) => (issuePath.length ? issuePath.join('.') : '(root)');

function problemsOf(
  issue: Issue,
  locate: Locator,
  schema: z.ZodType,
  value: unknown,
  describe?: (issue: Issue) => string | undefined,
): Problem[] {
  if (issue.code !== 'unrecognized_keys') {
    const offset = locate.nodeOffset(issue.path);
    const text = describe?.(issue) ?? issue.message;
    return [{ offset, text: `${keyPathOf(issue.path)} (${locate.where(offset)}): ${text}` }];
  }
  const known = knownKeysAt(schema, value, issue.path);
  return issue.keys.map((key) => {
    const offset = locate.keyOffset(issue.path, key);
    const near = nearestKey(key, known);
    const hint = near ? ` (did you mean ${JSON.stringify(near)}?)` : '';
    return {
      offset,
      text: `${keyPathOf([...issue.path, key])} (${locate.where(offset)}): unknown key ${JSON.stringify(key)}${hint}`,
    };
  });
}

/** One problem on one line; several as a count and one indented line each, in file order. */
function configErrorFor(file: string, problems: Problem[]): ConfigError {
  const sorted = [...problems].sort((a, b) => (a.offset ?? -1) - (b.offset ?? -1));
  if (sorted.length === 1) return new ConfigError(`${file}: ${sorted[0]!.text}`);
  return new ConfigError(`${file}: ${sorted.length} problems\n${sorted.map((p) => `  ${p.text}`).join('\n')}`);
}

/**
 * Parse YAML text and validate it with `schema`. `describe` may give a clearer message for an
 * issue the schema alone words badly; `file` is only used in messages.
 */
export function parseYamlWith<S extends z.ZodType>(
  text: string,
  file: string,
  schema: S,
  describe?: (issue: Issue) => string | undefined,
): z.output<S> {
  const counter = new LineCounter();
  const doc = parseDocument(text, { lineCounter: counter, prettyErrors: false, uniqueKeys: true });
  const locate = new Locator(doc, counter);
  if (doc.errors.length) {
    throw configErrorFor(
      file,
      // One mistake often trips the parser twice at the same place: report that place once.
      doc.errors
        .filter((error, i) => doc.errors.findIndex((other) => other.pos[0] === error.pos[0]) === i)
        .map((error) => ({
          offset: error.pos[0],
          text: `${locate.where(error.pos[0])}: YAML syntax error: ${error.message.split('\n')[0]}`,
        })),
    );
  }
  let value: unknown;
  try {
    value = doc.toJS();
  } catch (error) {
    // Aliases are only resolved here: an undefined anchor, or too many aliases (a YAML bomb).
    throw new ConfigError(`${file}: YAML error: ${(error as Error).message}`, { cause: error });
  }
  const result = schema.safeParse(value);
  if (!result.success)
    throw configErrorFor(
      file,
      result.error.issues.flatMap((issue) => problemsOf(issue, locate, schema, value, describe)),
    );
  return result.data;
}

/** Read a config-like file; a missing or unreadable file is a ConfigError naming it. */
export async function readConfigText(file: string, what: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    throw new ConfigError(
      `cannot read ${what} ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`,
      { cause: error },
    );
  }
}
