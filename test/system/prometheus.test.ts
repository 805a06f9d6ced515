// The shipped alert rules against a REAL Prometheus scraping the REAL daemon: stackd (dist/, as the lab user, on
// rootless podman) serves /metrics on its read-only TCP listener (api.listen); Debian's prometheus 2.53
// (test/lab/provision.sh) scrapes it every second and evaluates config/prometheus/stackd-rules.yml. Everything is
// read back through Prometheus's HTTP API: the target is up, a converged stack's state series, StackdStackFailed
// firing for a stack whose image does not exist, and for a stack that never gets healthy StackdDeployUnhealthy
// (after its watch window) and StackdStackDegraded (degraded longer than its healthWindow).
//
// The one change to the shipped rules: a copy in the scratch folder has every non-zero `for:` set to 5s (the
// shipped 5m would make this test wait five minutes); the test proves the copy differs in `for:` lines only.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BASE_IMAGE, cleanup, configYaml, Daemon, freePort, removeProject, ROOT, run, scratch, waitFor, writeFiles } from './harness.js';

const OK = 'p-ok';
const FAILING = 'p-fail';
const UNWELL = 'p-unwell'; // deployed fine, never healthy: its healthWindow (3 s) ends with it unhealthy
const stacks = [OK, FAILING, UNWELL];

const SIMPLE = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
`;
const NEVER_HEALTHY = `services:
  main:
    image: ${BASE_IMAGE}
    init: true
    command: ["sleep", "100000"]
    healthcheck:
      test: ["CMD-SHELL", "test -f /never-there"]
      interval: 1s
      retries: 1
`;
// the lab registry answers "manifest unknown": compose up fails, the stack's state is failed
const MISSING_IMAGE = `services:
  ghost:
    image: localhost:5000/lab/does-not-exist:1
    command: ["sleep", "100000"]
`;

interface PromVector {
  metric: Record<string, string>;
  value: [number, string];
}
interface PromRule {
  name: string;
  type: string;
  health: string;
  lastError?: string;
  state?: string;
  duration?: number;
}
interface PromAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  state: string;
}

let dir: string;
let daemon: Daemon;
let prom: ChildProcess | undefined;
let promLog = '';
let promBase: string;
let stackdPort: number;

async function promApi<T>(path: string): Promise<T> {
  const r = await request(`${promBase}${path}`);
  const text = await r.body.text();
  if (r.statusCode !== 200) throw new Error(`prometheus GET ${path} answered ${r.statusCode}: ${text}`);
  const body = JSON.parse(text) as { status: string; data: T; error?: string };
  if (body.status !== 'success') throw new Error(`prometheus GET ${path}: ${body.error ?? text}`);
  return body.data;
}

async function query(expr: string): Promise<PromVector[]> {
  const data = await promApi<{ resultType: string; result: PromVector[] }>(`/api/v1/query?query=${encodeURIComponent(expr)}`);
  return data.result;
}

/** Wait until the PromQL expression returns at least one series; returns them. */
async function waitForSeries(expr: string, timeoutMs = 120_000): Promise<PromVector[]> {
  let last: PromVector[] = [];
  await waitFor(async () => {
    last = await query(expr);
    return last.length > 0;
  }, timeoutMs, `prometheus: ${expr}`, () => `${JSON.stringify(last)}\nstackd log tail:\n${daemon.logs.slice(-2000)}\nprometheus log tail:\n${promLog.slice(-2000)}`);
  return last;
}

beforeAll(async () => {
  for (const s of stacks) await removeProject(s);
  dir = await scratch('prometheus');
  await writeFiles(dir, { 'ok/compose.yml': SIMPLE, 'fail/compose.yml': MISSING_IMAGE, 'unwell/compose.yml': NEVER_HEALTHY });

  // stackd with its read-only TCP listener
  stackdPort = await freePort();
  const stackYaml = [
    `  - { name: ${OK}, compose: [${dir}/ok/compose.yml] }`,
    `  - { name: ${FAILING}, compose: [${dir}/fail/compose.yml] }`,
    `  - { name: ${UNWELL}, compose: [${dir}/unwell/compose.yml], healthWindow: 3s }`,
  ].join('\n');
  const apiLine = `api:\n  socket: ${join(dir, 'api.sock')}\n`;
  const config = configYaml(dir, stackYaml);
  if (!config.includes(apiLine)) throw new Error(`configYaml changed its api: section; cannot add listen:\n${config}`);
  await writeFile(join(dir, 'stackd.yaml'), config.replace(apiLine, `${apiLine}  listen: 127.0.0.1:${stackdPort}\n`));
  daemon = new Daemon(dir, join(dir, 'stackd.yaml'));
  await daemon.start();

  // the shipped rules with `for:` shortened, nothing else
  const shipped = await readFile(join(ROOT, 'config/prometheus/stackd-rules.yml'), 'utf8');
  const fast = shipped.split('\n').map((l) => l.replace(/^(\s+for: )(?!0[smh]?$)\S+$/, (_all, key: string) => `${key}5s`)).join('\n');
  await writeFile(join(dir, 'stackd-rules.fast-for.yml'), fast);

  const promPort = await freePort();
  promBase = `http://127.0.0.1:${promPort}`;
  await writeFile(join(dir, 'prometheus.yml'), `global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files:
  - ${join(dir, 'stackd-rules.fast-for.yml')}
scrape_configs:
  - job_name: stackd
    static_configs:
      - targets: ['127.0.0.1:${stackdPort}']
`);
  prom = spawn('prometheus', [
    '--config.file', join(dir, 'prometheus.yml'),
    '--storage.tsdb.path', join(dir, 'data'),
    '--web.listen-address', `127.0.0.1:${promPort}`,
  ], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  prom.stdout?.on('data', (d: Buffer) => { promLog += d.toString(); });
  prom.stderr?.on('data', (d: Buffer) => { promLog += d.toString(); });
  await waitFor(async () => {
    if (prom?.exitCode !== null) throw new Error(`prometheus exited (${prom?.exitCode}):\n${promLog}`);
    const r = await request(`${promBase}/-/ready`).catch(() => undefined);
    if (!r) return false;
    await r.body.dump();
    return r.statusCode === 200;
  }, 30_000, 'prometheus to answer /-/ready', () => promLog.slice(-2000));
  const version = await run(['prometheus', '--version']);
  console.log(`prometheus: ${version.stdout.split('\n')[0] ?? version.stderr} on ${promBase}; stackd /metrics on 127.0.0.1:${stackdPort}`);
});

