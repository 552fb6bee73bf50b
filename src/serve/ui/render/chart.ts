import { html, type Html } from '../html.js';

// PURE: a small line chart as inline SVG, drawn on the server so it needs no script. Each point
// carries a <title>, which browsers show as a tooltip.

export interface ChartPoint {
  label: string;
  value: number;
}

export interface ChartOptions {
  title: string;
  width?: number;
  height?: number;
  format: (value: number) => string;
}

const PAD = { left: 64, right: 12, top: 12, bottom: 22 };

export function lineChart(points: readonly ChartPoint[], options: ChartOptions): Html {
  const width = options.width ?? 560;
  const height = options.height ?? 160;
  if (points.length === 0) return html`<p class="muted">No data for ${options.title} yet.</p>`;
  const min = Math.min(...points.map((p) => p.value), 0);
  // A flat line still gets a scale: min to min + 1.
  const max = Math.max(...points.map((p) => p.value), min + 1);
  const span = max - min;
  const plotW = width - PAD.left - PAD.right;
  const plotH = height - PAD.top - PAD.bottom;
  const x = (i: number) => PAD.left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => PAD.top + plotH - ((v - min) / span) * plotH;
  const path = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`).join(' ');
  return html`<svg
    class="chart"
    viewBox="0 0 ${width} ${height}"
    width="${width}"
    height="${height}"
    role="img"
    aria-label="${options.title}"
  >
    <line class="axis" x1="${PAD.left}" y1="${PAD.top + plotH}" x2="${width - PAD.right}" y2="${PAD.top + plotH}" />
    <line class="axis" x1="${PAD.left}" y1="${PAD.top}" x2="${PAD.left}" y2="${PAD.top + plotH}" />
    <text class="tick" x="${PAD.left - 6}" y="${PAD.top + 4}" text-anchor="end">${options.format(max)}</text>
    <text class="tick" x="${PAD.left - 6}" y="${PAD.top + plotH}" text-anchor="end">${options.format(min)}</text>
    <text class="tick" x="${PAD.left}" y="${height - 6}">${points[0]!.label}</text>
    <text class="tick" x="${width - PAD.right}" y="${height - 6}" text-anchor="end">${points.at(-1)!.label}</text>
    <polyline class="line" points="${path}" />
    ${points.map(
      (p, i) =>
        html`<circle class="dot" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3"
          ><title>${p.label}: ${options.format(p.value)}</title></circle
        >`,
    )}
  </svg>`;
}
