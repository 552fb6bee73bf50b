import type { Digest } from '../oci/digest.js';

/** Left unrepaired, each of these makes `verify` exit 1. */
export type ProblemKind =
  | 'missing-object'
  | 'corrupt-object'
  | 'missing-link'
  | 'broken-link'
  | 'manifest-missing'
  | 'manifest-corrupt'
  | 'stray-temp';

/**
 * Reported, never failing: content no generation references is gc's to remove, and may still be
 * inside its grace period (mirrors and clients hold older metadata).
 */
export type WarningKind = 'orphan-file' | 'orphan-object';

export interface Finding {
  kind: ProblemKind | WarningKind;
  /** Absolute path of the file concerned. */
  path: string;
  digest?: Digest;
  detail: string;
  /** Set by `--repair`: what was done, or why it could not be. */
  repair?: { done: boolean; detail: string };
}
