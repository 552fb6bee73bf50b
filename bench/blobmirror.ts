import type { RegistryHandle } from '../test/helpers/registry.js';
import { timed } from './measure.js';

export interface SyncRun {
  wallMs: number;
  cpuMs: number;
  peakRssBytes: number;
  /** From the `--json` summary. */
  bytesFetched: number;
  blobsFetched: number;
  /** From the registry's access log: blob GETs during the run, and the most for one digest. */
  blobGets: number;
  maxGetsOfOneBlob: number;
  /** Every request the registry served during the run, and those that looked for attachments. */
  requests: number;
  attachmentRequests: number;
}

const BLOB_GET = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})/;
/** A referrers probe, or a request for a cosign tag (`sha256-<hex>.sig`) or a fallback tag. */
const ATTACHMENT = /\/referrers\/|\/manifests\/sha256-[0-9a-f]{64}/;

/** One `blobmirror sync --json` as cron runs it: a fresh process, wall time including its start. */
export async function blobmirrorSync(
  cli: readonly string[],
  configFile: string,
  registry: RegistryHandle,
  scratchDir: string,
): Promise<SyncRun> {
  await registry.mark();
  const run = await timed({ file: process.execPath, args: [...cli, 'sync', '-c', configFile, '--json'] }, scratchDir);
  const summary = JSON.parse(run.stdout) as {
    result: string;
    failures: unknown[];
    bytes: { fetched: number };
    blobs: { fetched: number };
  };
  if (summary.result !== 'ok')
    throw new Error(`blobmirror sync: ${summary.result}: ${JSON.stringify(summary.failures).slice(0, 1000)}`);
  const gets = new Map<string, number>();
  const requests = await registry.requests();
  for (const request of requests.filter((r) => r.method === 'GET' && BLOB_GET.test(r.path))) {
    const digest = BLOB_GET.exec(request.path)![1]!;
    gets.set(digest, (gets.get(digest) ?? 0) + 1);
  }
  return {
    wallMs: run.wallMs,
    cpuMs: run.cpuMs,
    peakRssBytes: run.peakRssBytes,
    bytesFetched: summary.bytes.fetched,
    blobsFetched: summary.blobs.fetched,
    blobGets: [...gets.values()].reduce((a, b) => a + b, 0),
    maxGetsOfOneBlob: Math.max(0, ...gets.values()),
    requests: requests.length,
    attachmentRequests: requests.filter((r) => ATTACHMENT.test(r.path)).length,
  };
}
