import { isRepositoryName } from '../../oci/reference.js';
import type { ServeResponse } from '../responses.js';
import { APP_CSS, APP_JS } from './assets.js';
import { html, type Html } from './html.js';
import { historyPage } from './render/history.js';
import { page } from './render/layout.js';
import { mirrorsPage } from './render/mirrors.js';
import { overviewPage } from './render/overview.js';
import { repositoryListPage, repositoryPage } from './render/repositories.js';
import type { StatusData } from './status-data.js';

// The status page's URLs: every page at /<page>, the same data as JSON at /api/<page>, and the
// two static files under /ui/. Anything else is not the UI's (undefined: the registry's 404).

// Only this origin's own script and styles; inline SVG charts need nothing more.
const PAGE_HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Cache-Control': 'no-cache',
};

function respond(
  status: number,
  type: string,
  body: string,
  headers: Record<string, string> = PAGE_HEADERS,
): ServeResponse {
  return { status, headers: { 'Content-Type': type, ...headers }, body: Buffer.from(body) };
}

const htmlResponse = (status: number, body: Html) => respond(status, 'text/html; charset=utf-8', body.text);
const jsonResponse = (status: number, value: unknown) =>
  respond(status, 'application/json; charset=utf-8', JSON.stringify(value));

function notFound(api: boolean, what: string): ServeResponse {
  return api
    ? jsonResponse(404, { error: what })
    : htmlResponse(
        404,
        page(
          'Not found',
          '',
          html`<p>${what}</p>
            <p><a href="/repositories">All repositories</a></p>`,
        ),
      );
}

const STATIC: Record<string, [string, string]> = {
  '/ui/app.css': ['text/css; charset=utf-8', APP_CSS],
  '/ui/app.js': ['text/javascript; charset=utf-8', APP_JS],
};

/** Answer a UI request, or undefined when `target` is no UI path. `host`: for the pull lines. */
export async function handleUi(data: StatusData, target: string, host: string): Promise<ServeResponse | undefined> {
  const url = new URL(target, 'http://status.invalid');
  const asset = STATIC[url.pathname];
  if (asset) return respond(200, asset[0], asset[1], { ...PAGE_HEADERS, 'Cache-Control': 'max-age=300' });
  const api = url.pathname.startsWith('/api/');
  const path = api ? url.pathname.slice('/api'.length) : url.pathname;
  const answer = (status: number, model: unknown, render: () => Html) =>
    api ? jsonResponse(status, model) : htmlResponse(status, render());

  if (path === '/' || (api && path === '/overview')) {
    const model = await data.overview();
    return answer(200, model, () => overviewPage(model));
  }
  if (path === '/mirrors') {
    const model = await data.mirrors(url.searchParams.get('sort') ?? 'url');
    return answer(200, model, () => mirrorsPage(model));
  }
  if (path === '/history') {
    const model = await data.history();
    return answer(200, model, () => historyPage(model));
  }
  if (path === '/repositories') {
    const model = await data.repositoryList((url.searchParams.get('q') ?? '').slice(0, 256));
    if (!model) return notFound(api, 'No metadata generation is published yet.');
    return answer(200, model, () => repositoryListPage(model));
  }
  if (path.startsWith('/repositories/')) {
    let name: string;
    try {
      name = decodeURIComponent(path.slice('/repositories/'.length)).replace(/\/$/, '');
    } catch {
      return notFound(api, 'Bad percent-encoding in the repository name.');
    }
    const model = isRepositoryName(name) ? await data.repository(name, host) : undefined;
    if (!model) return notFound(api, `No repository ${name} in the current generation.`);
    return answer(200, model, () => repositoryPage(model));
  }
  return undefined;
}
