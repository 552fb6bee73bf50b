// The code each hash worker thread runs. sha256 is synchronous CPU work, so only threads let a
// sync or `verify --full` hash on more than one core. It is started from this function's source
// (`new Worker(source, { eval: true })`) rather than a file beside the module: the same code then
// runs from dist/ and from src/ under the tests. It may use nothing from outside its own body.
//
// A job follows one file as it is written: the main thread says how many bytes are on disk and
// the worker reads them back (from the page cache) and hashes them. Only small messages cross
// threads; the bytes never do.
// Messages (main -> worker), in order per job `id`:
//   follow {id, file, algorithm} | upTo {id, length} | end {id, length?: to the end of the file} | drop {id}
// Answers: digest {id, hex} | error {id, message, code} (a system error's code kept).

export function hashWorkerBody(): void {
  const { createHash } = process.getBuiltinModule('node:crypto');
  const { closeSync, openSync, readSync } = process.getBuiltinModule('node:fs');
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  interface Job {
    file: string;
    hash: ReturnType<typeof createHash>;
    fd?: number;
    hashed: number;
  }
  type Message =
    | { op: 'follow'; id: number; file: string; algorithm: string }
    | { op: 'upTo' | 'end'; id: number; length?: number }
    | { op: 'drop'; id: number };
  const jobs = new Map<number, Job>();
  const buffer = Buffer.allocUnsafe(1 << 20);
  const answer = (message: Record<string, unknown>) => parentPort!.postMessage(message);
  const close = (id: number) => {
    const job = jobs.get(id);
    jobs.delete(id);
    if (job?.fd !== undefined) closeSync(job.fd);
  };
  // The file is opened at the first byte to read: a download's partial exists only once written.
  const readTo = (job: Job, length: number) => {
    while (job.hashed < length) {
      job.fd ??= openSync(job.file, 'r');
      const n = readSync(job.fd, buffer, 0, Math.min(buffer.length, length - job.hashed), job.hashed);
      if (n === 0) {
        if (length === Infinity) return;
        throw Object.assign(new Error(`${job.file} ended at ${job.hashed} of ${length} bytes`), { code: 'ESHORT' });
      }
      job.hash.update(buffer.subarray(0, n));
      job.hashed += n;
    }
  };
  parentPort!.on('message', (message: Message) => {
    const { id } = message;
    if (message.op === 'follow') {
      jobs.set(id, { file: message.file, hash: createHash(message.algorithm), hashed: 0 });
      return;
    }
    const job = jobs.get(id);
    if (!job) return;
    try {
      if (message.op === 'drop') return close(id);
      readTo(job, message.length ?? Infinity);
      if (message.op === 'end') {
        close(id);
        answer({ op: 'digest', id, hex: job.hash.digest('hex') });
      }
    } catch (error) {
      close(id);
      const { message: text, code } = error as { message?: string; code?: string };
      answer({ op: 'error', id, message: text ?? String(error), code });
    }
  });
}
