import type { LagSample, ModuleObservation } from './view/mirrors.js';
import { generationLag, oldestVerified } from './view/mirrors.js';

// What serve itself learns about the mirrors while it runs: which share of its blob redirects
// went to each, and the lag the mirror checker reported over time (the state file holds only
// the latest check, so the samples for the lag chart are kept here, in memory).

const MAX_SAMPLES = 120;

export class RedirectTally {
  readonly byMirror = new Map<string, number>();
  master = 0;
  /** Longest URL first, so a mirror at /pub/a/b wins over one at /pub/a. */
  private readonly urls: string[];

  constructor(mirrorUrls: readonly string[]) {
    this.urls = [...mirrorUrls].sort((a, b) => b.length - a.length);
  }

  /** Count one redirect to `location` (a blob URL under a mirror's base URL, or the master's). */
  record(location: string): void {
    const mirror = this.urls.find((url) => location.startsWith(`${url}/`));
    if (mirror === undefined) this.master++;
    else this.byMirror.set(mirror, (this.byMirror.get(mirror) ?? 0) + 1);
  }
}

export interface ObservedState {
  updatedAt: string;
  currentGeneration: string | null;
  mirrors: Record<string, { modules: Record<string, ModuleObservation> }>;
}

export class LagHistory {
  readonly samples = new Map<string, LagSample[]>();
  private lastUpdate: string | undefined;

  /** Take one sample per mirror from each new state the checker wrote. */
  observe(state: ObservedState): void {
    if (state.updatedAt === this.lastUpdate) return;
    this.lastUpdate = state.updatedAt;
    for (const [url, { modules }] of Object.entries(state.mirrors)) {
      const oldest = oldestVerified(Object.values(modules));
      const list = this.samples.get(url) ?? [];
      list.push({ at: state.updatedAt, lag: generationLag(state.currentGeneration, oldest) });
      if (list.length > MAX_SAMPLES) list.shift();
      this.samples.set(url, list);
    }
  }
}
