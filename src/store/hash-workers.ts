import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { hashWorkerBody } from './hash-worker-body.js';

// Hashing off the main thread, on every core: a download's chunks are copied into 1 MiB batches
// that are transferred (not copied) to one worker thread per core and come back to be refilled.
// A session holds at most BATCHES of them, so a fast registry and a slow hash meet backpressure
// instead of memory growth: `update` returns a promise while every batch is in flight. Batches
// that come back are reused by the next session (a pool), so small blobs cost no allocation. The digest
// a session returns still gates every rename into the store (object-store.ts).

const BATCH_BYTES = 1 << 20;
const BATCHES = 3;
/** Batches kept for reuse when they come back: allocating 1 MiB per small blob would churn memory. */
const SPARE_BATCHES = 32;
const SOURCE = `(${hashWorkerBody.toString()})()`;

type Answer =
  | { op: 'ack'; id: number; buf: ArrayBuffer }
  | { op: 'filed'; id: number }
  | { op: 'digest'; id: number; hex: string }
  | { op: 'error'; id: number; message: string; code?: string };

/** Where sessions take batches from and give them back. */
interface BatchPool {
  take(): ArrayBuffer;
  give(buffer: ArrayBuffer): void;
}

interface Thread {
  worker: Worker;
  /** Sessions open on it; the worker holds the process open only while there are some. */
  open: number;
}

/** One blob's running hash, on one worker thread. */
export class HashSession {
  /** Batches sent and not back yet. */
  #inFlight = 0;
  #batch: Uint8Array | undefined;
  #filled = 0;
  #waiting: Array<() => void> = [];
  #pending: { resolve: (value: string) => void; reject: (error: Error) => void } | undefined;
  #failed: Error | undefined;
  #closed = false;

  constructor(
    readonly id: number,
    private readonly thread: Thread,
    private readonly pool: BatchPool,
    private readonly onClose: () => void,
  ) {}

  /** Add bytes (copied at once: the caller may reuse `chunk`); a promise when every batch is busy. */
  update(chunk: Uint8Array): Promise<void> | undefined {
    if (this.#failed) return Promise.reject(this.#failed);
    let offset = 0;
    while (offset < chunk.length) {
      if (!this.#batch) {
        if (this.#inFlight >= BATCHES) return this.#whenFree().then(() => this.update(chunk.subarray(offset)));
        this.#batch = new Uint8Array(this.pool.take());
        this.#filled = 0;
      }
      const n = Math.min(chunk.length - offset, BATCH_BYTES - this.#filled);
      this.#batch.set(chunk.subarray(offset, offset + n), this.#filled);
      this.#filled += n;
      offset += n;
      if (this.#filled === BATCH_BYTES) this.#send();
    }
    return undefined;
  }

  /** Hash a file's bytes into the session (what a resumed download already holds). */
  hashFile(file: string): Promise<void> {
    this.#send();
    return this.#ask({ op: 'file', file }).then(() => undefined);
  }

  /** The hex digest of everything added; the session is closed after it. */
  async digest(): Promise<string> {
    this.#send();
    try {
      return await this.#ask({ op: 'digest' });
    } finally {
      this.#close(false);
    }
  }

  /** Abandon the session (a failed or restarted download). */
  drop(): void {
    this.#close(true);
  }

  /** @internal the thread's message for this session. */
  receive(answer: Answer): void {
    if (answer.op === 'ack') {
      this.#inFlight--;
      this.pool.give(answer.buf);
      this.#waiting.shift()?.();
    } else if (answer.op === 'error') this.fail(Object.assign(new Error(answer.message), { code: answer.code }));
    else {
      const pending = this.#pending;
      this.#pending = undefined;
      pending?.resolve(answer.op === 'digest' ? answer.hex : '');
    }
  }

  /** @internal */
  onThread(thread: Thread): boolean {
    return this.thread === thread;
  }

  /** @internal the worker failed, or hashing did. */
  fail(error: Error): void {
    this.#failed ??= error;
    this.#pending?.reject(this.#failed);
    this.#pending = undefined;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  #send(): void {
    if (!this.#batch || this.#filled === 0) return;
    const buf = this.#batch.buffer as ArrayBuffer;
    this.thread.worker.postMessage({ op: 'update', id: this.id, buf, length: this.#filled }, [buf]);
    this.#inFlight++;
    this.#batch = undefined;
    this.#filled = 0;
  }

  #whenFree(): Promise<void> {
    return new Promise<void>((resolve) => this.#waiting.push(resolve)).then(() => {
      if (this.#failed) throw this.#failed;
    });
  }

  #ask(message: { op: 'file'; file: string } | { op: 'digest' }): Promise<string> {
    if (this.#failed) return Promise.reject(this.#failed);
    return new Promise<string>((resolve, reject) => {
      this.#pending = { resolve, reject };
      this.thread.worker.postMessage({ ...message, id: this.id });
    });
  }

  #close(tellWorker: boolean): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#batch) this.pool.give(this.#batch.buffer as ArrayBuffer);
    this.#batch = undefined;
    if (tellWorker) this.thread.worker.postMessage({ op: 'drop', id: this.id });
    this.onClose();
  }
}

/** A pool of hash worker threads (default one per core), started on first use. */
export class HashWorkers {
  #threads: Thread[] = [];
  #sessions = new Map<number, HashSession>();
  #nextId = 1;
  #spare: ArrayBuffer[] = [];
  readonly #pool: BatchPool = {
    take: () => this.#spare.pop() ?? new ArrayBuffer(BATCH_BYTES),
    give: (buffer) => {
      if (this.#spare.length < SPARE_BATCHES) this.#spare.push(buffer);
    },
  };

  constructor(private readonly size = availableParallelism()) {}

  /** A new running hash (`sha256`, `sha512`) on the least busy thread. */
  session(algorithm: string): HashSession {
    const thread = this.#leastBusy();
    const id = this.#nextId++;
    if (thread.open++ === 0) thread.worker.ref();
    const session = new HashSession(id, thread, this.#pool, () => {
      this.#sessions.delete(id);
      if (--thread.open === 0) thread.worker.unref();
    });
    this.#sessions.set(id, session);
    thread.worker.postMessage({ op: 'open', id, algorithm });
    return session;
  }

  /** The hex digest of a whole file. */
  async hashFile(file: string, algorithm: string): Promise<string> {
    const session = this.session(algorithm);
    try {
      await session.hashFile(file);
    } catch (error) {
      session.drop();
      throw error;
    }
    return session.digest();
  }

  async close(): Promise<void> {
    const threads = this.#threads.splice(0);
    await Promise.all(threads.map((t) => t.worker.terminate()));
  }

  #leastBusy(): Thread {
    const idle = this.#threads.find((t) => t.open === 0);
    if (idle) return idle;
    if (this.#threads.length >= this.size) return this.#threads.reduce((a, b) => (b.open < a.open ? b : a));
    const worker = new Worker(SOURCE, { eval: true });
    worker.unref();
    const thread: Thread = { worker, open: 0 };
    worker.on('message', (answer: Answer) => this.#sessions.get(answer.id)?.receive(answer));
    worker.on('error', (error) => {
      // A dead thread fails its own sessions; the next session starts a fresh one.
      this.#threads = this.#threads.filter((t) => t !== thread);
      for (const session of this.#sessions.values()) if (session.onThread(thread)) session.fail(error);
    });
    this.#threads.push(thread);
    return thread;
  }
}

let shared: HashWorkers | undefined;

/** The process's pool: sync's downloads share it, as they share the cores. */
export function sharedHashWorkers(): HashWorkers {
  return (shared ??= new HashWorkers());
}
