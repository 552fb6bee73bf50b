import type { Digest } from '../oci/digest.js';
import type { Failure } from '../report/failure.js';

/** Progress callbacks; sync never prints, the CLI renders these (bar on a TTY, logs otherwise). */
export interface SyncEvents {
  repositoriesSelected?(names: readonly string[]): void;
  blobsPlanned?(count: number, bytes: number): void;
  blobStarted?(digest: Digest, size: number | undefined): void;
  /** Bytes received from the source. */
  bytes?(n: number): void;
  /** Bytes of a blob already in its partial file from an earlier attempt or run, not fetched again. */
  bytesResumed?(n: number): void;
  blobDone?(digest: Digest): void;
  repositoryDone?(name: string, failures: readonly Failure[]): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}
