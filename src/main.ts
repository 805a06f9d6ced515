#!/usr/bin/env node
// stackd: the composition root. Config → logger → adapters → supervisor → HTTP; signals and readiness.
import { access, readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { ComposeRunner } from './adapters/compose-runner.js';
import { watchFile } from './adapters/file-watch.js';
import { PodmanClient } from './adapters/podman-client.js';
import { buildChildEnv, runProcess } from './adapters/process-runner.js';
import { loadDesiredState, saveDesiredState } from './adapters/state-file.js';
import { defaultConfigPath, formatConfigIssues, parseConfig } from './core/config.js';
import type { Config, ConfigEnvironment } from './core/config-types.js';
import type { DesiredState } from './core/model.js';
import { buildApp } from './http/app.js';
import { listenFd, listenTcp, listenUnixSocket, systemdListenFd } from './http/listen.js';
import { EventWatcher } from './supervisor/event-watcher.js';
import { Metrics } from './supervisor/metrics.js';
import { ObservedStore } from './supervisor/observed-store.js';
import { Reconciler } from './supervisor/reconciler.js';
import { Supervisor } from './supervisor/supervisor.js';
import { Systemctl } from './adapters/systemctl.js';
import { createHousekeeping } from './supervisor/housekeeping.js';

const USAGE = `usage: stackd [--config PATH]

Supervises the docker-compose stacks named in the config on this user's rootless podman.
  --config PATH   config file (default: $XDG_CONFIG_HOME/stackd/stackd.yaml)
  --check-config  validate the config, print the result, and exit
  --help          this text`;

async function loadConfig(path: string, ctx: ConfigEnvironment): Promise<{ config?: Config; error?: string }> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return { error: `${path}: cannot read the config (${code ?? String(err)}); create it (see config/stackd.example.yaml) or pass --config PATH` };
  }
  const parsed = parseConfig(text, path, ctx);
  return parsed.ok ? { config: parsed.config } : { error: formatConfigIssues(path, parsed.issues) };
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let args;
  try {
    args = parseArgs({ args: argv, options: { config: { type: 'string' }, 'check-config': { type: 'boolean' }, help: { type: 'boolean' } }, strict: true });
  } catch (err) {
    process.stderr.write(`stackd: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  if (args.values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const ctx: ConfigEnvironment = { env: { ...env }, uid: process.getuid?.() ?? 0, cwd: process.cwd() };
  const configPath = args.values.config ?? defaultConfigPath(ctx.env);
  const loaded = await loadConfig(configPath, ctx);
  if (!loaded.config) {
    process.stderr.write(`stackd: invalid config, nothing was started or changed.\n${loaded.error}\n`);
    return 2;
  }
  if (args.values['check-config']) {
    process.stdout.write(`${configPath}: ok (${loaded.config.stacks.length} stacks)\n`);
    return 0;
  }
  const config = loaded.config;
  const logger = pino({ base: { pid: process.pid }, level: env['STACKD_LOG_LEVEL'] ?? 'info' });

  // --- adapters ---
  const podman = new PodmanClient({ socketPath: config.podman.socket });
  const childEnv = buildChildEnv(env, { podmanSocket: config.podman.socket });
  const compose = new ComposeRunner({ command: config.podman.composeCommand, podmanSocket: config.podman.socket, parentEnv: env, run: runProcess });
  const files = {
    exists: (p: string) => access(p).then(() => true, () => false),
    readText: (p: string) => readFile(p, 'utf8').catch(() => null),
  };
  const desiredStore = {
    load: () => loadDesiredState(config.stateFile),
    save: (s: Record<string, DesiredState>) => saveDesiredState(config.stateFile, s),
  };

  const provider = await compose.version();
  if (!provider.ok) {
    logger.fatal({ command: config.podman.composeCommand, detail: provider.detail }, 'compose provider check failed');
    process.stderr.write(`stackd: \`${config.podman.composeCommand.join(' ')} version\` failed: ${provider.detail}\n` +
      'Install docker-compose v2 (podman compose runs it as its provider), then start stackd again.\n');
    return 1;
  }
  logger.info({ provider: provider.detail }, 'compose provider');
  if (config.notify.length > 0) {
    // Honest about what is missing: the config is validated, but nothing sends yet.
    logger.warn({ notifiers: config.notify.map((n) => n.kind) }, 'notify is configured, but this stackd does not send notifications yet');
  }

  // preflight, healthcheck-timer GC, prune, check (src/supervisor/housekeeping.ts)
  const housekeeping = createHousekeeping({
    config: () => supervisor.currentConfig, podman, compose, files, logger, systemctl: new Systemctl({ parentEnv: env }),
    onViolation: (stack, kind) => metrics.preflightViolations.inc({ stack, kind }),
    onTimersRemoved: (n) => metrics.timersRemoved.inc(n),
  });

  // --- supervisor ---
  const store = new ObservedStore();
  let podmanUp = false;
  const reconciler = new Reconciler({
    compose, podman, files, store, childEnv,
    now: Date.now,
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    preflight: housekeeping.preflight, after: housekeeping.after,
  });
  const supervisor = new Supervisor({
    config, reconciler, store, podman, desiredStore, logger,
    tasks: housekeeping.tasks,
    onResult: (stack, r) => metrics.recordReconcile(stack, r),
  });
  const metrics: Metrics = new Metrics({ listStacks: () => supervisor.listStacks(), queueDepth: () => supervisor.queueDepth, podmanUp: () => podmanUp });

  // --- HTTP ---
  const httpLogger = logger.child({ component: 'http' });
  const app = buildApp({ supervisor, logger: httpLogger, writable: true, metrics: () => metrics.text() });
  const fd = systemdListenFd(env, process.pid);
  if (fd !== undefined) await listenFd(app, fd);
  else await listenUnixSocket(app, config.api.socket);
  let tcpApp: ReturnType<typeof buildApp> | undefined;
  if (config.api.listen) {
    tcpApp = buildApp({ supervisor, logger: httpLogger, writable: false, metrics: () => metrics.text() });
    await listenTcp(tcpApp, config.api.listen.host, config.api.listen.port);
  }
  logger.info({ socket: fd !== undefined ? `fd ${fd}` : config.api.socket, tcp: config.api.listen }, 'API listening');

  await supervisor.start();
  housekeeping.start(); // hourly timer GC, daily prune (unref timers)
  const events = new EventWatcher({
    source: podman, logger, refreshProject: (p) => supervisor.refreshProject(p),
    onConnection: (up) => { podmanUp = up; },
  });
  events.start();
  podmanUp = (await supervisor.readiness()).podman.reachable;

  const stopWatching = watchFile(configPath, () => void reload(), { debounceMs: 500 });
  async function reload(): Promise<void> {
    const next = await loadConfig(configPath, ctx);
    if (!next.config) {
      logger.error({ config: configPath, problem: next.error }, 'new config refused; the previous config stays in force');
      return;
    }
    warnOnRestartOnlyKeys(logger, supervisor.currentConfig, next.config);
    supervisor.applyConfig(next.config);
    logger.info({ config: configPath, stacks: next.config.stacks.length }, 'config reloaded');
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // Finish the compose step that is running (killing it midway could leave a half-made stack), then exit.
      logger.info({ signal }, 'stopping: letting running reconciles finish');
      stopWatching();
      void (async () => {
        await events.stop();
        await supervisor.stop();
        await app.close();
        await tcpApp?.close();
        logger.info('stopped');
        resolve(0);
      })();
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

function warnOnRestartOnlyKeys(logger: Logger, before: Config, after: Config): void {
  const restartOnly: [string, unknown, unknown][] = [
    ['podman.socket', before.podman.socket, after.podman.socket],
    ['api.socket', before.api.socket, after.api.socket],
    ['api.listen', JSON.stringify(before.api.listen), JSON.stringify(after.api.listen)],
    ['queue.concurrency', before.queue.concurrency, after.queue.concurrency],
    ['stateFile', before.stateFile, after.stateFile],
  ];
  for (const [key, a, b] of restartOnly) {
    if (a !== b) logger.warn({ key, running: a, configured: b }, 'this key takes effect only when stackd restarts');
  }
}

main(process.argv.slice(2), process.env).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`stackd: fatal: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exit(1);
  },
);
