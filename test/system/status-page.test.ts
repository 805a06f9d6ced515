// The status page in a real browser: Debian's Chromium, headless, driven by playwright-core (which never
// downloads a browser here: executablePath). stackd runs as the lab user with a read-only TCP listener; the
// page shows every stack and its state and, after a `podman kill`, changes without a reload (SSE); on a phone's
// width nothing sticks out sideways; when the event stream fails the page falls back to reloading itself.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Daemon, cleanup, configYaml, podmanOk, projectContainers, removeProject, scratch, writeFiles,
} from './harness.js';
import { freePort } from './harness.js';

const STACKS = ['sp-alpha', 'sp-beta'];
const compose = (unit: string) => `services:
  app:
    image: localhost/busybox:lab
    command: ["sleep", "1000000"]
    init: true
    labels:
      PODMAN_SYSTEMD_UNIT: ${unit}
    healthcheck:
      test: ["CMD-SHELL", "true"]
      interval: 2s
      start_period: 1s
`;

let dir: string;
let daemon: Daemon;
let browser: Browser;
let base: string;

beforeAll(async () => {
  for (const s of STACKS) await removeProject(s);
  dir = await scratch('status-page');
  await writeFiles(dir, Object.fromEntries(STACKS.map((s) => [`${s}/compose.yml`, compose(`${s}.service`)])));
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  const apiLine = `api:\n  socket: ${join(dir, 'api.sock')}\n`;
  const config = configYaml(dir, STACKS.map((s) => `  - { name: ${s}, compose: [${dir}/${s}/compose.yml] }`).join('\n'));
  if (!config.includes(apiLine)) throw new Error('configYaml changed its api: section');
  await writeFile(join(dir, 'stackd.yaml'), config.replace(apiLine, `${apiLine}  listen: 127.0.0.1:${port}\n`));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();
  for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'converged', 'converged', 180_000);
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

afterAll(async () => {
  await browser?.close();
  if (daemon?.running) await daemon.stop();
  for (const s of STACKS) await removeProject(s);
  if (dir) await cleanup(dir);
});

describe('the status page in headless Chromium', () => {
  it('shows every stack and its state, and follows a podman kill live, without a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    let loads = 0;
    page.on('load', () => { loads += 1; });
    await page.goto(`${base}/`);
    const text = await page.locator('body').innerText();
    for (const s of STACKS) expect(text).toContain(s);
    for (const s of STACKS) expect(await page.locator(`[data-stack="${s}"]`).getAttribute('data-state')).toBe('converged');
    // readable on a phone: each stack is a card within the screen's width, no sideways scrolling
    for (const s of STACKS) {
      const box = await page.locator(`[data-stack="${s}"]`).boundingBox();
      expect(box, s).not.toBeNull();
      expect((box?.x ?? 0) + (box?.width ?? 0), `${s}: right edge within the 390 px screen`).toBeLessThanOrEqual(390);
      expect(await page.locator(`[data-stack="${s}"] td.state`).isVisible()).toBe(true);
    }
    // (polled from here: the page's CSP forbids the eval a string predicate would need)
    await expect.poll(() => page.locator('body').innerText(), { timeout: 15_000 }).toContain('live');

    const victim = (await projectContainers('sp-beta'))[0];
    if (!victim) throw new Error('no container');
    await podmanOk('kill', victim.id);
    await expect.poll(() => page.locator('[data-stack="sp-beta"]').getAttribute('data-state'), { timeout: 15_000 }).not.toBe('converged');
    expect(await page.locator('[data-stack="sp-beta"]').getAttribute('data-state')).toBe('degraded');
    expect(await page.locator('[data-stack="sp-alpha"]').getAttribute('data-state')).toBe('converged');
    expect(loads).toBe(1); // changed in place: no reload
    expect(errors).toEqual([]); // the CSP let the page's own script and style run, and nothing failed

    const artifacts = join(dir, '..', 'stackd-artifacts');
    await mkdir(artifacts, { recursive: true });
    const shot = join(artifacts, 'status-page.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`[status-page] screenshot: ${shot}`);
    const png = await readFile(shot);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a'); // a PNG
    expect(png.length).toBeGreaterThan(1000);
    // what the screenshot shows, as text: every stack's name, and the killed one degraded
    const after = await page.locator('body').innerText();
    for (const s of STACKS) expect(after).toContain(s);
    expect(after).toContain('degraded');
  });

  it('a page whose event stream fails falls back to reloading itself', async () => {
    const page = await browser.newPage();
    // a proxy that does not pass the stream: EventSource gives up on a non-stream answer
    await page.route('**/v1/events', (route) => route.fulfill({ status: 502, contentType: 'text/plain', body: 'bad gateway' }));
    let loads = 0;
    page.on('load', () => { loads += 1; });
    await page.goto(`${base}/`);
    await expect.poll(() => page.locator('#live').innerText(), { timeout: 10_000 }).toContain('not live');
    expect(await page.locator('#live').innerText()).toBe('not live (the event stream failed): reloads every 15 s');
    // the reload comes after 15 s; and the page it loads shows the stacks again
    await expect.poll(() => loads, { timeout: 30_000 }).toBeGreaterThanOrEqual(2);
    await page.waitForLoadState('load');
    for (const s of STACKS) expect(await page.locator('body').innerText()).toContain(s);
    await page.close();
  });

  it('the stack detail page lists its containers', async () => {
    const page = await browser.newPage();
    await page.goto(`${base}/stacks/sp-alpha`);
    const text = await page.locator('body').innerText();
    expect(text).toContain('sp-alpha-app-1');
    expect(text).toContain('converged');
  });
});
