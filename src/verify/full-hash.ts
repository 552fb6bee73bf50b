import { availableParallelism } from 'node:os';
import { fsError } from '../errors.js';
import { parseDigest } from '../oci/digest.js';
import type { StoredObject } from './check.js';
import type { Finding } from './findings.js';
import pLimit from 'p-limit';
import { HashWorkers } from '../store/hash-workers.js';

export interface HashRate {
  objects: number;
  bytes: number;
  seconds: number;
  megabytesPerSecond: number;
}

/**
 * Re-hash every object on one thread per core. Every tree path of a blob shares its object's
 * inode, so this covers the tree too (a path that is a copy is reported as a broken link).
 */
export async function rehashObjects(
  objects: readonly StoredObject[],
  threads = availableParallelism(),
  /** Aborted: no new object is hashed (those on a thread finish); the caller checks it. */
  signal?: AbortSignal,
): Promise<{ corrupt: Finding[]; rate: HashRate }> {
  const started = process.hrtime.bigint();
  const corrupt: Finding[] = [];
  // Biggest first: a large object started last would leave the other threads idle at the end.
  const jobs = [...objects]
    .sort((a, b) => b.size - a.size)
    .map((object) => ({ ...object, file: object.path, algorithm: parseDigest(object.digest).algorithm }));
  const pool = new HashWorkers(threads);
  const limit = pLimit(Math.max(1, threads));
  try {
    await Promise.all(
      jobs.map((job) =>
        limit(async () => {
          if (signal?.aborted) return;
          const hex = await pool.hashFile(job.file, job.algorithm).catch((error: unknown) => {
            throw fsError('hashing', job.file, error);
          });
          if (hex !== parseDigest(job.digest).hex)
            corrupt.push({
              kind: 'corrupt-object',
              path: job.path,
              digest: job.digest,
              detail: `content hashes to ${job.algorithm}:${hex}`,
            });
        }),
      ),
    );
  } finally {
    await pool.close();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const bytes = objects.reduce((sum, o) => sum + o.size, 0);
  return {
    corrupt: corrupt.sort((a, b) => (a.path < b.path ? -1 : 1)),
    rate: {
      objects: objects.length,
      bytes,
      seconds: Math.round(seconds * 1000) / 1000,
      megabytesPerSecond: seconds > 0 ? Math.round(bytes / 1e6 / seconds) : 0,
    },
  };
}
