import { stat } from 'node:fs/promises';
import { describeError } from '../errors.js';
import { mirrorStatePath, readMirrorState } from '../freshness/mirror-state.js';
import { FreshnessView, type UncheckedPolicy } from './freshness.js';

// serve's copy of the checker's state file: looked at (one stat) at most every `recheckMs`, in
// the background, so a request never waits on the disk. An unreadable file keeps the last good
// view. A new view object is made only when what routing uses changed, so urls mode's rewritten
// manifests (cached per view) keep their digests across check rounds that changed nothing.

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
  private refreshing = false;
  /** True once the file was read (or found absent) at least once. */
  loaded = false;
  /** When the state file was last written by the checker (ms), undefined when absent. */
  updatedAt: number | undefined;

  constructor(private readonly options: MirrorStateWatchOptions) {
    this.view = new FreshnessView(undefined, options.unchecked);
  }

  /** The current view; starts a background refresh when it is older than `recheckMs`. */
  current(): FreshnessView {
    const now = (this.options.now ?? Date.now)();
    if (!this.refreshing && now - this.checkedAt >= this.options.recheckMs) {
      this.checkedAt = now;
      void this.refresh();
    }
    return this.view;
  }

  async refresh(): Promise<void> {
    this.refreshing = true;
    try {
      const file = mirrorStatePath(this.options.metadataDir);
      const info = await stat(file).catch(() => undefined);
      const seen = info ? `${info.mtimeMs}:${info.size}:${info.ino}` : 'absent';
      if (seen === this.seen) return;
      const state = await readMirrorState(this.options.metadataDir);
      this.seen = seen;
      this.updatedAt = state ? Date.parse(state.updatedAt) : undefined;
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
      this.options.onError(`mirror state not reloaded, routing by the previous one: ${describeError(error)}`);
    } finally {
      this.loaded = true;
      this.refreshing = false;
    }
  }
}
