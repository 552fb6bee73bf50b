import { describe, expect, it } from 'vitest';
import { lineChart } from '../../../../../src/serve/ui/render/chart.js';
import { ago } from '../../../../../src/serve/ui/render/layout.js';

describe('lineChart', () => {
  it('draws one point per value with its label and value as tooltip, labels escaped', () => {
    const svg = lineChart(
      [
        { label: '<1>', value: 10 },
        { label: '2', value: 30 },
      ],
      { title: 'size "x"', format: (v) => `${v} B` },
    ).text;
    expect(svg.match(/<circle /g)).toHaveLength(2);
    expect(svg).toContain('<title>&lt;1&gt;: 10 B</title>');
    expect(svg).toContain('aria-label="size &quot;x&quot;"');
    // The y axis runs from 0 to the largest value.
    expect(svg).toContain('>30 B</text>');
    expect(svg).toContain('>0 B</text>');
  });

  it('a flat line still gets a scale, and no points say so in words', () => {
    expect(lineChart([{ label: 'a', value: 0 }], { title: 't', format: String }).text).toContain('>1</text>');
    expect(lineChart([], { title: 'lag', format: String }).text).toBe('<p class="muted">No data for lag yet.</p>');
  });
});

describe('ago', () => {
  const now = '2026-11-22T17:00:00.000Z';
  it('reads in the unit that matters', () => {
    expect(ago(null, now)).toBe('never');
    expect(ago('2026-11-22T16:59:59.500Z', now)).toBe('just now');
    expect(ago('2026-11-22T16:57:00.000Z', now)).toBe('3 min 0 s ago');
    expect(ago('2026-11-22T12:00:00.000Z', now)).toBe('5 h ago');
    expect(ago('2026-11-19T17:00:00.000Z', now)).toBe('3 days ago');
  });
});
