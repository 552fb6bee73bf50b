// The code each hash worker thread runs. sha256 is synchronous CPU work, so only threads let
// `verify --full` hash on more than one core. It is started from this function's source
// (`new Worker(source, { eval: true })`) rather than a file beside the module: the same code then
// runs from dist/ and from src/ under the tests. It may use nothing from outside its own body.
//
// One message (main -> worker): hash {id, file, algorithm}, the whole file's bytes.
// Answers: digest {id, hex} | error {id, message, code} (a system error's code kept).

export function hashWorkerBody(): void {
  const { createHash } = process.getBuiltinModule('node:crypto');
  const { createReadStream } = process.getBuiltinModule('node:fs');
  const { parentPort } = process.getBuiltinModule('node:worker_threads');
  const answer = (message: Record<string, unknown>) => parentPort!.postMessage(message);
  parentPort!.on('message', ({ id, file, algorithm }: { id: number; file: string; algorithm: string }) => {
    const hash = createHash(algorithm);
    const stream = createReadStream(file, { highWaterMark: 1 << 20 });
    stream.on('data', (chunk) => hash.update(chunk as Buffer));
    stream.on('end', () => answer({ op: 'digest', id, hex: hash.digest('hex') }));
    stream.on('error', (error: Error & { code?: string }) =>
      answer({ op: 'error', id, message: error.message, code: error.code }),
    );
  });
}
