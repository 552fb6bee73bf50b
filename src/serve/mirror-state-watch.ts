import { stat } from 'node:fs/promises';
import { describeError } from '../errors.js';
import { mirrorStatePath, readMirrorState, type MirrorStateFile } from '../freshness/mirror-state.js';
import { FreshnessView, type UncheckedPolicy } from './freshness.js';

// serve's copy of the checker's state file: looked at (one stat) at most every `recheckMs`, in
// the background, so a request never waits on the disk. An unreadable file keeps the last good
// view. A new view object is made only when what routing uses changed, so urls mode's rewritten
// manifests (cached per view) keep their digests across check rounds that changed nothing.
// The status page reads the same watch (one file read per change for routing and pages alike)
// and samples each new state for its lag chart.

export interface MirrorStateWatchOptions {
  metadataDir: string;
  unchecked: UncheckedPolicy;
  recheckMs: number;
  onError: (message: string) => void;
  now?: () => number;
}

export class MirrorStateWatch {
  private view: FreshnessView;
  private signature = '';
  private seen = '';
  private checkedAt = -Infinity;
  private refreshing: Promise<void> | undefined;
  /** True once the file was read (or found absent) at least once. */
  loaded = false;
  /** When the state file was last written by the checker (ms), undefined when absent. */
  updatedAt: number | undefined;
  /** The last state read well (kept while a newer file is unreadable); undefined when absent. */
  state: MirrorStateFile | undefined;
  /** Why the newest file could not be read, until one can. */
  problem: string | undefined;
  private readonly listeners: Array<(state: MirrorStateFile) => void> = [];

  constructor(private readonly options: MirrorStateWatchOptions) {
    this.view = new FreshnessView(undefined, options.unchecked);
  }

  /** Called with each new state read (not again for a file that did not change). */
  onState(listener: (state: MirrorStateFile) => void): void {
    this.listeners.push(listener);
  }

  /** The current view; starts a background refresh when it is older than `recheckMs`. */
  current(): FreshnessView {
    void this.due();
    return this.view;
  }

  /**
   * For readers that may wait one `stat` (the status page, not a blob request): the refresh
   * `current()` would start, awaited, so a page shows the file as it is now.
   */
  async settled(): Promise<void> {
    await this.due();
  }

  private due(): Promise<void> | undefined {
    const now = (this.options.now ?? Date.now)();
    if (this.refreshing === undefined && now - this.checkedAt >= this.options.recheckMs) {
      this.checkedAt = now;
      return this.refresh();
    }
    return this.refreshing;
  }

  /** Look at the file now (joining a look already under way). */
  refresh(): Promise<void> {
    this.refreshing ??= this.read().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async read(): Promise<void> {
    try {
      const file = mirrorStatePath(this.options.metadataDir);
      const info = await stat(file).catch(() => undefined);
      const seen = info ? `${info.mtimeMs}:${info.size}:${info.ino}` : 'absent';
      if (seen === this.seen) return;
      const state = await readMirrorState(this.options.metadataDir);
      this.seen = seen;
      this.state = state;
      this.problem = undefined;
      this.updatedAt = state ? Date.parse(state.updatedAt) : undefined;
      if (state) for (const listener of this.listeners) listener(state);
      const signature = JSON.stringify(
        Object.entries(state?.mirrors ?? {}).map(([url, m]) => [
          url,
          Object.entries(m.modules).map(([name, s]) => [name, s.inRotation, s.verifiedGeneration]),
        ]),
      );
      if (signature !== this.signature) {
        this.view = new FreshnessView(state, this.options.unchecked);
        this.signature = signature;
      }
    } catch (error) {
      this.problem = describeError(error);
      this.options.onError(`mirror state not reloaded, routing by the previous one: ${describeError(error)}`);
    } finally {
      this.loaded = true;
    }
  }
}
