import { describe, expect, it } from 'vitest';
import { emptyModuleState, type ModuleState } from '../../../src/freshness/mirror-state.js';
import { applyOutcome } from '../../../src/freshness/outcome.js';
import { FreshnessView } from '../../../src/serve/freshness.js';

const fileList = { etag: '"e"', lastModified: null, sha256: 'f'.repeat(64) };
const verifiedAt = (generation: string): ModuleState => ({ ...emptyModuleState(), verifiedGeneration: generation });

describe('a check outcome applied to a module state', () => {
  it('leaves rotation at the Nth failure in a row and comes back after one good check', () => {
    let state = verifiedAt('0000000003');
    for (let i = 1; i <= 3; i++) {
      state = applyOutcome(state, { kind: 'failed', message: 'HTTP 503' }, `t${i}`, 3);
      expect(state.inRotation).toBe(i < 3);
    }
    expect(state).toMatchObject({
      consecutiveFailures: 3,
      lastError: { message: 'HTTP 503' },
      verifiedGeneration: '0000000003',
    });
    state = applyOutcome(state, { kind: 'checked', listed: '0000000003', verified: true, fileList }, 't4', 3);
    expect(state).toMatchObject({ consecutiveFailures: 0, inRotation: true, lastError: null });
  });

  it('a listed generation that did not verify keeps the old verification and says why', () => {
    const state = applyOutcome(
      verifiedAt('0000000003'),
      { kind: 'checked', listed: '0000000004', verified: false, problem: '2 missing', fileList },
      't',
      3,
    );
    expect(state).toMatchObject({
      verifiedGeneration: '0000000003',
      listedGeneration: '0000000004',
      lastError: { message: '2 missing' },
    });
  });

  it('a verified newer generation moves verification, with when', () => {
    const state = applyOutcome(
      verifiedAt('0000000003'),
      { kind: 'checked', listed: '0000000005', verified: true, fileList },
      't',
      3,
    );
    expect(state).toMatchObject({ verifiedGeneration: '0000000005', verifiedAt: 't', fileList });
  });
});

describe('freshness view', () => {
  const state = {
    formatVersion: 1 as const,
    updatedAt: 't',
    checker: { pid: 1, host: 'h', startedAt: 't' },
    currentGeneration: '0000000005',
    mirrors: {
      stale: { modules: { x: verifiedAt('0000000003') } },
      out: { modules: { x: { ...verifiedAt('0000000005'), inRotation: false } } },
    },
  };
  const blob = (first: string) => ({ firstGeneration: { x: first } });

  it('a mirror verified at V gets blobs first published up to V only', () => {
    const view = new FreshnessView(state, 'avoid');
    expect(view.verdict('stale', blob('0000000003'), ['x'], '0000000005')).toEqual({ ok: true, module: 'x' });
    expect(view.verdict('stale', blob('0000000004'), ['x'], '0000000005')).toEqual({ ok: false, why: 'stale' });
    expect(view.verdict('out', blob('0000000001'), ['x'], '0000000005')).toEqual({ ok: false, why: 'out' });
  });

  it('never-checked mirrors follow the unchecked policy', () => {
    expect(new FreshnessView(state, 'avoid').verdict('new', blob('0000000001'), ['x'], '0000000005').ok).toBe(false);
    expect(new FreshnessView(state, 'trust').verdict('new', blob('0000000005'), ['x'], '0000000005').ok).toBe(true);
  });
});
