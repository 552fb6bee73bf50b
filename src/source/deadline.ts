import { setMaxListeners } from 'node:events';

/**
 * A signal that aborts with `reason()` after `ms`: a deadline every layer of a transfer honours
 * (requests, retry waits, bodies). The timer never keeps the process alive.
 */
export function deadlineSignal(ms: number, reason: () => Error): AbortSignal {
  const controller = new AbortController();
  // Every request in flight listens (the source's concurrency of them, and more for a whole run).
  setMaxListeners(0, controller.signal);
  setTimeout(() => controller.abort(reason()), ms).unref();
  return controller.signal;
}
