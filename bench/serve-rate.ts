import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { measureServe } from '../test/helpers/serve-load.js';
import { startServe, type ServeProcess } from '../test/helpers/serve-process.js';

// `blobmirror serve` on the metadata the benchmark's sync published, loaded by autocannon from
// this process on loopback: the server gets one core, the load generator the other.

export const SERVE_CONNECTIONS = 32;

export interface ServeTarget {
  /** e.g. `/v2/stable/app-05/manifests/1.4`, answered 200. */
  manifestPath: string;
  /** e.g. `/v2/stable/app-05/blobs/sha256:…`, answered 307. */
  blobPath: string;
}

export interface ServeRates {
  manifestRps: number;
  blobRedirectRps: number;
}

/** Starts serve as an operator would (access log on), with a mirror list of a few mirrors. */
export async function startBenchServe(metadataDir: string, workDir: string): Promise<ServeProcess> {
  const mirrors = path.join(workDir, 'mirrors.yaml');
  const lines = ['version: 1', 'master: https://master.example.org/containers', 'mirrors:'];
  for (let m = 1; m <= 5; m++) lines.push(`  - url: https://mirror-${m}.example.net/containers`, `    weight: ${m}`);
  await writeFile(mirrors, `${lines.join('\n')}\n`);
  return startServe([
    '--metadata',
    metadataDir,
    '--mirrors',
    mirrors,
    '--access-log',
    path.join(workDir, 'serve-access.log'),
  ]);
}

export async function serveRates(serverUrl: string, target: ServeTarget, seconds: number): Promise<ServeRates> {
  return {
    manifestRps: await rate(`${serverUrl}${target.manifestPath}`, 200, seconds),
    blobRedirectRps: await rate(`${serverUrl}${target.blobPath}`, 307, seconds),
  };
}

async function rate(url: string, status: 200 | 307, seconds: number): Promise<number> {
  const result = await measureServe(url, status, { connections: SERVE_CONNECTIONS, seconds });
  if (result.unexpected)
    throw new Error(`serve load on ${url}: ${result.unexpected} answers other than ${status} or errors`);
  return result.requestsPerSecond;
}
