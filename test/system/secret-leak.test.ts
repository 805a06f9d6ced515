// A planted secret never reaches an operator. The env file holds a value with `$`, single and double quotes,
// spaces, a line break (a quoted multi-line value) and every regex special, and compose INTERPOLATES part of it
// (`${SALT}`, `$$`), so what compose prints differs from the file's text. Real compose then fails in two ways
// that echo the value: a required-variable error whose message is built from it (compose config), and an
// image name built from it (a pull from the lab registry). Everything stackd shows is captured — stackctl
// status (plain, --json, per stack), up, check, the API on the socket and on the read-only TCP listener
// (/v1/stacks, /v1/stacks/:name, /metrics, /readyz, the SSE stream), the status page HTML, a webhook
// notification and the daemon's whole log — and searched for the value, every line of it, its distinctive
// fragments, and the forms it takes when escaped (JSON, Go/logfmt, `$$`, HTML). foundation.test.ts covers a
// plain token in an image name; this covers what interpolation and escaping make of a hostile value.
import { once } from 'node:events';
import { writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Agent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Daemon, cleanup, configYaml, freePort, removeProject, run, scratch, waitFor, writeFiles } from './harness.js';

const STACKS = ['sl-required', 'sl-image'];
const SALT = 'Zx9-salt-q7';
const SALT_LC = 'q7zx9salt';
// As written in the env file (compose's double-quote rules: \" is a quote, \\ a backslash, $$ a dollar).
const ENV_FILE = `# planted by secret-leak.test.ts
SALT=${SALT}
SALT_LC=${SALT_LC}
PLANTED="pl4nt-S3cr $$ 'sq' \\"dq\\" \${SALT} .*+?()[]{}|\\\\^ tail
second-line-7Hq"
IMG=leak-\${SALT_LC}-img
`;
/** PLANTED as the file's text reads (what a redactor of raw text knows) */
const PLANTED_RAW = `pl4nt-S3cr $$ 'sq' "dq" \${SALT} .*+?()[]{}|\\^ tail\nsecond-line-7Hq`;
/** PLANTED as compose makes it: ${SALT} interpolated, $$ a dollar */
const PLANTED = `pl4nt-S3cr $ 'sq' "dq" ${SALT} .*+?()[]{}|\\^ tail\nsecond-line-7Hq`;
const IMG = `leak-${SALT_LC}-img`;
/** text that exists only inside the secret: any appearance, even of a fragment, is a leak */
const FRAGMENTS = ['pl4nt-S3cr', 'second-line-7Hq', SALT, SALT_LC, "'sq' \"dq\""];

const jsonEscape = (s: string) => JSON.stringify(s).slice(1, -1);
const htmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

/** Every form of every secret value that must appear nowhere. */
function forbiddenForms(): string[] {
  const forms = new Set<string>(FRAGMENTS);
  for (const value of [PLANTED, PLANTED_RAW, IMG]) {
    for (const v of [value, ...value.split('\n')]) {
      for (const f of [v, jsonEscape(v), jsonEscape(jsonEscape(v)), v.replaceAll('$', () => '$$'), htmlEscape(v), htmlEscape(jsonEscape(v)), encodeURIComponent(v)]) {
        forms.add(f);
      }
    }
  }
  return [...forms].filter((f) => f.length >= 4);
}

/** Every string inside a JSON text (decodes any \u escape a plain search would miss). */
function jsonStrings(text: string): string {
  const out: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v === 'string') out.push(v);
    else if (Array.isArray(v)) v.forEach(walk);
    else if (v && typeof v === 'object') Object.entries(v).forEach(([k, x]) => { out.push(k); walk(x); });
  };
  for (const line of text.split('\n')) {
    try { walk(JSON.parse(line)); } catch { /* not JSON on its own */ }
  }
  try { walk(JSON.parse(text)); } catch { /* not one JSON document */ }
  return out.join('\n');
}

let dir: string;
let daemon: Daemon;
let tcp: string;
let hook: Server;
const hookBodies: string[] = [];
const captured: Record<string, string> = {};

function unixGet(path: string): Promise<string> {
  const dispatcher = new Agent({ connect: { socketPath: daemon.socket } });
  return request(`http://stackd${path}`, { dispatcher }).then((r) => r.body.text()).finally(() => dispatcher.close());
}

