import { html, type Html } from '../html.js';
import type { RepositoryListModel, RepositoryModel, TagView } from '../view/repositories.js';
import { bytes, page, shortDigest } from './layout.js';

// PURE: the repository list (a GET form searches without script; app.js filters as you type
// from /api/repositories) and one repository's page.

export const repositoryHref = (name: string): string => `/repositories/${name}`;

export function repositoryListPage(model: RepositoryListModel): Html {
  return page(
    'Repositories',
    '/repositories',
    html`<form class="search" action="/repositories" method="get" role="search">
        <label for="q">Search</label>
        <input
          id="q"
          name="q"
          type="search"
          value="${model.query}"
          placeholder="name or part of it"
          autocomplete="off"
        />
        <button type="submit">Search</button>
      </form>
      <p id="count">${model.repositories.length} of ${model.total} repositories in generation ${model.generation}</p>
      <table class="repositories" id="repositories">
        <thead>
          <tr>
            <th>repository</th>
            <th>tags</th>
            <th>size</th>
            <th>synced</th>
          </tr>
        </thead>
        <tbody>
          ${model.repositories.map(
            (r) =>
              html`<tr>
                <td><a href="${repositoryHref(r.name)}">${r.name}</a></td>
                <td>${r.tags}</td>
                <td>${r.size}</td>
                <td><time datetime="${r.syncedAt}">${r.syncedAt.slice(0, 16).replace('T', ' ')}</time></td>
              </tr>`,
          )}
        </tbody>
      </table>`,
  );
}

/** A badge per attachment; it links to the attachment's own tag row when the page lists it. */
function attachedBadges(t: TagView, listed: ReadonlySet<string>): Html | string {
  if (!t.attached.length) return '–';
  return html`${t.attached.map((a) =>
    a.tag !== undefined && listed.has(a.tag)
      ? html`<a href="#tag-${a.tag}" class="badge ok" title="${a.digest}">${a.kind}</a> `
      : html`<span class="badge ok" title="${a.digest}">${a.kind}</span> `,
  )}`;
}

function attachmentRows(t: TagView): Html[] {
  return t.attached.map(
    (a) =>
      html`<tr data-tag="${t.tag}" data-attachment="${a.digest}">
        <th scope="row">${t.tag}</th>
        <td class="kind">${a.kind}</td>
        <td>${a.scheme === 'cosign' ? `cosign tag ${a.tag ?? ''}` : 'OCI referrer'}</td>
        <td>${a.artifactType ?? '–'}</td>
        <td><code class="digest" title="${a.digest}">${shortDigest(a.digest)}</code></td>
        <td>
          ${a.subject === t.digest ? 'the tag' : html`<code title="${a.subject}">${shortDigest(a.subject)}</code>`}
        </td>
      </tr>`,
  );
}

function tagRow(t: TagView, listed: ReadonlySet<string>): Html {
  return html`<tr id="tag-${t.tag}" data-tag="${t.tag}">
    <th scope="row" class="tag">${t.tag}</th>
    <td><code class="digest" title="${t.digest}">${t.digest}</code></td>
    <td>
      ${t.kind}${t.attestations ? html` <small>+${t.attestations} attestation${t.attestations === 1 ? '' : 's'}</small>` : ''}
    </td>
    <td>${t.platforms.length ? t.platforms.join(', ') : '–'}</td>
    <td>${bytes(t.bytes)}</td>
    <td>${attachedBadges(t, listed)}</td>
  </tr>`;
}

function historyRows(t: TagView): Html {
  return html`<li>
    <strong>${t.tag}</strong>:
    ${t.history.map(
      (h, i) =>
        html`${i ? ' → ' : ''}<span title="${h.digest ?? 'left the selection'}"
            >${h.digest ? shortDigest(h.digest) : 'removed'}</span
          >
          <small>since ${h.since.slice(0, 16).replace('T', ' ')}</small>`,
    )}
  </li>`;
}

export function repositoryPage(model: RepositoryModel): Html {
  const first =
    model.tags.find((t) => t.tag === 'latest') ??
    model.tags.find((t) => t.attached.length === 0 && !/\.(sig|att|sbom)$/.test(t.tag)) ??
    model.tags[0];
  const listed = new Set(model.tags.map((t) => t.tag));
  // An artifact attached to several tags' digest is listed once per tag: each row says which.
  const attachments = model.tags.filter((t) => t.attached.length && !/\.(sig|att|sbom)$/.test(t.tag));
  return page(
    model.name,
    '/repositories',
    html`<p>
        ${model.tags.length} tags, ${bytes(model.bytes)}, synced ${model.syncedAt} (generation ${model.generation}).
      </p>
      ${
        first
          ? html`<p class="pull">
              <label for="pull">Pull</label>
              <input id="pull" class="copy" readonly size="${first.pull.length + 2}" value="${first.pull}" />
            </p>`
          : ''
      }
      <table class="tags" id="tags">
        <thead>
          <tr>
            <th>tag</th>
            <th>digest</th>
            <th>type</th>
            <th>platforms</th>
            <th>size</th>
            <th>attached</th>
          </tr>
        </thead>
        <tbody>
          ${model.tags.map((t) => tagRow(t, listed))}
        </tbody>
      </table>
      ${
        attachments.length
          ? html`<h2>Signatures, SBOMs and attestations</h2>
              <table class="attachments" id="attachments">
                <thead>
                  <tr>
                    <th>tag</th>
                    <th>what</th>
                    <th>how attached</th>
                    <th>artifact type</th>
                    <th>digest</th>
                    <th>attached to</th>
                  </tr>
                </thead>
                <tbody>
                  ${attachments.flatMap(attachmentRows)}
                </tbody>
              </table>`
          : ''
      }
      <h2>Pull lines</h2>
      <ul class="pull-lines">
        ${model.tags.map((t) => html`<li><code class="copy">${t.pull}</code></li>`)}
      </ul>
      <h2>Tag history</h2>
      <ul class="tag-history">
        ${model.tags.filter((t) => t.history.length).map(historyRows)}
      </ul>`,
  );
}
