// The code each hash worker thread runs. sha256 is synchronous CPU work, so only threads let
// `verify --full` hash on more than one core. It is started from this function's source
// (`new Worker(source, { eval: true })`) rather than a file beside the module: the same code then
// runs from dist/ and from src/ under the tests. It may use nothing from outside its own body.
//
// Messages (main -> worker), all for one job `id`, handled in order per job:
//   open {algorithm} | file {file} (hash a file's bytes) | digest
// Answers: filed | digest {hex} | error {message, code} (a system error's code kept).

export function hashWorkerBody(): void {
  const { createHash } = process.getBuiltinModule('node:crypto');
  const { createReadStream } = process.getBuiltinModule('node:fs');
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  type Hash = ReturnType<typeof createHash>;
  const sessions = new Map<number, { hash: Hash; chain: Promise<void> }>();
  const answer = (message: Record<string, unknown>) => parentPort!.postMessage(message);
  const hashFile = (hash: Hash, file: string) =>
    new Promise<void>((resolve, reject) => {
      const stream = createReadStream(file, { highWaterMark: 1 << 20 });
      stream.on('data', (chunk) => hash.update(chunk as Buffer));
      stream.on('end', resolve);
      stream.on('error', reject);
    });
  type Message =
    | { op: 'open'; id: number; algorithm: string }
    | { op: 'file'; id: number; file: string }
    | { op: 'digest'; id: number };
  parentPort!.on('message', (message: Message) => {
    const { id } = message;
    if (message.op === 'open') {
      sessions.set(id, { hash: createHash(message.algorithm), chain: Promise.resolve() });
      return;
    }
    const session = sessions.get(id);
    if (!session) return;
    session.chain = session.chain.then(async () => {
      try {
        if (message.op === 'file') {
          await hashFile(session.hash, message.file);
          answer({ op: 'filed', id });
        } else if (message.op === 'digest') {
          sessions.delete(id);
          answer({ op: 'digest', id, hex: session.hash.digest('hex') });
        }
      } catch (error) {
        sessions.delete(id);
        const code = (error as { code?: unknown }).code;
        answer({ op: 'error', id, message: error instanceof Error ? error.message : String(error), code });
      }
    });
  });
}
