import { describe, expect, it } from 'vitest';
import { LagHistory, RedirectTally } from '../../../../src/serve/ui/mirror-watch.js';

describe('RedirectTally', () => {
  it('counts a redirect for the longest mirror URL it is under, else for the master', () => {
    const tally = new RedirectTally(['https://m.example/pub', 'https://m.example/pub/inner']);
    tally.record('https://m.example/pub/inner/r/_blobs/sha256/1');
    tally.record('https://m.example/pub/r/_blobs/sha256/2');
    tally.record('https://m.example/public/r/_blobs/sha256/3');
    expect([...tally.byMirror]).toEqual([
      ['https://m.example/pub/inner', 1],
      ['https://m.example/pub', 1],
    ]);
    expect(tally.master).toBe(1);
  });
});

describe('LagHistory', () => {
  it('takes one sample per mirror from each new state', () => {
    const history = new LagHistory();
    const state = (updatedAt: string, verifiedGeneration: string) => ({
      updatedAt,
      currentGeneration: '0000000042',
      mirrors: {
        'https://a.example/pub': {
          modules: {
            containers: {
              verifiedGeneration,
              lastCheckAt: updatedAt,
              lastError: null,
              consecutiveFailures: 0,
              inRotation: true,
            },
          },
        },
      },
    });
    history.observe(state('2026-11-22T16:00:00.000Z', '0000000040'));
    history.observe(state('2026-11-22T16:00:00.000Z', '0000000040'));
    history.observe(state('2026-11-22T16:05:00.000Z', '0000000042'));
    expect(history.samples.get('https://a.example/pub')).toEqual([
      { at: '2026-11-22T16:00:00.000Z', lag: 2 },
      { at: '2026-11-22T16:05:00.000Z', lag: 0 },
    ]);
  });
});
