/**
 * A signal that aborts with `reason()` after `ms`: a deadline every layer of a transfer honours
 * (requests, retry waits, bodies). The timer never keeps the process alive.
 */
export function deadlineSignal(ms: number, reason: () => Error): AbortSignal {
  const controller = new AbortController();
  setTimeout(() => controller.abort(reason()), ms).unref();
  return controller.signal;
}
