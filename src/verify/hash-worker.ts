// A worker thread of the re-hash pool (hash-pool.ts): hashing is synchronous CPU work, so only
// threads let `verify --full` use more than one core.
import { createHash } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import { hashExisting } from '../store/verified-writer.js';

export interface HashJob {
  file: string;
  algorithm: string;
}

export type HashAnswer = { hex: string } | { error: string };

parentPort!.on('message', (job: HashJob) => {
  const hash = createHash(job.algorithm);
  hashExisting(job.file, hash).then(
    () => parentPort!.postMessage({ hex: hash.digest('hex') } satisfies HashAnswer),
    (error: unknown) =>
      parentPort!.postMessage({ error: error instanceof Error ? error.message : String(error) } satisfies HashAnswer),
  );
});
