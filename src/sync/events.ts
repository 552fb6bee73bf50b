import type { Digest } from '../oci/digest.js';

/** Progress callbacks; sync never prints, the CLI renders these (bar on a TTY, logs otherwise). */
export interface SyncEvents {
  repositoriesSelected?(names: readonly string[]): void;
  blobsPlanned?(count: number, bytes: number): void;
  blobStarted?(digest: Digest, size: number | undefined): void;
  bytes?(n: number): void;
  blobDone?(digest: Digest): void;
  repositoryDone?(name: string, failures: number): void;
  warn?(message: string, fields?: Record<string, unknown>): void;
}
