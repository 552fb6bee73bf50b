import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, isNode } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../errors.js';

// Shared by every YAML file blobmirror reads (the sync config, the serve mirror list), so all of
// them report problems the same way: `<file>: <key.path> (line L, column C): <what is wrong>`.

type Issue = z.core.$ZodIssue;

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

function defaultIssueText(issue: Issue): string {
  if (issue.code === 'unrecognized_keys')
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  return issue.message;
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
  const yamlError = doc.errors[0];
  if (yamlError) {
    const { line, col } = counter.linePos(yamlError.pos[0]);
    throw new ConfigError(
      `${file}: line ${line}, column ${col}: YAML syntax error: ${yamlError.message.split('\n')[0]}`,
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
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const keyPath = issue.path.length ? issue.path.join('.') : '(root)';
    const where = issueLocation(doc, counter, issue.path);
    const count = result.error.issues.length;
    const more = count > 1 ? ` (and ${count - 1} more problem${count > 2 ? 's' : ''})` : '';
    throw new ConfigError(`${file}: ${keyPath} (${where}): ${describe?.(issue) ?? defaultIssueText(issue)}${more}`);
  }
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
