// The page's one stylesheet and one script, served by serve itself (/ui/app.css, /ui/app.js):
// nothing is fetched from another host and nothing is built at run time. The script only
// enhances: live search from /api/repositories and copy buttons; every page works without it.

export const APP_CSS = `
:root { --fg: #1d2125; --muted: #5f6b76; --line: #d9dee3; --bg: #f6f8fa; --accent: #1f5fa8; --bad: #b3261e; --badbg: #fdecea; --ok: #1e7d34; --warn: #8a5a00; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--fg); background: #fff; }
header { display: flex; gap: 2rem; align-items: center; padding: .6rem 1.5rem; background: #13294b; color: #fff; }
header nav a { color: #dbe6f5; margin-right: 1.2rem; text-decoration: none; }
header nav a[aria-current="page"] { color: #fff; border-bottom: 2px solid #fff; }
.brand { font-size: 1.1rem; }
main { padding: 1rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: .4rem 0 1rem; word-break: break-all; }
h2 { font-size: 1.1rem; margin: 1.4rem 0 .5rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid var(--line); vertical-align: top; }
thead th { background: var(--bg); font-weight: 600; }
thead th a { color: inherit; }
th[aria-sort] a::after { content: " ▾"; }
tr.alarm td, tr.alarm th { background: var(--badbg); }
code, .digest { font: 13px/1.3 ui-monospace, "DejaVu Sans Mono", monospace; word-break: break-all; }
a { color: var(--accent); }
small, .muted { color: var(--muted); }
.cards { display: flex; flex-wrap: wrap; gap: 1rem; }
.card { flex: 1 1 240px; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; background: var(--bg); }
.card h2 { margin: 0; font-size: .9rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
.big { font-size: 1.8rem; font-weight: 600; margin: .2rem 0; }
.card p { margin: .2rem 0; }
.alert { border: 2px solid var(--bad); background: var(--badbg); border-radius: 6px; padding: .6rem 1rem; margin-bottom: 1rem; }
.alert h2 { margin: 0 0 .3rem; color: var(--bad); }
.error { color: var(--bad); }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; background: var(--line); color: var(--fg); text-decoration: none; }
.badge.ok, .badge.idle { background: #dff3e4; color: var(--ok); }
.badge.failed, .badge.unreadable { background: var(--bad); color: #fff; }
.badge.partial { background: #fff1cc; color: var(--warn); }
.search { margin: .5rem 0; }
.search input { width: 22rem; max-width: 100%; padding: .3rem .5rem; font: inherit; }
.pull input { font: 13px ui-monospace, "DejaVu Sans Mono", monospace; padding: .3rem .5rem; max-width: 100%; }
.pull-lines { list-style: none; padding: 0; }
.pull-lines li { margin: .15rem 0; }
button.copy-button { margin-left: .4rem; font-size: .8rem; }
figure { margin: .6rem 0 1rem; }
figcaption { font-weight: 600; margin-bottom: .2rem; word-break: break-all; }
svg.chart { max-width: 100%; height: auto; background: var(--bg); border: 1px solid var(--line); border-radius: 4px; }
svg.chart .axis { stroke: #9aa5b1; stroke-width: 1; }
svg.chart .line { fill: none; stroke: var(--accent); stroke-width: 2; }
svg.chart .dot { fill: var(--accent); }
svg.chart .tick { font-size: 11px; fill: var(--muted); }
`;

export const APP_JS = `'use strict';
(function () {
  function copyButtons() {
    document.querySelectorAll('.copy').forEach(function (el) {
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'copy-button';
      button.textContent = 'copy';
      button.addEventListener('click', function () {
        var text = el.value !== undefined ? el.value : el.textContent;
        var done = function () { button.textContent = 'copied'; };
        if (navigator.clipboard && window.isSecureContext) navigator.clipboard.writeText(text).then(done, function () {});
        else {
          var range = document.createRange();
          range.selectNodeContents(el);
          if (el.select) el.select(); else { var s = window.getSelection(); s.removeAllRanges(); s.addRange(range); }
          button.textContent = 'selected: press Ctrl+C';
        }
      });
      el.insertAdjacentElement('afterend', button);
    });
  }

  function liveSearch() {
    var input = document.getElementById('q');
    var table = document.getElementById('repositories');
    if (!input || !table) return;
    var all = null;
    var body = table.tBodies[0];
    var count = document.getElementById('count');
    function cell(row, text, href) {
      var td = row.insertCell();
      if (href) { var a = document.createElement('a'); a.href = href; a.textContent = text; td.appendChild(a); }
      else td.textContent = text;
    }
    function show() {
      var words = input.value.toLowerCase().split(/\\s+/).filter(Boolean);
      var hits = all.repositories.filter(function (r) { return words.every(function (w) { return r.name.indexOf(w) >= 0; }); });
      body.replaceChildren();
      hits.forEach(function (r) {
        var row = body.insertRow();
        cell(row, r.name, '/repositories/' + r.name);
        cell(row, String(r.tags));
        cell(row, r.size);
        cell(row, r.syncedAt.slice(0, 16).replace('T', ' '));
      });
      if (count) count.textContent = hits.length + ' of ' + all.total + ' repositories in generation ' + all.generation;
      history.replaceState(null, '', input.value ? '?q=' + encodeURIComponent(input.value) : location.pathname);
    }
    input.addEventListener('input', function () {
      if (all) return show();
      fetch('/api/repositories').then(function (r) { return r.json(); }).then(function (data) { all = data; show(); }, function () {});
    });
  }

  document.addEventListener('DOMContentLoaded', function () { copyButtons(); liveSearch(); });
})();
`;
