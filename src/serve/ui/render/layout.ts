import { formatBytes, formatDuration } from '../../../format.js';
import { html, type Html, type HtmlValue } from '../html.js';

// PURE: the frame every page shares. Styles and the one script are files of serve (/ui/...),
// never a CDN; the pages work without the script.

export const NAV = [
  { path: '/', label: 'Overview' },
  { path: '/mirrors', label: 'Mirrors' },
  { path: '/repositories', label: 'Repositories' },
  { path: '/history', label: 'History' },
] as const;

export function page(title: string, active: string, body: HtmlValue): Html {
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${title} · blobmirror</title>
        <link rel="stylesheet" href="/ui/app.css" />
        <link rel="icon" href="data:," />
        <script src="/ui/app.js" defer></script>
      </head>
      <body>
        <header>
          <strong class="brand">blobmirror</strong>
          <nav>
            ${NAV.map((n) => html`<a href="${n.path}" ${n.path === active ? html` aria-current="page"` : ''}>${n.label}</a>`)}
          </nav>
        </header>
        <main>
          <h1>${title}</h1>
          ${body}
        </main>
      </body>
    </html> `;
}

export const bytes = (n: number): string => formatBytes(n);
export const duration = (ms: number | null): string => (ms === null ? '–' : formatDuration(Math.round(ms)));
export const shortDigest = (digest: string): string => digest.replace(/^(sha256:[0-9a-f]{12})[0-9a-f]+$/, '$1…');

const HOUR = 3_600_000;

/** "3 min 2 s ago", from an ISO time and the page's now. */
export function ago(at: string | null, now: string): string {
  if (at === null) return 'never';
  const ms = Date.parse(now) - Date.parse(at);
  if (ms < 1000) return 'just now';
  // Past two hours the seconds are noise.
  if (ms >= 48 * HOUR) return `${Math.floor(ms / (24 * HOUR))} days ago`;
  if (ms >= 2 * HOUR) return `${Math.floor(ms / HOUR)} h ago`;
  return `${formatDuration(Math.max(0, Math.round((Date.parse(now) - Date.parse(at)) / 1000) * 1000))} ago`;
}

export const time = (at: string | null, now: string): Html =>
  at === null ? html`never` : html`<time datetime="${at}" title="${at}">${ago(at, now)}</time>`;