/** The SSE stream for a moment: the first event per stack arrives at once. */
async function sse(base: string): Promise<string> {
  const ac = new AbortController();
  const res = await request(`${base}/v1/events`, { signal: ac.signal });
  let text = '';
  const done = new Promise<void>((resolve) => {
    res.body.on('data', (d: Buffer) => { text += d.toString(); });
    res.body.on('error', () => resolve());
    res.body.on('end', () => resolve());
  });
  await waitFor(async () => STACKS.every((s) => text.includes(`"name":"${s}"`)), 10_000, 'an SSE event per stack', () => text);
  ac.abort();
  await done;
  return text;
}

beforeAll(async () => {
  for (const s of STACKS) await removeProject(s);
  dir = await scratch('secret-leak');
  hook = createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => { body += d.toString(); });
    req.on('end', () => { hookBodies.push(`${JSON.stringify(req.headers)}\n${body}`); res.writeHead(200).end('ok'); });
  });
  hook.listen(0, '127.0.0.1');
  await once(hook, 'listening');
  const hookUrl = `http://127.0.0.1:${(hook.address() as AddressInfo).port}/hook`;
  await writeFiles(dir, {
    'secret/app.env': ENV_FILE,
    // compose fails interpolating: "required variable NOPE is missing a value: <PLANTED>"
    'required/compose.yml': `services:
  app:
    image: localhost/busybox:lab
    command: ["sleep", "1000000"]
    environment:
      Q: "\${NOPE:?\${PLANTED}}"
    labels:
      PODMAN_SYSTEMD_UNIT: sl-required.service
`,
    // compose up fails pulling an image whose name is built from an interpolated value
    'image/compose.yml': `services:
  app:
    image: "localhost:5000/lab/\${IMG}:1"
    command: ["sleep", "1000000"]
    environment:
      PLANTED: "\${PLANTED}"
    labels:
      PODMAN_SYSTEMD_UNIT: sl-image.service
      io.containers.autoupdate: registry
  short:
    image: "\${IMG}"
    command: ["sleep", "1000000"]
    labels:
      PODMAN_SYSTEMD_UNIT: sl-image.service
`,
  });
  const port = await freePort();
  tcp = `http://127.0.0.1:${port}`;
  const apiLine = `api:\n  socket: ${join(dir, 'api.sock')}\n`;
  const envFile = join(dir, 'secret/app.env');
  const config = configYaml(dir, [
    `  - { name: sl-required, compose: [${dir}/required/compose.yml], envFiles: [${envFile}] }`,
    `  - { name: sl-image, compose: [${dir}/image/compose.yml], envFiles: [${envFile}] }`,
  ].join('\n'), { extra: `notify:\n  - webhook: { url: "${hookUrl}" }\n` });
  if (!config.includes(apiLine)) throw new Error('configYaml changed its api: section');
  await writeFile(join(dir, 'stackd.yaml'), config.replace(apiLine, `${apiLine}  listen: 127.0.0.1:${port}\n`));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();
  for (const s of STACKS) await daemon.waitStack(s, (x) => x.state === 'failed', 'failed', 180_000);
  await waitFor(async () => STACKS.every((s) => hookBodies.some((b) => b.includes(s))), 30_000, 'a webhook message per failed stack', () => hookBodies.join('\n'));
}, 300_000);

afterAll(async () => {
  if (daemon?.running) await daemon.stop();
  hook?.close();
  for (const s of STACKS) await removeProject(s);
  if (dir) await cleanup(dir);
});

