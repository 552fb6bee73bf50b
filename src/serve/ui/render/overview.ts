import { html, type Html } from '../html.js';
import type { OverviewModel, RunView } from '../view/overview.js';
import { ago, bytes, duration, page } from './layout.js';

// PURE: the overview page. A failed or partial run comes first, in an alert box, with its error.

function runRow(run: RunView, now: string): Html {
  return html`<tr class="${run.alarm ? 'alarm' : ''}">
    <th scope="row">${run.command}</th>
    <td><span class="badge ${run.result}">${run.result}</span></td>
    <td>${run.finishedAt ? html`<time datetime="${run.finishedAt}">${ago(run.finishedAt, now)}</time>` : '–'}</td>
    <td>${duration(run.durationMs)}</td>
    <td>${run.detail ?? ''}</td>
  </tr>`;
}

function alert(run: RunView): Html {
  return html`<section class="alert" role="alert" data-run="${run.command}">
    <h2>Last ${run.command}: ${run.result}</h2>
    ${run.error ? html`<p class="error"><code>${run.error.code}</code> <span class="message">${run.error.message}</span></p>` : ''}
    ${
      run.failures.length
        ? html`<ul class="failures">
              ${run.failures.map(
                (f) =>
                  html`<li>
                    <strong>${f.repository}</strong>${f.tag ? html` tag <code>${f.tag}</code>` : ''}:
                    <code>${f.code}</code> ${f.message}
                  </li>`,
              )}
            </ul>
            ${run.failureCount > run.failures.length ? html`<p>… and ${run.failureCount - run.failures.length} more</p>` : ''}`
        : ''
    }
    ${!run.error && run.failures.length === 0 && run.detail ? html`<p>${run.detail}</p>` : ''}
  </section>`;
}

export function overviewPage(model: OverviewModel): Html {
  const g = model.generation;
  const alerts = model.runs.filter((r) => r.alarm && (r.error || r.failures.length || r.result === 'unreadable'));
  return page(
    'Overview',
    '/',
    html`${alerts.map(alert)}
      ${
        g
          ? html`<section class="cards">
              <div class="card" id="generation">
                <h2>Generation</h2>
                <p class="big">${g.id}</p>
                <p>
                  published <time datetime="${g.createdAt}" title="${g.createdAt}">${ago(g.createdAt, model.now)}</time>
                </p>
              </div>
              <div class="card">
                <h2>Repositories</h2>
                <p class="big">${g.repositories}</p>
                <p>${g.tags} tags, ${g.blobs} blobs</p>
              </div>
              <div class="card" id="dedupe">
                <h2>Dedupe</h2>
                <p class="big">${g.bytes.ratio}×</p>
                <p>
                  ${bytes(g.bytes.unique)} on disk for ${bytes(g.bytes.referenced)} referenced:
                  <strong>${bytes(g.bytes.saved)} saved</strong>
                </p>
              </div>
            </section>`
          : html`<section class="alert" role="alert">
              <h2>No generation</h2>
              <p>${model.generationProblem}</p>
            </section>`
      }
      <h2>Last runs</h2>
      <table class="runs">
        <thead>
          <tr>
            <th>command</th>
            <th>result</th>
            <th>ended</th>
            <th>duration</th>
            <th>detail</th>
          </tr>
        </thead>
        <tbody>
          ${model.runs.map((r) => runRow(r, model.now))}
        </tbody>
      </table>`,
  );
}
