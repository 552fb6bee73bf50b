import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { InterruptedError } from '../errors.js';

/**
 * The first SIGINT or SIGTERM aborts the returned signal with an InterruptedError: the run
 * starts no new work (no repository, no blob, no request), what is in flight ends or stays
 * resumable, and the run reports `interrupted` and releases the lock on its way out. A second
 * signal exits at once (130/143): an operator who asks twice does not wait for the clean-up.
 */
export function interruptOnSignals(log: Logger): AbortSignal {
  const controller = new AbortController();
  // Every request in flight listens, as with a deadline.
  setMaxListeners(0, controller.signal);
  const onSignal = (received: 'SIGINT' | 'SIGTERM') => {
    const interruption = new InterruptedError(received);
    if (controller.signal.aborted) {
      log.error(`${received} again: exiting at once; partial downloads resume at the next run`);
      process.exit(interruption.exitCode);
    }
    log.warn(`${received}: stopping: no new work, reporting the run (send it again to exit at once)`);
    controller.abort(interruption);
  };
  process.on('SIGINT', onSignal).on('SIGTERM', onSignal);
  return controller.signal;
}
