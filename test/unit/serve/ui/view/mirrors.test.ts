import { describe, expect, it } from 'vitest';
import { RedirectTally } from '../../../../../src/serve/ui/mirror-watch.js';
import { mirrorsModel, type ModuleObservation } from '../../../../../src/serve/ui/view/mirrors.js';

const now = new Date('2026-11-22T17:00:00.000Z');
const list = [
  { url: 'https://a.example/pub', weight: 10, country: 'DE', repositories: ['**'] },
  { url: 'https://b.example/pub', weight: 1, repositories: ['fedora/**'], modules: ['containers-arm64'] },
  { url: 'https://c.example', weight: 5, repositories: ['**'] },
];
const observed = (verifiedGeneration: string | null, extra: Partial<ModuleObservation> = {}): ModuleObservation => ({
  verifiedGeneration,
  lastCheckAt: '2026-11-22T16:59:00.000Z',
  lastError: null,
  consecutiveFailures: 0,
  inRotation: true,
  ...extra,
});
const base = {
  now,
  list,
  currentGeneration: '0000000042',
  redirects: new Map<string, number>(),
  masterRedirects: 0,
  lagHistory: new Map(),
};

describe('mirrorsModel', () => {
  it('without checker state shows what the mirror list says', () => {
    const model = mirrorsModel({ ...base, state: null, sort: 'url' });
    expect(model.checkedAt).toBeNull();
    expect(model.mirrors.map((m) => [m.url, m.weight, m.checked, m.lag, m.redirectShare])).toEqual([
      ['https://a.example/pub', 10, false, null, null],
      ['https://b.example/pub', 1, false, null, null],
      ['https://c.example', 5, false, null, null],
    ]);
  });

  it('takes the worst module of a mirror and sorts by lag, most behind first', () => {
    const state = {
      updatedAt: '2026-11-22T16:59:30.000Z',
      mirrors: {
        'https://a.example/pub': { modules: { containers: observed('0000000042') } },
        'https://b.example/pub': {
          modules: {
            'containers-arm64': observed('0000000039', {
              consecutiveFailures: 3,
              inRotation: false,
              lastError: { at: 'x', message: 'timeout' },
            }),
            'containers-amd64': observed('0000000041'),
          },
        },
      },
    };
    const model = mirrorsModel({ ...base, state, sort: 'lag' });
    expect(model.mirrors.map((m) => [m.url, m.lag, m.failures, m.inRotation, m.lastError])).toEqual([
      ['https://b.example/pub', 3, 3, false, 'timeout'],
      ['https://a.example/pub', 0, 0, true, null],
      // Never checked: no lag known, last.
      ['https://c.example', null, 0, true, null],
    ]);
    expect(model.checkedAt).toBe(state.updatedAt);
  });

  it('gives each mirror its share of the redirects; an unknown sort falls back to url', () => {
    const tally = new RedirectTally(list.map((m) => m.url));
    for (const location of [
      'https://a.example/pub/fedora/x/_blobs/sha256/1',
      'https://a.example/pub/fedora/x/_blobs/sha256/2',
      'https://c.example/fedora/x/_blobs/sha256/3',
      'https://master.example/fedora/x/_blobs/sha256/4',
    ])
      tally.record(location);
    const model = mirrorsModel({
      ...base,
      state: null,
      redirects: tally.byMirror,
      masterRedirects: tally.master,
      sort: '<bad>',
    });
    expect(model.sort).toBe('url');
    expect(model.redirectsTotal).toBe(4);
    expect(model.masterRedirects).toBe(1);
    expect(model.mirrors.map((m) => [m.url, m.redirects, m.redirectShare])).toEqual([
      ['https://a.example/pub', 2, 0.5],
      ['https://b.example/pub', 0, 0],
      ['https://c.example', 1, 0.25],
    ]);
    expect(
      mirrorsModel({ ...base, state: null, redirects: tally.byMirror, masterRedirects: 1, sort: 'share' }).mirrors[0]!
        .url,
    ).toBe('https://a.example/pub');
  });
});
