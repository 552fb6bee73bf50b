import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Coalescer, backoffMs } from '../../../src/listen/coalescer.js';
import { parsePending, renderPending } from '../../../src/listen/state-files.js';

const backoff = { initialMs: 1000, maxMs: 8000 };
const fresh = () => new Coalescer(3000, backoff);

describe('Coalescer', () => {
  it('triggers within the window become one batch when the oldest one’s window closes', () => {
    const c = fresh();
    c.add(['a'], 0, 't1');
    c.add(['b'], 1000, 't2');
    c.add(['a', 'c'], 2999, 't3');
    expect(c.dueAt()).toBe(3000);
    expect(c.take(2999)).toBeUndefined();
    expect(c.take(3000)).toEqual({ repositories: ['a', 'b', 'c'], since: 0, startedAt: 3000 });
    expect(c.dueAt()).toBeUndefined();
    expect(c.finish(new Set(), 3500)).toEqual({ succeeded: ['t1', 't3', 't2'], failed: [], retries: [] });
    expect(c.pending.size).toBe(0);
  });

  it('a repository triggered during its sync gets exactly one follow-up run', () => {
    const c = fresh();
    c.add(['a'], 0, 't1');
    c.take(3000);
    // The first delivery during the run is held for the follow-up; the others add nothing to it
    // (the held one is redelivered if the listener dies) and are acked at once.
    const held = Array.from({ length: 10 }, (_, i) => c.add(['a'], 3100 + i, `during-${i}`));
    expect(held).toEqual([true, ...Array(9).fill(false)]);
    expect(c.take(100_000)).toBeUndefined(); // one sync at a time
    const done = c.finish(new Set(), 4000);
    expect(done.succeeded).toEqual(['t1']); // the follower waits for its own run
    const follow = c.take(3100 + 3000);
    expect(follow?.repositories).toEqual(['a']);
    expect(c.finish(new Set(), 7000).succeeded).toEqual(['during-0']);
    expect(c.take(1e9)).toBeUndefined();
  });

  it('a failed repository goes back with exponential backoff; other repositories are not held back', () => {
    const c = fresh();
    c.add(['b'], 0, 't-b');
    c.add(['a', 'b'], 0, 't-ab');
    c.take(3000);
    const done = c.finish(new Set(['a']), 4000);
    // A token covering a failed repository is reported failed (the listener acks it once the
    // retry is on disk); one covering only synced repositories succeeded.
    expect(done).toEqual({
      succeeded: ['t-b'],
      failed: ['t-ab'],
      retries: [{ repository: 'a', attempts: 1, at: 5000 }],
    });
    expect(c.dueAt()).toBe(5000 + 3000);
    c.take(8000);
    expect(c.finish(new Set(['a']), 9000).retries).toEqual([{ repository: 'a', attempts: 2, at: 11_000 }]);
    c.take(14_000);
    c.finish(new Set(), 15_000);
    expect(c.pending.size).toBe(0);
  });

  it('a re-trigger during a failing run keeps its token for the retry', () => {
    const c = fresh();
    c.add(['a'], 0, 't1');
    c.take(3000);
    c.add(['a'], 3500, 't2');
    const done = c.finish(new Set(['a']), 4000);
    expect(done.failed).toEqual(['t1']);
    expect(c.pending.get('a')).toEqual({ since: 0, attempts: 1, notBefore: 5000, tokens: new Set(['t2']) });
  });

  it('a delivery is held unless every repository it names is already waiting with a held delivery', () => {
    const c = fresh();
    expect(c.add(['a'], 0)).toBe(true); // a webhook trigger holds no delivery
    expect(c.add(['a'], 0, 't1')).toBe(true);
    expect(c.add(['a'], 0, 't2')).toBe(false);
    expect(c.add(['a', 'b'], 0, 't3')).toBe(true);
    expect(c.pending.get('a')?.tokens).toEqual(new Set(['t1', 't3']));
  });

  it('dropped tokens (deliveries back at the broker) are not reported; their repositories still run', () => {
    const c = fresh();
    c.add(['a'], 0, 't1');
    c.add(['b'], 0, 't2');
    c.dropTokens(['t1']);
    c.take(3000);
    expect(c.finish(new Set(), 3100).succeeded).toEqual(['t2']);
  });

  it('durable() covers pending and running repositories and survives a restart through pending.json', () => {
    const c = fresh();
    c.add(['a'], 1000, 't1');
    c.take(4000);
    c.add(['a', 'b'], 4500);
    const text = renderPending(c.durable(), new Date(5000));
    const restarted = fresh();
    restarted.restore(parsePending(text), 5000);
    expect([...restarted.pending.keys()].sort()).toEqual(['a', 'b']);
    expect(restarted.pending.get('a')?.since).toBe(1000);
    expect(restarted.dueAt()).toBe(5000 + 3000); // the broker's redeliveries get one window to join
    expect(restarted.take(8000)?.repositories).toEqual(['a', 'b']);
  });

  it('parsePending rejects what is not a pending file', () => {
    expect(() => parsePending('{}')).toThrow();
    expect(() =>
      parsePending('{"formatVersion":1,"repositories":{"a":{"since":"x","attempts":0,"notBefore":"y"}}}'),
    ).toThrow();
  });

  it('backoffMs doubles and caps', () => {
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(n, backoff))).toEqual([1000, 2000, 4000, 8000, 8000]);
  });

  it('property: every token is settled exactly once and every triggered repository is run after its trigger', () => {
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('add' as const),
        repos: fc.subarray(['a', 'b', 'c', 'd'], { minLength: 1 }),
        dt: fc.integer({ min: 0, max: 5000 }),
      }),
      fc.record({
        kind: fc.constant('tick' as const),
        dt: fc.integer({ min: 0, max: 10_000 }),
        fail: fc.subarray(['a', 'b', 'c', 'd']),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const c = fresh();
        let now = 0;
        let n = 0;
        const settled = new Map<string, number>();
        const issued = new Set<string>();
        const lastTrigger = new Map<string, number>();
        const lastRun = new Map<string, number>();
        const drain = (fail: string[]) => {
          const batch = c.take(now);
          if (!batch) return;
          for (const r of batch.repositories) lastRun.set(r, now);
          const done = c.finish(new Set(fail), now);
          for (const t of [...done.succeeded, ...done.failed]) settled.set(t, (settled.get(t) ?? 0) + 1);
        };
        for (const o of ops) {
          now += o.dt;
          if (o.kind === 'add') {
            const token = `t${n++}`;
            issued.add(token);
            if (!c.add(o.repos, now, token)) settled.set(token, 1);
            for (const r of o.repos) lastTrigger.set(r, now);
          } else drain(o.fail);
        }
        // Then no more failures: everything drains.
        for (let i = 0; i < 20 && c.pending.size; i++) {
          now = Math.max(now, c.dueAt() ?? now);
          drain([]);
        }
        expect(c.pending.size).toBe(0);
        expect([...settled.values()].every((count) => count === 1)).toBe(true);
        expect(new Set(settled.keys())).toEqual(issued);
        for (const [r, at] of lastTrigger) expect(lastRun.get(r)).toBeGreaterThanOrEqual(at);
      }),
    );
  });
});
