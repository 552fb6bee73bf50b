import type { ModuleState } from './mirror-state.js';

// PURE: one check of one mirror's module -> its next state (docs/serving.md, "Failure policy").

export type CheckOutcome =
  /** Unreachable, 5xx, timeout, no file list: counts toward leaving rotation. */
  | { kind: 'failed'; message: string }
  | {
      kind: 'checked';
      /** The generation the mirror's list matched; null: none the master keeps. */
      listed: string | null;
      /** True when every file `listed` added since the verified generation is there, size equal. */
      verified: boolean;
      /** What kept it from verifying (or the list matching nothing). */
      problem?: string;
      fileList: ModuleState['fileList'];
    };

export function applyOutcome(
  previous: ModuleState,
  outcome: CheckOutcome,
  at: string,
  failuresBeforeOut: number,
): ModuleState {
  if (outcome.kind === 'failed') {
    const consecutiveFailures = previous.consecutiveFailures + 1;
    return {
      ...previous,
      lastCheckAt: at,
      lastError: { at, message: outcome.message },
      consecutiveFailures,
      inRotation: consecutiveFailures < failuresBeforeOut,
    };
  }
  const next: ModuleState = {
    ...previous,
    listedGeneration: outcome.listed,
    lastCheckAt: at,
    lastError: outcome.problem === undefined ? null : { at, message: outcome.problem },
    consecutiveFailures: 0,
    inRotation: true,
    fileList: outcome.fileList,
  };
  const verified = previous.verifiedGeneration;
  if (outcome.listed !== null && outcome.verified && outcome.listed !== verified) {
    // Newer: verified now. Older (the mirror went back to an earlier copy): trust only that one.
    next.verifiedGeneration = outcome.listed;
    next.verifiedAt = at;
  }
  return next;
}
