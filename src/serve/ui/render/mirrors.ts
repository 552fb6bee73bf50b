import { html, type Html } from '../html.js';
import type { MirrorSortKey, MirrorsModel, MirrorView } from '../view/mirrors.js';
import { lineChart } from './chart.js';
import { page, time } from './layout.js';

// PURE: the mirrors page. Column headers are links (?sort=...), so sorting needs no script.

const COLUMNS: Array<{ key: MirrorSortKey; label: string }> = [
  { key: 'url', label: 'mirror' },
  { key: 'weight', label: 'weight' },
  { key: 'country', label: 'country' },
  { key: 'lag', label: 'lag (generations)' },
  { key: 'lastCheck', label: 'last check' },
  { key: 'failures', label: 'failures' },
  { key: 'share', label: 'redirects' },
];

const percent = (share: number | null) => (share === null ? '–' : `${(share * 100).toFixed(1)} %`);

function row(m: MirrorView, model: MirrorsModel, now: string): Html {
  return html`<tr class="${!m.inRotation || m.lastError ? 'alarm' : ''}">
    <td>
      <a href="${m.url}">${m.url}</a><br /><small
        >${m.repositories.join(', ')}${m.modules ? html` · modules ${m.modules.join(', ')}` : ''}</small
      >
    </td>
    <td>${m.weight}</td>
    <td>${m.country ?? '–'}</td>
    <td>
      ${m.checked ? (m.lag === null ? 'never verified' : html`${m.lag} <small>(at ${m.verifiedGeneration})</small>`) : 'not checked'}
    </td>
    <td>${m.checked ? time(m.lastCheckAt, now) : '–'}</td>
    <td>
      ${m.failures}${m.inRotation ? '' : html` <span class="badge failed">out of rotation</span>`}${m.lastError ? html`<br /><small class="error">${m.lastError}</small>` : ''}
    </td>
    <td>${percent(m.redirectShare)} <small>(${m.redirects})</small></td>
  </tr>`;
}

export function mirrorsPage(model: MirrorsModel): Html {
  const now = model.now;
  const charted = model.mirrors.filter((m) => m.lagHistory.some((s) => s.lag !== null));
  return page(
    'Mirrors',
    '/mirrors',
    html`${
        model.stateProblem
          ? html`<section class="alert" role="alert">
              <h2>Mirror checker state unreadable</h2>
              <p>${model.stateProblem}</p>
            </section>`
          : ''
      }
      <p>
        ${
          model.checkedAt
            ? html`Mirror checker state written ${time(model.checkedAt, now)}; current generation
              ${model.currentGeneration ?? 'none'}.`
            : 'No mirror checker state (mirror-state.json) yet: this is what the mirror list says.'
        }
        ${model.redirectsTotal} blob redirects by this serve process since it started, ${model.masterRedirects} of them
        to the master.
      </p>
      <table class="mirrors">
        <thead>
          <tr>
            ${COLUMNS.map(
              (c) =>
                html`<th${c.key === model.sort ? html` aria-sort="${c.key === 'url' || c.key === 'country' ? 'ascending' : 'descending'}"` : ''}><a href="/mirrors?sort=${c.key}">${c.label}</a></th>`,
            )}
          </tr>
        </thead>
        <tbody>
          ${model.mirrors.map((m) => row(m, model, now))}
        </tbody>
      </table>
      <h2>Lag over time</h2>
      ${
        charted.length
          ? charted.map(
              (m) =>
                html`<figure>
                  <figcaption>${m.url}</figcaption>
                  ${lineChart(
                    m.lagHistory
                      .filter((s) => s.lag !== null)
                      .map((s) => ({ label: s.at.slice(11, 19), value: s.lag! })),
                    { title: `lag of ${m.url}`, height: 110, format: (v) => `${Math.round(v)}` },
                  )}
                </figure>`,
            )
          : html`<p class="muted">
              No lag samples yet: they are taken each time the mirror checker writes its state while this serve runs.
            </p>`
      }`,
  );
}
