import { Worker } from 'node:worker_threads';
import type { HashAnswer, HashJob } from './hash-worker.js';

// Compiled next to this file (dist/verify/hash-worker.js); the CLI runs from dist.
const WORKER = new URL('./hash-worker.js', import.meta.url);

function ask(worker: Worker, job: HashJob): Promise<string> {
  return new Promise((resolve, reject) => {
    const done = (answer: HashAnswer) => {
      worker.off('error', reject);
      if ('hex' in answer) resolve(answer.hex);
      else reject(new Error(`hashing ${job.file}: ${answer.error}`));
    };
    worker.once('message', done);
    worker.once('error', reject);
    worker.postMessage(job);
  });
}

/** Hash files on `threads` worker threads, one file per thread at a time; `onHashed` gets each result. */
export async function hashInWorkers<T extends HashJob>(
  jobs: readonly T[],
  threads: number,
  onHashed: (job: T, hex: string) => void,
): Promise<void> {
  let next = 0;
  const thread = async () => {
    const worker = new Worker(WORKER);
    try {
      while (next < jobs.length) {
        const job = jobs[next++]!;
        onHashed(job, await ask(worker, job));
      }
    } finally {
      await worker.terminate();
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(threads, jobs.length)) }, thread));
}
