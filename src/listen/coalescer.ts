// PURE: which repositories to sync when. No clock and no timers: every method takes `now`
// (ms since the epoch) and the listener drives it from one timer.
//
// - Triggers within `windowMs` of the oldest waiting one become one targeted sync.
// - One sync at a time. A repository triggered while it is being synced waits in `pending` and
//   gets exactly one follow-up run, however many triggers arrived meanwhile.
// - A repository whose sync failed goes back to `pending` with exponential backoff.
// - Tokens (bus deliveries) ride with their repositories and are handed back when the run that
//   covered them ends, so the listener settles each delivery once.

export interface PendingEntry {
  /** When the oldest trigger not yet covered by a finished run arrived. */
  since: number;
  /** Failed runs in a row. */
  attempts: number;
  /** Not run before this time (the backoff after a failure; `since` for fresh triggers). */
  notBefore: number;
  tokens: Set<string>;
}

export interface Batch {
  repositories: string[];
  /** The oldest trigger this run covers: latency is measured from here. */
  since: number;
  startedAt: number;
}

export interface Finished {
  /** Tokens whose repositories were all synced and published. */
  succeeded: string[];
  /** Tokens of failed repositories; those repositories are pending again, with backoff. */
  failed: string[];
  /** Per failed repository: when it will be retried. */
  retries: { repository: string; attempts: number; at: number }[];
}

export interface Backoff {
  initialMs: number;
  maxMs: number;
}

/** `initial * 2^(attempts-1)`, capped. */
export function backoffMs(attempts: number, backoff: Backoff): number {
  return Math.min(backoff.maxMs, backoff.initialMs * 2 ** Math.max(0, attempts - 1));
}

/** What a restart needs to know of one repository; tokens do not survive a restart. */
export interface DurableEntry {
  since: number;
  attempts: number;
  notBefore: number;
}

export class Coalescer {
  readonly pending = new Map<string, PendingEntry>();
  #running: { batch: Batch; entries: Map<string, PendingEntry> } | undefined;

  constructor(
    readonly windowMs: number,
    readonly backoff: Backoff,
  ) {}

  get running(): Batch | undefined {
    return this.#running?.batch;
  }

  /**
   * Record a trigger. Returns false when a delivery adds nothing: every repository is already
   * waiting (not running) with another delivery held for it, which the broker redelivers if the
   * listener dies, so this one can be acked at once and need not fill the prefetch window.
   */
  add(repositories: readonly string[], now: number, token?: string): boolean {
    if (token !== undefined && repositories.every((r) => (this.pending.get(r)?.tokens.size ?? 0) > 0)) return false;
    for (const repository of repositories) {
      const entry = this.pending.get(repository);
      if (entry) {
        // A fresh trigger does not cut a failure's backoff short: the cause is likely still there.
        if (token !== undefined) entry.tokens.add(token);
      } else {
        this.pending.set(repository, {
          since: now,
          attempts: 0,
          notBefore: now,
          tokens: new Set(token === undefined ? [] : [token]),
        });
      }
    }
    return true;
  }

  /** When `take` will next return a batch; undefined when nothing is pending or a run is on. */
  dueAt(): number | undefined {
    if (this.#running || this.pending.size === 0) return undefined;
    return Math.min(...[...this.pending.values()].map((e) => e.notBefore)) + this.windowMs;
  }

  /** Start a run of every repository ready by `now`, if the oldest one's window has closed. */
  take(now: number): Batch | undefined {
    const due = this.dueAt();
    if (due === undefined || due > now) return undefined;
    const entries = new Map([...this.pending].filter(([, e]) => e.notBefore <= now));
    for (const name of entries.keys()) this.pending.delete(name);
    const batch = {
      repositories: [...entries.keys()].sort(),
      since: Math.min(...[...entries.values()].map((e) => e.since)),
      startedAt: now,
    };
    this.#running = { batch, entries };
    return batch;
  }

  /** End the current run; `failed` are the repositories whose sync did not complete. */
  finish(failed: ReadonlySet<string>, now: number): Finished {
    const running = this.#running;
    if (!running) throw new Error('Coalescer.finish without a running batch');
    this.#running = undefined;
    const result: Finished = { succeeded: [], failed: [], retries: [] };
    const tokenState = new Map<string, boolean>();
    for (const [repository, entry] of running.entries) {
      const ok = !failed.has(repository);
      // A token shared by several repositories succeeds only when all of them did.
      for (const token of entry.tokens) tokenState.set(token, (tokenState.get(token) ?? true) && ok);
      if (ok) continue;
      const attempts = entry.attempts + 1;
      const at = now + backoffMs(attempts, this.backoff);
      const again = this.pending.get(repository);
      this.pending.set(repository, {
        since: Math.min(entry.since, again?.since ?? entry.since),
        attempts,
        notBefore: at,
        tokens: again?.tokens ?? new Set(),
      });
      result.retries.push({ repository, attempts, at });
    }
    // A token also waiting on a repository not run yet is settled when that one's run ends.
    const waiting = new Set([...this.pending.values()].flatMap((e) => [...e.tokens]));
    for (const [token, ok] of tokenState) if (!waiting.has(token)) (ok ? result.succeeded : result.failed).push(token);
    return result;
  }

  /** Forget tokens (their deliveries went back to the broker); the repositories stay pending. */
  dropTokens(tokens: Iterable<string>): void {
    const doomed = new Set(tokens);
    const entries = [...this.pending.values(), ...(this.#running?.entries.values() ?? [])];
    for (const entry of entries) for (const token of doomed) entry.tokens.delete(token);
  }

  /** Everything a restart must resume: pending and running repositories. */
  durable(): Map<string, DurableEntry> {
    const all = new Map<string, DurableEntry>();
    for (const [name, e] of this.#running?.entries ?? [])
      all.set(name, { since: e.since, attempts: e.attempts, notBefore: e.notBefore });
    for (const [name, e] of this.pending) {
      const running = all.get(name);
      all.set(name, {
        since: Math.min(e.since, running?.since ?? e.since),
        attempts: e.attempts,
        notBefore: e.notBefore,
      });
    }
    return all;
  }

  /**
   * Resume what a previous process left, before any trigger arrives. Not before `now` plus the
   * window, so the broker's redeliveries of the same work join the first run.
   */
  restore(entries: ReadonlyMap<string, DurableEntry>, now: number): void {
    for (const [name, e] of entries)
      this.pending.set(name, { ...e, notBefore: Math.max(e.notBefore, now), tokens: new Set() });
  }
}
