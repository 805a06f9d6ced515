// The status pages as text: every stack, each field where the script finds it, everything from outside escaped,
// nothing loaded from elsewhere, and the one script and style sheet the Content-Security-Policy allows by hash.
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { StackStatus } from '../../../src/core/model.js';
import { PAGE_CSP } from '../../../src/http/page/assets.js';
import { escapeHtml } from '../../../src/http/page/escape.js';
import { NOSCRIPT_REFRESH_SECONDS, renderIndexPage, renderNotFoundPage, renderStackPage } from '../../../src/http/page/render.js';
import { makeStack } from '../../contract/http/fake-supervisor.js';

const NOW = Date.parse('2026-02-12T21:03:00.000Z'); // 3 minutes after makeStack's lastResult
const EVIL = '<script>alert(1)</script>"\'&';
const EVIL_ESCAPED = '&lt;script&gt;alert(1)&lt;/script&gt;&quot;&#39;&amp;';

function hashOf(html: string, tag: 'script' | 'style'): string {
  const m = new RegExp(`<${tag}>([\\s\\S]*?)</${tag}>`).exec(html);
  if (!m) throw new Error(`no <${tag}> in the page`);
  return `'sha256-${createHash('sha256').update(m[1] ?? '', 'utf8').digest('base64')}'`;
}

/** The text of the element carrying data-f="field" inside the stack's element (the row or the detail). */
function field(html: string, stack: string, f: string): string | undefined {
  const start = html.indexOf(`data-stack="${escapeHtml(stack)}"`);
  if (start < 0) return undefined;
  const m = new RegExp(`data-f="${f}"[^>]*>([^<]*)<`).exec(html.slice(start));
  return m?.[1];
}

describe('escapeHtml', () => {
  it.each([
    ['plain', 'plain'],
    ['<b>', '&lt;b&gt;'],
    ['a & b', 'a &amp; b'],
    ['"quoted" \'single\'', '&quot;quoted&quot; &#39;single&#39;'],
    [EVIL, EVIL_ESCAPED],
    ['&amp;', '&amp;amp;'],
  ])('%j → %j', (input, out) => {
    expect(escapeHtml(input)).toBe(out);
  });
});

describe('renderIndexPage', () => {
  const stacks: StackStatus[] = [
    makeStack('immich'),
    makeStack('paperless', {
      state: 'failed', health: 'degraded', phase: 'backoff', retryAt: '2026-02-12T21:05:00.000Z',
      lastResult: { result: 'failed', reasonCode: 'compose-failed', reason: 'exit 1', startedAt: '2026-02-12T21:02:50.000Z', finishedAt: '2026-02-12T21:02:58.000Z', durationMs: 8000 },
      containers: [{ id: 'p1', name: 'paperless-web-1', service: 'web', state: 'exited', health: 'none' }, { id: 'p2', name: 'paperless-db-1', service: 'db', state: 'running', health: 'healthy' }],
      lastUpdate: { result: 'rolled back', finishedAt: '2026-02-12T18:03:00.000Z' },
    }),
    makeStack('fresh', { state: 'pending', health: 'unknown', lastResult: undefined, containers: [] }),
  ];
  const html = renderIndexPage(stacks, { nowMs: NOW });

  it.each([
    ['immich', 'state', 'converged'], ['immich', 'health', 'healthy'], ['immich', 'containers', '2/2'],
    ['immich', 'last', 'ok 3m ago'], ['immich', 'reason', ''], ['immich', 'phase', 'idle'],
    ['paperless', 'state', 'failed'], ['paperless', 'health', 'degraded'], ['paperless', 'containers', '1/2'],
    ['paperless', 'last', 'failed 2s ago'], ['paperless', 'reason', 'compose-failed: exit 1'],
    ['paperless', 'phase', 'backoff until 2026-02-12T21:05:00.000Z'], ['paperless', 'update', 'rolled back 3h ago'], ['immich', 'update', '-'],
    ['fresh', 'state', 'pending'], ['fresh', 'health', 'unknown'], ['fresh', 'containers', '0/0'], ['fresh', 'last', '-'],
  ])('%s: %s is %j', (stack, f, text) => {
    expect(field(html, stack, f)).toBe(text);
  });

  it('has a row, state and link per stack, in the order given', () => {
    const rows = [...html.matchAll(/<tr data-stack="([^"]+)" data-state="([^"]+)"/g)].map((m) => [m[1], m[2]]);
    expect(rows).toEqual([['immich', 'converged'], ['paperless', 'failed'], ['fresh', 'pending']]);
    expect(html).toContain('<a href="/stacks/paperless">paperless</a>');
  });

  it('is readable on a phone and reloads itself without scripts', () => {
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain(`<noscript><meta http-equiv="refresh" content="${NOSCRIPT_REFRESH_SECONDS}"></noscript>`);
    expect(html).toMatch(/@media \(max-width:40em\)/);
  });

  it('loads nothing from elsewhere: no src, no stylesheet link, one inline script and one style', () => {
    expect(html).not.toMatch(/\ssrc=/);
    expect(html).not.toMatch(/<link/);
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html.match(/<style/g)).toHaveLength(1);
  });

  it('its script and style are exactly the ones the CSP allows by hash', () => {
    expect(PAGE_CSP).toContain(`script-src ${hashOf(html, 'script')}`);
    expect(PAGE_CSP).toContain(`style-src ${hashOf(html, 'style')}`);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(PAGE_CSP).not.toContain('unsafe-inline');
  });

  it('says so when no stack is configured', () => {
    expect(renderIndexPage([], { nowMs: NOW })).toContain('No stacks are configured.');
  });
});