afterAll(async () => {
  if (prom && prom.exitCode === null) {
    prom.kill('SIGTERM');
    await once(prom, 'exit');
  }
  if (daemon?.running) await daemon.stop();
  for (const s of stacks) await removeProject(s);
  if (dir) await cleanup(dir);
});

describe('a real Prometheus with the shipped rules, scraping a real stackd', () => {
  it('the test copy of the rules differs from the shipped file in for: lines only', async () => {
    const shipped = (await readFile(join(ROOT, 'config/prometheus/stackd-rules.yml'), 'utf8')).split('\n');
    const fast = (await readFile(join(dir, 'stackd-rules.fast-for.yml'), 'utf8')).split('\n');
    expect(fast.length).toBe(shipped.length);
    const changed = shipped.map((l, i) => [l, fast[i] ?? ''] as const).filter(([a, b]) => a !== b);
    expect(changed.length).toBeGreaterThan(0);
    for (const [a, b] of changed) {
      expect(a).toMatch(/^\s+for: \S+$/);
      expect(b).toBe(a.replace(/for: \S+$/, 'for: 5s'));
    }
  });

  it('loads all ten rules, and each evaluates without an error on the real series', async () => {
    // one evaluation round at least, so health is known
    let rules: PromRule[] = [];
    await waitFor(async () => {
      const data = await promApi<{ groups: { name: string; rules: PromRule[] }[] }>('/api/v1/rules');
      rules = data.groups.flatMap((g) => g.rules);
      return rules.length > 0 && rules.every((r) => r.health !== 'unknown');
    }, 30_000, 'prometheus to evaluate the rules', () => JSON.stringify(rules));
    const data = await promApi<{ groups: { name: string; rules: PromRule[] }[] }>('/api/v1/rules');
    expect(data.groups.map((g) => g.name)).toEqual(['stackd']);
    rules = data.groups.flatMap((g) => g.rules);
    expect(rules.map((r) => r.name)).toEqual([
      'StackdStackFailed', 'StackdStackDegraded', 'StackdDeployUnhealthy', 'StackdUpdateRolledBack', 'StackdUpdateFailed', 'StackdUpdatesStale',
      'StackdPodmanDown', 'StackdDown', 'StackdNotifierFailing', 'StackdPreflightViolation',
    ]);
    for (const r of rules) {
      expect(r.type, r.name).toBe('alerting');
      expect({ name: r.name, health: r.health, lastError: r.lastError ?? '' }).toEqual({ name: r.name, health: 'ok', lastError: '' });
    }
    console.log(`rules: ${rules.map((r) => `${r.name}=${r.health}/${r.state ?? '?'}`).join(' ')}`);
  });

  it('the target is up and the converged stack reads converged', async () => {
    const up = await waitForSeries('up{job="stackd"} == 1', 30_000);
    expect(up).toHaveLength(1);
    expect(up[0]?.metric).toMatchObject({ job: 'stackd', instance: `127.0.0.1:${stackdPort}` });

    await daemon.waitStack(OK, (s) => s.state === 'converged', 'converged');
    const converged = await waitForSeries(`stackd_stack_state{stack="${OK}",state="converged"} == 1`);
    expect(converged).toHaveLength(1);
    expect(converged[0]?.value[1]).toBe('1');
    // the only state of that stack at 1
    const states = await query(`stackd_stack_state{stack="${OK}"} == 1`);
    expect(states.map((s) => s.metric['state'])).toEqual(['converged']);
    const podmanUp = await query('stackd_podman_up');
    expect(podmanUp[0]?.value[1]).toBe('1');
    console.log(`up{job="stackd"} = ${up[0]?.value[1]}; stackd_stack_state{stack="${OK}",state="converged"} = ${converged[0]?.value[1]}; stackd_podman_up = ${podmanUp[0]?.value[1]}`);
  });

  it('StackdStackFailed fires for the stack whose image is missing, and for no other', async () => {
    const failed = await daemon.waitStack(FAILING, (s) => s.state === 'failed', 'failed');
    expect(failed.lastResult?.reasonCode).toBe('compose-failed');
    const firing = await waitForSeries('ALERTS{alertname="StackdStackFailed",alertstate="firing"}');
    expect(firing.map((a) => a.metric['stack'])).toEqual([FAILING]);
    expect(firing[0]?.metric).toMatchObject({ alertname: 'StackdStackFailed', alertstate: 'firing', severity: 'critical', state: 'failed', job: 'stackd' });

    // the rendered annotations, as Alertmanager would get them
    const { alerts } = await promApi<{ alerts: PromAlert[] }>('/api/v1/alerts');
    const mine = alerts.filter((a) => a.labels['alertname'] === 'StackdStackFailed');
    expect(mine).toHaveLength(1);
    expect(mine[0]?.state).toBe('firing');
    expect(mine[0]?.annotations['summary']).toBe(`stackd: stack ${FAILING} failed on 127.0.0.1:${stackdPort}`);
    expect(mine[0]?.annotations['description']).toContain(`\`stackctl status ${FAILING}\``);
    // nothing else is wrong on this lab (but the never-healthy stack): no other stackd alert fires
    const others = alerts.filter((a) => a.labels['alertname'] !== 'StackdStackFailed' && a.state === 'firing' && a.labels['stack'] !== UNWELL);
    expect(others.map((a) => a.labels['alertname'])).toEqual([]);
    console.log(`ALERTS firing: ${JSON.stringify(firing.map((a) => a.metric))}`);
    console.log(`summary: ${mine[0]?.annotations['summary']}`);
    console.log(`description: ${mine[0]?.annotations['description']}`);
  });
  it('StackdDeployUnhealthy fires for the stack its healthWindow left unhealthy, and for no other', async () => {
    await daemon.waitStack(UNWELL, (s) => s.lastResult?.result === 'ok', 'deployed');
    const firing = await waitForSeries('ALERTS{alertname="StackdDeployUnhealthy",alertstate="firing"}');
    expect(firing.map((a) => a.metric['stack'])).toEqual([UNWELL]);
    expect(firing[0]?.metric).toMatchObject({ severity: 'warning', job: 'stackd' });
    const gauge = await query(`stackd_deploy_unhealthy{stack="${OK}"}`);
    expect(gauge[0]?.value[1]).toBe('0');
    console.log(`StackdDeployUnhealthy firing: ${JSON.stringify(firing.map((a) => a.metric))}`);
  });

  it('StackdStackDegraded fires once the never-healthy stack has been degraded longer than its healthWindow (1m at least)', async () => {
    const window = await waitForSeries(`stackd_stack_health_window_seconds{stack="${UNWELL}"}`);
    expect(window[0]?.value[1]).toBe('3');
    await daemon.waitStack(UNWELL, (s) => s.state === 'degraded', 'degraded');
    // the floor: a window of 3 s counts as 60 s, so this takes a minute
    const firing = await waitForSeries('ALERTS{alertname="StackdStackDegraded",alertstate="firing"}', 180_000);
    expect(firing.map((a) => a.metric['stack'])).toEqual([UNWELL]);
    const degraded = await query(`stackd_stack_degraded_seconds{stack="${UNWELL}"}`);
    expect(Number(degraded[0]?.value[1])).toBeGreaterThan(60);
    expect((await query(`stackd_stack_degraded_seconds{stack="${OK}"}`))[0]?.value[1]).toBe('0');
    console.log(`StackdStackDegraded firing: ${JSON.stringify(firing.map((a) => a.metric))}; degraded for ${degraded[0]?.value[1]} s`);
  }, 240_000);
});
