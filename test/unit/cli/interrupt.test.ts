import pino from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { interruptOnSignals } from '../../../src/cli/interrupt.js';
import { InterruptedError } from '../../../src/errors.js';

describe('interruptOnSignals', () => {
  const before = { SIGINT: process.listeners('SIGINT'), SIGTERM: process.listeners('SIGTERM') };
  afterEach(() => {
    for (const name of ['SIGINT', 'SIGTERM'] as const) {
      for (const listener of process.listeners(name)) if (!before[name].includes(listener)) process.off(name, listener);
    }
    vi.restoreAllMocks();
  });

  it('the first signal aborts the run with an InterruptedError; the second exits at once with its code', () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    const signal = interruptOnSignals(pino({ level: 'silent' }));
    expect(signal.aborted).toBe(false);
    process.emit('SIGTERM', 'SIGTERM');
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(InterruptedError);
    expect((signal.reason as InterruptedError).exitCode).toBe(143);
    expect(exit).not.toHaveBeenCalled();
    process.emit('SIGINT', 'SIGINT');
    expect(exit).toHaveBeenCalledWith(130);
  });
});
