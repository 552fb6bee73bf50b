import { createHash } from 'node:crypto';
import got, { type Got } from 'got';
import pLimit from 'p-limit';
import { networkError } from '../errors.js';
import { fileListName } from '../publish/file-list.js';
import { inModule, type ModuleRoot } from '../publish/modules.js';
import { joinUrl } from '../mirror-list/mirrors.js';
import { GENERATOR } from '../version.js';
import type { MasterView } from './master-view.js';
import type { ModuleState } from './mirror-state.js';
import type { CheckOutcome } from './outcome.js';

// One check of one mirror's copy of one module: a conditional GET of its file list (an unchanged
// mirror answers 304), the list's sha256 looked up among the master's kept generations, then a
// HEAD of each file that generation added since the one the mirror was verified at. The cost
// follows what changed, not the size of the tree.

export interface CheckModuleOptions {
  concurrency: number;
  timeoutMs: number;
  /** Counts every HTTP request made (the benchmark reports requests per round). */
  onRequest?: () => void;
}

const FIRST_SHOWN = 3;

export function checkerClient(timeoutMs: number): Got {
  return got.extend({
    throwHttpErrors: false,
    retry: { limit: 0 },
    timeout: { request: timeoutMs },
    headers: { 'user-agent': `${GENERATOR} crawl` },
  });
}

type Head = 'ok' | 'missing' | 'short' | { failed: string };

/** A request the mirror never answered, in the error vocabulary's words (no raw ECONNREFUSED). */
function unanswered(error: unknown, method: string, url: string): string {
  return networkError(error, {
    url,
    configKey: 'mirror list mirrors[].url',
    what: `${method} ${new URL(url).pathname}`,
  }).message;
}

export async function checkModule(
  client: Got,
  mirrorUrl: string,
  module: ModuleRoot,
  previous: ModuleState,
  master: MasterView,
  options: CheckModuleOptions,
): Promise<CheckOutcome> {
  const listUrl = joinUrl(mirrorUrl, inModule(module, fileListName(module.name)));
  const headers: Record<string, string> = {};
  if (previous.fileList.sha256 !== null) {
    if (previous.fileList.etag) headers['if-none-match'] = previous.fileList.etag;
    if (previous.fileList.lastModified) headers['if-modified-since'] = previous.fileList.lastModified;
  }
  let fileList = previous.fileList;
  try {
    options.onRequest?.();
    const response = await client.get(listUrl, { headers, responseType: 'buffer' });
    if (response.statusCode === 200) {
      fileList = {
        etag: response.headers.etag ?? null,
        lastModified: response.headers['last-modified'] ?? null,
        sha256: createHash('sha256').update(response.body).digest('hex'),
      };
    } else if (response.statusCode !== 304) {
      return { kind: 'failed', message: `GET ${listUrl}: HTTP ${response.statusCode}` };
    }
  } catch (error) {
    return { kind: 'failed', message: unanswered(error, 'GET', listUrl) };
  }
  const listed = fileList.sha256 === null ? undefined : master.generationOfList(module.name, fileList.sha256);
  if (listed === undefined)
    return {
      kind: 'checked',
      listed: null,
      verified: false,
      fileList,
      problem: `${listUrl} matches no generation the master keeps (older than the kept ones, or not a copy of the master)`,
    };
  const verifiedAt = previous.verifiedGeneration === null ? -1 : Number(previous.verifiedGeneration);
  if (Number(listed) <= verifiedAt) return { kind: 'checked', listed, verified: true, fileList };

  const added = master.filesAdded(module.name, verifiedAt, Number(listed));
  const limit = pLimit(options.concurrency);
  const heads = await Promise.all(
    added.map((file) =>
      limit(async (): Promise<Head> => {
        options.onRequest?.();
        try {
          const response = await client.head(joinUrl(mirrorUrl, file.path));
          if (response.statusCode >= 500) return { failed: `HEAD ${file.path}: HTTP ${response.statusCode}` };
          if (response.statusCode !== 200) return 'missing';
          return Number(response.headers['content-length']) === file.size ? 'ok' : 'short';
        } catch (error) {
          return { failed: unanswered(error, 'HEAD', joinUrl(mirrorUrl, file.path)) };
        }
      }),
    ),
  );
  const failed = heads.find((h): h is { failed: string } => typeof h === 'object');
  if (failed) return { kind: 'failed', message: failed.failed };
  const bad = added.filter((_, i) => heads[i] !== 'ok');
  if (!bad.length) return { kind: 'checked', listed, verified: true, fileList };
  const missing = heads.filter((h) => h === 'missing').length;
  return {
    kind: 'checked',
    listed,
    verified: false,
    fileList,
    problem:
      `file list claims generation ${listed} but ${bad.length} of ${added.length} new files are not there ` +
      `(${missing} missing, ${bad.length - missing} wrong size; first: ${bad
        .slice(0, FIRST_SHOWN)
        .map((f) => f.path)
        .join(', ')})`,
  };
}
