import { randomBytes } from 'node:crypto';
import { Agent, get } from 'node:http';
import { mkdir, open, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import got from 'got';
import pLimit from 'p-limit';
import type { Digest } from '../src/oci/digest.js';
import { layoutBlobPath } from '../src/oci-layout/layout-format.js';
import { timed, wall } from './measure.js';

// The machine's floor for a sync of the unique blobs: nothing that downloads, verifies and stores
// them can beat the slowest of these three, each done the cheapest way (the hash on every core).
// Each part also reports its CPU time: on a CPU-bound machine the three share the cores, so their
// CPU seconds over the cores is a second floor a sync cannot beat either.

/** A floor part: wall time, and the CPU time it took (user + system). */
export interface FloorPart {
  wallMs: number;
  cpuMs: number;
}

/** Parallel requests or writes at once: the registry source's default concurrency. */
export const FLOOR_CONCURRENCY = 8;
const CHUNK = 1024 * 1024;

export interface FloorBlob {
  /** A repository holding it: the scope of its GET URL. */
  repository: string;
  digest: Digest;
  size: number;
}

/**
 * floorGet in a process of its own, started with `nodeFlags` (the CLI's): measured inside the
 * benchmark's process, the client would pay for that process's heap at every garbage collection
 * and the floor would look slower than it is.
 */
export async function floorGetProcess(
  registryUrl: string,
  blobs: readonly FloorBlob[],
  nodeFlags: readonly string[],
  scratchDir: string,
  client: HttpClient = 'node:http',
): Promise<FloorPart> {
  const list = path.join(scratchDir, 'floor-blobs.json');
  await writeFile(list, JSON.stringify(blobs));
  const run = await timed(
    {
      file: process.execPath,
      args: [...nodeFlags, fileURLToPath(new URL('floor-get.js', import.meta.url)), registryUrl, list, client],
    },
    scratchDir,
  );
  // The client's own measure (the transfers alone, without process start) and its process's CPU.
  return { wallMs: Number(run.stdout.trim()), cpuMs: run.cpuMs };
}

/**
 * The HTTP clients a large body could be read with: Node's own (the floor, and what blobmirror
 * reads blob bodies with), got's streams (blobmirror's API client), fetch (undici, bundled with
 * Node). The benchmark measures all three so the choice stays a measured one.
 */
export type HttpClient = 'node:http' | 'got' | 'fetch';

/** GET every blob with a keep-alive client, bytes counted and discarded. */
export async function floorGet(
  registryUrl: string,
  blobs: readonly FloorBlob[],
  client: HttpClient = 'node:http',
): Promise<number> {
  const agent = new Agent({ keepAlive: true, maxSockets: FLOOR_CONCURRENCY });
  const getBytes = { 'node:http': nodeHttpBytes, got: gotBytes, fetch: fetchBytes }[client];
  const limit = pLimit(FLOOR_CONCURRENCY);
  const expected = blobs.reduce((sum, blob) => sum + blob.size, 0);
  try {
    const { wallMs, value: received } = await wall(async () => {
      const sizes = await Promise.all(
        blobs.map((blob) => limit(() => getBytes(`${registryUrl}/v2/${blob.repository}/blobs/${blob.digest}`, agent))),
      );
      return sizes.reduce((a, b) => a + b, 0);
    });
    if (received !== expected) throw new Error(`floor GET received ${received} bytes, expected ${expected}`);
    return wallMs;
  } finally {
    agent.destroy();
  }
}

async function gotBytes(url: string, agent: Agent): Promise<number> {
  let bytes = 0;
  for await (const chunk of got.stream(url, { agent: { http: agent }, retry: { limit: 0 } }))
    bytes += (chunk as Buffer).length;
  return bytes;
}

async function fetchBytes(url: string): Promise<number> {
  const response = await fetch(url);
  if (response.status !== 200) throw new Error(`GET ${url} answered ${response.status}`);
  let bytes = 0;
  for await (const chunk of response.body!) bytes += chunk.length;
  return bytes;
}

function nodeHttpBytes(url: string, agent: Agent): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`GET ${url} answered ${response.statusCode}`));
        return;
      }
      let bytes = 0;
      response.on('data', (chunk: Buffer) => (bytes += chunk.length));
      response.once('end', () => resolve(bytes));
      response.once('error', reject);
    }).once('error', reject);
  });
}

/**
 * sha256 of the blob files (warm in the page cache) by `processes` `openssl dgst` processes at once,
 * the files dealt out biggest first to the least loaded: 1 is the one-core figure, the core count
 * the floor.
 */
export async function floorHash(
  layoutDir: string,
  blobs: readonly FloorBlob[],
  scratchDir: string,
  processes: number,
): Promise<FloorPart> {
  const groups = Array.from({ length: Math.max(1, processes) }, () => ({ bytes: 0, files: [] as string[] }));
  for (const blob of [...blobs].sort((a, b) => b.size - a.size)) {
    const group = groups.reduce((a, b) => (b.bytes < a.bytes ? b : a));
    group.bytes += blob.size;
    group.files.push(layoutBlobPath(layoutDir, blob.digest));
  }
  const used = groups.filter((g) => g.files.length > 0);
  const { wallMs, value: runs } = await wall(() =>
    Promise.all(used.map((g) => timed({ file: 'openssl', args: ['dgst', '-sha256', ...g.files] }, scratchDir))),
  );
  const hashed = runs.reduce((n, run) => n + run.stdout.trim().split('\n').length, 0);
  if (hashed !== blobs.length) throw new Error(`openssl dgst hashed ${hashed} of ${blobs.length} blobs`);
  return { wallMs, cpuMs: runs.reduce((sum, run) => sum + run.cpuMs, 0) };
}

/** Write files of the blobs' sizes (random bytes, so no filesystem can compress them), each fsynced. */
export async function floorWrite(dir: string, blobs: readonly FloorBlob[]): Promise<FloorPart> {
  const chunk = randomBytes(CHUNK);
  const limit = pLimit(FLOOR_CONCURRENCY);
  await mkdir(dir, { recursive: true });
  try {
    // Nothing else runs in this process meanwhile, so its CPU time is the writes'.
    const cpu = process.cpuUsage();
    const { wallMs } = await wall(() =>
      Promise.all(
        blobs.map((blob, i) =>
          limit(async () => {
            const handle = await open(path.join(dir, String(i)), 'w');
            try {
              for (let left = blob.size; left > 0; left -= CHUNK) await handle.write(chunk, 0, Math.min(CHUNK, left));
              await handle.sync();
            } finally {
              await handle.close();
            }
          }),
        ),
      ),
    );
    const used = process.cpuUsage(cpu);
    return { wallMs, cpuMs: (used.user + used.system) / 1000 };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
