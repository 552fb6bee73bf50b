import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, plural } from '../../src/format.js';

describe('formatBytes', () => {
  it.each([
    [0, '0 B'],
    [999, '999 B'],
    [1000, '1.0 kB'],
    [1536, '1.5 kB'],
    [12_345, '12.3 kB'],
    [123_456, '123 kB'],
    [1_000_000, '1.0 MB'],
    [4_194_304, '4.2 MB'],
    [2_500_000_000, '2.5 GB'],
    [1e12, '1.0 TB'],
    [5e15, '5000 TB'],
  ])('%d bytes is %s', (bytes, text) => {
    expect(formatBytes(bytes)).toBe(text);
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0 ms'],
    [999, '999 ms'],
    [1000, '1.0 s'],
    [1250, '1.3 s'],
    [59_000, '59.0 s'],
    [119_000, '119.0 s'],
    [120_000, '2 min 0 s'],
    [125_400, '2 min 5 s'],
    [179_400, '2 min 59 s'],
    [179_600, '3 min 0 s'],
    [3_599_999, '60 min 0 s'],
    [3_723_000, '62 min 3 s'],
  ])('%d ms is %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it('property: minutes and seconds never show 60 s and add up to the rounded duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 120_000, max: 10 * 3_600_000 }), (ms) => {
        const match = /^(\d+) min (\d+) s$/.exec(formatDuration(ms));
        expect(match).not.toBeNull();
        const [minutes, seconds] = [Number(match![1]), Number(match![2])];
        expect(seconds).toBeLessThan(60);
        expect(minutes * 60 + seconds).toBe(Math.round(ms / 1000));
      }),
    );
  });
});

describe('plural', () => {
  it('adds s except for exactly one', () => {
    expect(plural(0, 'blob')).toBe('0 blobs');
    expect(plural(1, 'blob')).toBe('1 blob');
    expect(plural(2, 'tag')).toBe('2 tags');
  });
});