describe('a planted secret with $, quotes, spaces, a line break and regex specials', () => {
  it('is really in play: compose itself prints it, interpolated, in the errors stackd turns into reasons', async () => {
    const env = { PODMAN_IGNORE_CGROUPSV1_WARNING: '1', PODMAN_COMPOSE_WARNING_LOGS: 'false' };
    const envFile = join(dir, 'secret/app.env');
    const required = await run(['podman', 'compose', '-p', 'sl-required', '-f', join(dir, 'required/compose.yml'), '--env-file', envFile, 'config'], { env });
    expect(required.code).not.toBe(0);
    expect(required.stdout + required.stderr).toContain(`required variable NOPE is missing a value: ${PLANTED}`);
    // the raw text is NOT what compose prints: a redactor of raw text alone would miss it
    expect(required.stdout + required.stderr).not.toContain(PLANTED_RAW.split('\n')[0]);
    const image = await run(['podman', 'compose', '-p', 'sl-image', '-f', join(dir, 'image/compose.yml'), '--env-file', envFile, 'config', '--format', 'json'], { env });
    expect(image.stdout).toContain(`localhost:5000/lab/${IMG}:1`);
    expect(image.stdout).toContain(jsonEscape(PLANTED.replaceAll('$', () => '$$')));
  });

  it('each stack failed for the reason compose gave, with the secret hidden', async () => {
    const required = await daemon.stack('sl-required');
    expect(required.lastResult?.reasonCode).toBe('compose-config');
    expect(required.lastResult?.reason).toContain('required variable NOPE is missing a value: ***');
    const image = await daemon.stack('sl-image');
    expect(image.lastResult?.reason).toContain('localhost:5000/lab/***:1');
  });

  it('appears nowhere an operator looks: stackctl, the API on both listeners, the status page, SSE, the webhook, the log', async () => {
    for (const s of STACKS) {
      captured[`stackctl up ${s}`] = JSON.stringify(await daemon.ctl('up', s));
      captured[`stackctl up ${s} --json`] = JSON.stringify(await daemon.ctl('up', s, '--json'));
      captured[`stackctl check ${s}`] = JSON.stringify(await daemon.ctl('check', s));
      captured[`stackctl check --offline ${s}`] = JSON.stringify(await daemon.ctl('check', '--offline', '--config', join(dir, 'stackd.yaml'), s));
      captured[`stackctl status ${s}`] = JSON.stringify(await daemon.ctl('status', s));
      captured[`stackctl status ${s} --json`] = JSON.stringify(await daemon.ctl('status', s, '--json'));
      captured[`socket /v1/stacks/${s}`] = await unixGet(`/v1/stacks/${s}`);
      captured[`tcp /v1/stacks/${s}`] = await request(`${tcp}/v1/stacks/${s}`).then((r) => r.body.text());
      captured[`tcp /stacks/${s} (status page)`] = await request(`${tcp}/stacks/${s}`).then((r) => r.body.text());
    }
    // the registry path: a dry-run update asks the lab registry for the image named from the secret
    captured['stackctl update sl-image --dry-run'] = JSON.stringify(await daemon.ctl('update', 'sl-image', '--dry-run'));
    captured['stackctl update sl-image --dry-run --json'] = JSON.stringify(await daemon.ctl('update', 'sl-image', '--dry-run', '--json'));
    captured['stackctl status'] = JSON.stringify(await daemon.ctl('status'));
    captured['stackctl status --json'] = JSON.stringify(await daemon.ctl('status', '--json'));
    captured['socket /v1/stacks'] = await unixGet('/v1/stacks');
    captured['socket /metrics'] = await unixGet('/metrics');
    captured['tcp /v1/stacks'] = await request(`${tcp}/v1/stacks`).then((r) => r.body.text());
    captured['tcp /metrics'] = await request(`${tcp}/metrics`).then((r) => r.body.text());
    captured['tcp /readyz'] = await request(`${tcp}/readyz`).then((r) => r.body.text());
    captured['tcp / (status page)'] = await request(`${tcp}/`).then((r) => r.body.text());
    captured['tcp /v1/events'] = await sse(tcp);
    captured['webhook'] = hookBodies.join('\n');
    // the log last, after a clean stop: everything stackd wrote, shutdown included
    expect(await daemon.stop()).toBe(0);
    captured['daemon log'] = daemon.logs;

    const forms = forbiddenForms();
    const leaks: string[] = [];
    for (const [where, text] of Object.entries(captured)) {
      for (const [how, t] of [['as sent', text], ['JSON-decoded', jsonStrings(text)]] as const) {
        for (const form of forms) if (t.includes(form)) leaks.push(`${where} (${how}): ${JSON.stringify(form)}`);
      }
    }
    expect(leaks).toEqual([]);

    // and the captures are real: each stack and its failure is in them, and each path showed the value, hidden
    expect(captured['stackctl status']).toMatch(/sl-required\s+failed/);
    expect(captured['stackctl update sl-image --dry-run']).toContain('localhost:5000/lab/***:1');
    expect(captured['stackctl check sl-image']).toContain('image \\"***\\" names no registry');
    expect(captured['tcp /stacks/sl-required (status page)']).toContain('missing a value: ***');
    expect(captured['tcp / (status page)']).toContain('sl-image');
    expect(captured['webhook']).toContain('sl-required');
    expect(captured['socket /metrics']).toContain('stackd_');
    expect(captured['daemon log']).toContain('sl-image');
  });
});
