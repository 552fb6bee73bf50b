import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashWorkerBody } from './hash-worker-body.js';

// Hashing off the main thread, on every core. A download is hashed by following its partial file:
// the worker reads back what the writer has put on disk, so the main thread (HTTP parsing, writes)
// never hashes and never copies a chunk for another thread. `verify --full` hashes whole files.

type Answer = { op: 'digest'; id: number; hex: string } | { op: 'error'; id: number; message: string; code?: string };

interface Thread {
  worker: Worker;
  /** Jobs on it; the worker holds the process open only while there are some. */
  open: number;
}

/** A file being hashed by a worker as it grows. */
export interface FollowedHash {
  /** The file now holds at least `length` bytes (sent on in steps of `FOLLOW_STEP`). */
  written(length: number): void;
  /** The hex digest of the file's first `length` bytes (all of it when omitted). */
  digest(length?: number): Promise<string>;
  /** Abandon it (a failed or restarted download); a no-op after digest(). */
  drop(): void;
}

/**
 * Bytes a follower lets pile up before telling the worker: each message wakes a thread, and on a
 * busy machine a wake-up costs the main thread its core for a while. The last step is hashed after
 * the body ends (a few ms).
 */
const FOLLOW_STEP = 4 << 20;

/** A pool of hash worker threads (default one per core), started on first use. */
export class HashWorkers {
  #threads: Thread[] = [];
  #pending = new Map<number, { thread: Thread; resolve: (hex: string) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  constructor(private readonly size = availableParallelism()) {}

  /** The hex digest of a whole file; a file-system error keeps its code (ENOENT, EIO). */
  hashFile(file: string, algorithm: string): Promise<string> {
    return this.follow(file, algorithm).digest();
  }

  /** Start hashing `file` as it is written; a job with no `digest()` must be dropped. */
  follow(file: string, algorithm: string): FollowedHash {
    const thread = this.#leastBusy();
    const id = this.#nextId++;
    if (thread.open++ === 0) thread.worker.ref();
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      this.#pending.delete(id);
      if (--thread.open === 0) thread.worker.unref();
    };
    // A worker's error before digest() is kept for it (the job is gone on the worker's side).
    const result = new Promise<string>((resolve, reject) => this.#pending.set(id, { thread, resolve, reject }));
    result.catch(() => {});
    thread.worker.postMessage({ op: 'follow', id, file, algorithm });
    let told = 0;
    return {
      written: (length) => {
        if (finished || length - told < FOLLOW_STEP) return;
        told = length;
        thread.worker.postMessage({ op: 'upTo', id, length });
      },
      digest: (length) => {
        if (finished) return Promise.reject(new Error(`hash of ${file} was dropped`));
        thread.worker.postMessage({ op: 'end', id, length });
        return result.finally(finish);
      },
      drop: () => {
        if (finished) return;
        thread.worker.postMessage({ op: 'drop', id });
        finish();
      },
    };
  }

  async close(): Promise<void> {
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #receive(answer: Answer): void {
    const pending = this.#pending.get(answer.id);
    if (!pending) return;
    if (answer.op === 'digest') pending.resolve(answer.hex);
    else pending.reject(Object.assign(new Error(answer.message), { code: answer.code }));
  }

  #leastBusy(): Thread {
    const idle = this.#threads.find((t) => t.open === 0);
    if (idle) return idle;
    if (this.#threads.length >= this.size) return this.#threads.reduce((a, b) => (b.open < a.open ? b : a));
    const worker = new Worker(`(${hashWorkerBody.toString()})()`, { eval: true });
    worker.unref();
    const thread: Thread = { worker, open: 0 };
    worker.on('message', (answer: Answer) => this.#receive(answer));
    // A dead thread (an error, or gone without one: terminated, out of memory) fails its own
    // jobs rather than leave their digests waiting forever; the next job starts a fresh one.
    const die = (error: Error) => {
      this.#threads = this.#threads.filter((t) => t !== thread);
      for (const pending of this.#pending.values()) if (pending.thread === thread) pending.reject(error);
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`hash worker thread exited (code ${code})`)));
    this.#threads.push(thread);
    return thread;
  }
}