describe('escaping: text from outside never becomes markup', () => {
  const evil = makeStack('evil', {
    unit: EVIL, project: EVIL,
    lastResult: { result: 'failed', reasonCode: 'compose-failed', reason: EVIL, startedAt: EVIL, finishedAt: EVIL, durationMs: 1 },
    containers: [{ id: 'x', name: EVIL, service: EVIL, state: EVIL, health: 'none' }],
  });
  it.each([
    ['index', renderIndexPage([evil], { nowMs: NOW })],
    ['detail', renderStackPage(evil, { nowMs: NOW })],
    ['not found', renderNotFoundPage(`no stack named "${EVIL}"`)],
  ])('%s page', (_page, html) => {
    // the page's own script is the only <script>
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toContain('alert(1)</script>');
    expect(html).toContain(EVIL_ESCAPED);
  });

  it('a stack name is escaped in the link, the row key and the text', () => {
    const html = renderIndexPage([makeStack('a"b<c')], { nowMs: NOW });
    expect(html).toContain('data-stack="a&quot;b&lt;c"');
    expect(html).toContain('href="/stacks/a%22b%3Cc"');
    expect(html).toContain('>a&quot;b&lt;c</a>');
  });
});

describe('renderStackPage', () => {
  const s = makeStack('immich', {
    desired: 'stopped', state: 'stopped', health: 'down', removedFromConfig: { action: 'stop', done: true },
    lastUpdate: { result: 'updated', finishedAt: '2026-02-12T21:02:00.000Z' },
  });
  const html = renderStackPage(s, { nowMs: NOW });

  it.each([['state', 'stopped'], ['health', 'down'], ['desired', 'stopped'], ['containers', '2/2'], ['last', 'ok 3m ago'], ['update', 'updated 1m ago'], ['phase', 'idle']])(
    '%s is %j', (f, text) => { expect(field(html, 'immich', f)).toBe(text); });

  it('lists every container with service, state and health', () => {
    const rows = [...html.matchAll(/<tr data-health="[^"]*"><td data-label="name" class="c-name">([^<]*)<\/td><td[^>]*>([^<]*)<\/td><td[^>]*>([^<]*)<\/td><td[^>]*>([^<]*)<\/td><\/tr>/g)]
      .map((m) => m.slice(1));
    expect(rows).toEqual([['immich-app-1', 'app', 'running', 'healthy'], ['immich-db-1', 'db', 'running', 'none']]);
  });

  it('names the project, the unit and what removedStacks did', () => {
    expect(html).toContain('<dd>immich.service</dd>');
    expect(html).toContain('not in the config any more; removedStacks: stop (done)');
    expect(html).toContain('<a href="/">all stacks</a>');
  });
});
