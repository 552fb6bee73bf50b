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
}

const BLOB_GET = /^\/v2\/.+\/blobs\/(sha256:[0-9a-f]{64})/;

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
  for (const request of await registry.requests({ method: 'GET', pathPattern: BLOB_GET })) {
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
  };
}
