// The status pages, rendered on the server from the status JSON: pure functions of the stacks and a clock, so
// the tests read them as text. Every dynamic string is escaped (escape.ts); the one script and style sheet are
// the constants of assets.ts, which the Content-Security-Policy allows by hash. Cells the page's script keeps
// live carry `data-f` (the field) and their stack's element carries `data-stack`.
import type { ContainerView, StackStatus } from '../../core/model.js';
import { containerCount, formatLast, reasonText } from '../../core/status-text.js';
import { PAGE_CSS, PAGE_SCRIPT, REFRESH_SECONDS } from './assets.js';
import { escapeHtml as esc } from './escape.js';

/** Without scripts, the pages reload themselves this often (seconds); the script falls back to the same. */
export const NOSCRIPT_REFRESH_SECONDS = REFRESH_SECONDS;

export interface PageContext {
  nowMs: number;
}

function layout(title: string, page: 'index' | 'stack', body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)}</title>
<noscript><meta http-equiv="refresh" content="${NOSCRIPT_REFRESH_SECONDS}"></noscript>
<style>${PAGE_CSS}</style>
</head>
<body data-page="${page}">
${body}
<script>${PAGE_SCRIPT}</script>
</body>
</html>
`;
}

function liveNote(): string {
  return `<span id="live">loading…</span><noscript> (reloads every ${NOSCRIPT_REFRESH_SECONDS} s)</noscript>`;
}

function phaseText(s: StackStatus): string {
  return s.phase + (s.retryAt ? ` until ${s.retryAt}` : '');
}

/** The `last` (reconcile) and `update` (registry update run) cells: the script re-ages them from data-at. */
function agedCell(tag: 'td' | 'dd', field: 'last' | 'update', r: { result: string; finishedAt: string } | undefined, nowMs: number): string {
  const attrs = r ? ` data-at="${esc(r.finishedAt)}" data-result="${esc(r.result)}"` : '';
  const label = tag === 'td' ? ` data-label="${field}" class="${field}"` : '';
  return `<${tag}${label} data-f="${field}"${attrs}>${esc(formatLast(r, nowMs))}</${tag}>`;
}

function stackRow(s: StackStatus, nowMs: number): string {
  const td = (field: string, text: string) => `<td data-label="${field}" class="${field}" data-f="${field}">${esc(text)}</td>`;
  return `<tr data-stack="${esc(s.name)}" data-state="${esc(s.state)}" data-health="${esc(s.health)}">`
    + `<td data-label="stack" class="name"><a href="/stacks/${esc(encodeURIComponent(s.name))}">${esc(s.name)}</a></td>`
    + td('state', s.state) + td('health', s.health) + td('containers', containerCount(s))
    + agedCell('td', 'last', s.lastResult, nowMs) + td('reason', reasonText(s.lastResult))
    + agedCell('td', 'update', s.lastUpdate, nowMs) + td('phase', phaseText(s))
    + '</tr>';
}

/** GET /: every stack, one row (a card on a phone) each. */
export function renderIndexPage(stacks: readonly StackStatus[], ctx: PageContext): string {
  const rows = stacks.map((s) => stackRow(s, ctx.nowMs)).join('\n');
  const table = stacks.length === 0 ? '<p>No stacks are configured.</p>' : `<table>
<thead><tr><th>stack</th><th>state</th><th>health</th><th>containers</th><th>last</th><th>reason</th><th>update</th><th>phase</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>`;
  return layout(`stackd: ${stacks.length} stack${stacks.length === 1 ? '' : 's'}`, 'index', `<h1>stackd</h1>
<p class="meta">${stacks.length} stack${stacks.length === 1 ? '' : 's'} · ${liveNote()}</p>
${table}`);
}

function containerRow(c: ContainerView): string {
  const td = (label: string, text: string) => `<td data-label="${label}" class="c-${label}">${esc(text)}</td>`;
  return `<tr data-health="${esc(c.health)}">${td('name', c.name)}${td('service', c.service)}${td('state', c.state)}${td('health', c.health)}</tr>`;
}

/** GET /stacks/:name: one stack in detail, with each of its containers. */
export function renderStackPage(s: StackStatus, ctx: PageContext): string {
  const r = s.lastResult;
  const dd = (field: string, text: string) => `<dd class="${field}" data-f="${field}">${esc(text)}</dd>`;
  const left = s.removedFromConfig
    ? `<dt>config</dt><dd>not in the config any more; removedStacks: ${esc(s.removedFromConfig.action)}${s.removedFromConfig.done ? ' (done)' : ''}</dd>\n`
    : '';
  return layout(`stackd: ${s.name}`, 'stack', `<p class="meta"><a href="/">all stacks</a> · ${liveNote()}</p>
<main data-stack="${esc(s.name)}" data-state="${esc(s.state)}" data-health="${esc(s.health)}">
<h1>${esc(s.name)}</h1>
<dl>
<dt>state</dt>${dd('state', s.state)}
<dt>health</dt>${dd('health', s.health)}
<dt>desired</dt>${dd('desired', s.desired)}
<dt>phase</dt>${dd('phase', phaseText(s))}
<dt>containers</dt>${dd('containers', containerCount(s))}
<dt>last</dt>${agedCell('dd', 'last', r, ctx.nowMs)}
<dt>reason</dt>${dd('reason', reasonText(r))}
<dt>update</dt>${agedCell('dd', 'update', s.lastUpdate, ctx.nowMs)}
<dt>project</dt><dd>${esc(s.project)}</dd>
<dt>unit</dt><dd>${esc(s.unit)}</dd>
${left}</dl>
<table>
<thead><tr><th>container</th><th>service</th><th>state</th><th>health</th></tr></thead>
<tbody data-f="containers-table">
${s.containers.map(containerRow).join('\n')}
</tbody>
</table>
</main>`);
}

/** The HTML answer for a stack that does not exist (the JSON API answers its own 404 shape). */
export function renderNotFoundPage(message: string): string {
  return layout('stackd: not found', 'stack', `<p class="meta"><a href="/">all stacks</a> · ${liveNote()}</p>
<h1>Not found</h1>
<p>${esc(message)}</p>`);
}
