/** What a gc did (or, with --dry-run, would do): the CLI prints it, sync embeds it. */
export interface GcSummary {
  dryRun: boolean;
  linksRemoved: number;
  linksPending: number;
  objectsRemoved: number;
  manifestsRemoved: number;
  /** Repository files (metadata format 2) no kept generation names. */
  repositoryFilesRemoved: number;
  generationsRemoved: number;
  tempFilesRemoved: number;
  /** `metadata/generations/.staging-*` directories left by a killed or failed publish. */
  stagingRemoved: number;
  bytesFreed: number;
  /** Why what stays stays (metadata.keepGenerations). */
  retained: {
    keepGenerations: number;
    /** Generation ids kept, oldest first; the last is the current one. */
    generations: string[];
    /** Objects only older kept generations reference: they go once those generations do. */
    olderOnly: { blobs: number; bytes: number };
  };
  removed: string[];
  durationMs: number;
}
