/** What a gc did (or, with --dry-run, would do): the CLI prints it, sync embeds it. */
export interface GcSummary {
  dryRun: boolean;
  linksRemoved: number;
  linksPending: number;
  objectsRemoved: number;
  manifestsRemoved: number;
  generationsRemoved: number;
  tempFilesRemoved: number;
  bytesFreed: number;
  removed: string[];
  durationMs: number;
}
