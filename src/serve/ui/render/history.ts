import { html, type Html } from '../html.js';
import type { HistoryModel } from '../view/history.js';
import { lineChart } from './chart.js';
import { bytes, page } from './layout.js';

// PURE: the history page: charts and the same figures as a table.

export function historyPage(model: HistoryModel): Html {
  const label = (g: HistoryModel['generations'][number]) =>
    `${g.id.replace(/^0+(?=\d)/, '')} (${g.createdAt.slice(0, 16).replace('T', ' ')})`;
  return page(
    'History',
    '/history',
    html`<p>The ${model.generations.length} generations kept in the metadata directory, oldest first.</p>
      <figure>
        <figcaption>Tree size (unique bytes)</figcaption>
        ${lineChart(
          model.generations.map((g) => ({ label: label(g), value: g.uniqueBytes })),
          { title: 'tree size', format: bytes },
        )}
      </figure>
      <figure>
        <figcaption>Tags</figcaption>
        ${lineChart(
          model.generations.map((g) => ({ label: label(g), value: g.tags })),
          { title: 'tags', format: (v) => `${Math.round(v)}` },
        )}
      </figure>
      <table class="history">
        <thead>
          <tr>
            <th>generation</th>
            <th>published</th>
            <th>repositories</th>
            <th>tags</th>
            <th>tree size</th>
            <th>referenced</th>
          </tr>
        </thead>
        <tbody>
          ${model.generations.map(
            (g) =>
              html`<tr>
                <td>${g.id}</td>
                <td><time datetime="${g.createdAt}">${g.createdAt}</time></td>
                <td>${g.repositories}</td>
                <td>${g.tags}</td>
                <td>${bytes(g.uniqueBytes)}</td>
                <td>${bytes(g.referencedBytes)}</td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}
