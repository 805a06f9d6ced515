// The status page's only style sheet and script, inline (no front-end build, no external assets), and the
// Content-Security-Policy that allows exactly these two: each by its SHA-256 hash, so nothing else inline runs
// or styles the page, even text that escaped escaping. Both are constants, so their hashes are too.
import { createHash } from 'node:crypto';

export const PAGE_CSS = `
:root{color-scheme:light dark;--ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--dim:#6e7781;--line:#d0d7de}
body{font:15px/1.4 system-ui,sans-serif;margin:0 auto;padding:1em;max-width:80em}
h1{font-size:1.3em;margin:0 0 .2em}
a{color:inherit}
.meta{color:var(--dim);margin:0 0 1em}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.85em;color:var(--dim);font-weight:600}
td.reason{word-break:break-word;max-width:30em}
.state{font-weight:600}
[data-state=converged] .state,[data-health=healthy] .health{color:var(--ok)}
[data-state=progressing] .state,[data-state=pending] .state,[data-health=progressing] .health{color:var(--warn)}
[data-state=failed] .state,[data-state=degraded] .state,[data-health=degraded] .health,[data-health=down] .health{color:var(--bad)}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.2em 1em;margin:0 0 1.2em}
dt{color:var(--dim)}
dd{margin:0;word-break:break-word}
@media (max-width:40em){
thead{display:none}
table,tbody,tr,td{display:block;width:auto}
tr{border:1px solid var(--line);border-radius:.4em;margin:0 0 .7em;padding:.3em .5em}
td{border:0;padding:.15em 0}
td::before{content:attr(data-label) ": ";color:var(--dim)}
td.name::before{content:""}
td.name{font-size:1.1em}
}
`;

/** Without a live stream (no scripts, no EventSource, or a stream that gave up), the pages reload this often. */
export const REFRESH_SECONDS = 15;

// Runs on both pages. It keeps them live from GET /v1/events: every `stack` event rewrites the cells of that
// stack (textContent only: what arrives is data, never markup); a stack the page does not know, or one that is
// gone, reloads the page. Without scripts the page's <noscript> meta refresh does this job; without
// EventSource, or when the stream gives up (an answer that is not an event stream, e.g. a proxy's error page:
// EventSource then stops retrying), the script falls back to the same reload. A dropped connection is not
// that: EventSource reconnects by itself (the stream's `retry:`).
export const PAGE_SCRIPT = `
(function () {
  'use strict';
  var live = document.getElementById('live');
  function age(iso) {
    var s = Math.floor((Date.now() - Date.parse(iso)) / 1000);
    if (!(s >= 1)) return 'now';
    if (s < 60) return s + 's ago';
    if (s < 3600) return Math.floor(s / 60) + 'm ago';
    if (s < 86400) return Math.floor(s / 3600) + 'h ago';
    return Math.floor(s / 86400) + 'd ago';
  }
  function last(el) {
    var at = el.getAttribute('data-at');
    el.textContent = at ? el.getAttribute('data-result') + ' ' + age(at) : '-';
  }
  function fields(s) {
    var up = s.containers.filter(function (c) { return c.state === 'running'; }).length;
    var r = s.lastResult || {};
    return {
      state: s.state, health: s.health, desired: s.desired,
      phase: s.phase + (s.retryAt ? ' until ' + s.retryAt : ''),
      containers: up + '/' + s.containers.length,
      reason: r.reasonCode && r.reason ? r.reasonCode + ': ' + r.reason : (r.reason || r.reasonCode || '')
    };
  }
  function cell(tr, label, text) {
    var td = document.createElement('td');
    td.setAttribute('data-label', label);
    td.className = 'c-' + label;
    td.textContent = text;
    tr.appendChild(td);
  }
  function containers(body, list) {
    while (body.firstChild) body.removeChild(body.firstChild);
    list.forEach(function (c) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-health', c.health);
      cell(tr, 'name', c.name); cell(tr, 'service', c.service); cell(tr, 'state', c.state); cell(tr, 'health', c.health);
      body.appendChild(tr);
    });
  }
  function find(name) {
    var all = document.querySelectorAll('[data-stack]');
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute('data-stack') === name) return all[i];
    return null;
  }
  function update(s) {
    var el = find(s.name);
    if (!el) { if (document.body.getAttribute('data-page') === 'index') location.reload(); return; }
    var f = fields(s);
    el.setAttribute('data-state', s.state);
    el.setAttribute('data-health', s.health);
    el.querySelectorAll('[data-f]').forEach(function (c) {
      var k = c.getAttribute('data-f');
      if (k === 'last' || k === 'update') {
        var r = k === 'last' ? s.lastResult : s.lastUpdate;
        if (r) { c.setAttribute('data-at', r.finishedAt); c.setAttribute('data-result', r.result); }
        else { c.removeAttribute('data-at'); }
        last(c);
      } else if (k === 'containers-table') {
        containers(c, s.containers);
      } else if (Object.prototype.hasOwnProperty.call(f, k)) {
        c.textContent = f[k];
      }
    });
  }
  setInterval(function () { document.querySelectorAll('[data-f=last],[data-f=update]').forEach(last); }, 5000);
  function note(text) { if (live) live.textContent = text; }
  var reloading = false;
  function reloadLater(why) {
    note('not live (' + why + '): reloads every ${REFRESH_SECONDS} s');
    if (reloading) return;
    reloading = true;
    setTimeout(function () { location.reload(); }, ${REFRESH_SECONDS * 1000});
  }
  if (!window.EventSource) { reloadLater('no EventSource'); return; }
  var es = new EventSource('/v1/events');
  note('connecting…');
  es.addEventListener('open', function () { note('live'); });
  es.addEventListener('error', function () {
    if (es.readyState === 2) reloadLater('the event stream failed');
    else note('reconnecting…');
  });
  es.addEventListener('stack', function (e) { update(JSON.parse(e.data)); });
  es.addEventListener('gone', function (e) { if (find(JSON.parse(e.data).name)) location.reload(); });
})();
`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * Nothing but this page's own script and style, EventSource and fetches to this origin; no images, frames,
 * forms, plugins or base URL. The pages send it on every answer.
 */
export const PAGE_CSP = [
  "default-src 'none'",
  `script-src ${sha256(PAGE_SCRIPT)}`,
  `style-src ${sha256(PAGE_CSS)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
