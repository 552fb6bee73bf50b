import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashWorkerBody } from './hash-worker-body.js';

// Hashing whole files off the main thread, on every core: `verify --full` re-hashes the store
// here. (Feeding a download's chunks to such workers was measured for sync and lost on two cores:
// see `mainThreadHash` in verified-writer.ts.)

type Answer = { op: 'digest'; id: number; hex: string } | { op: 'error'; id: number; message: string; code?: string };

interface Thread {
  worker: Worker;
  /** Files being hashed on it; the worker holds the process open only while there are some. */
  open: number;
}

/** A pool of hash worker threads (default one per core), started on first use. */
export class HashWorkers {
  #threads: Thread[] = [];
  #pending = new Map<number, { thread: Thread; resolve: (hex: string) => void; reject: (error: Error) => void }>();
  #nextId = 1;

  constructor(private readonly size = availableParallelism()) {}

  /** The hex digest of a whole file; a file-system error keeps its code (ENOENT, EIO). */
  hashFile(file: string, algorithm: string): Promise<string> {
    const thread = this.#leastBusy();
    const id = this.#nextId++;
    if (thread.open++ === 0) thread.worker.ref();
    return new Promise<string>((resolve, reject) => {
      this.#pending.set(id, { thread, resolve, reject });
      thread.worker.postMessage({ id, file, algorithm });
    }).finally(() => {
      this.#pending.delete(id);
      if (--thread.open === 0) thread.worker.unref();
    });
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
    worker.on('error', (error) => {
      // A dead thread fails its own files; the next file starts a fresh one.
      this.#threads = this.#threads.filter((t) => t !== thread);
      for (const pending of this.#pending.values()) if (pending.thread === thread) pending.reject(error);
    });
    this.#threads.push(thread);
    return thread;
  }
}
