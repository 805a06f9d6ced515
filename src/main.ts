#!/usr/bin/env node
// stackd: the composition root. Config → logger → adapters → supervisor → HTTP; signals and readiness.
// first: keeps dockerode's unused ssh/grpc transports from loading (ESM evaluates imports in order)
import './adapters/podman-unused-transports.js';
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { pino, type Logger } from 'pino';
import { LogScrubber } from './core/log-scrubber.js';
import { ComposeRunner } from './adapters/compose-runner.js';
import { watchFile } from './adapters/file-watch.js';
import { PodmanClient } from './adapters/podman-client.js';
import { PodmanRelay } from './adapters/podman-relay.js';
import { PaceMeter } from './supervisor/pace-meter.js';
import { buildChildEnv, runProcess } from './adapters/process-runner.js';
import type { RegistryEvent } from './adapters/registry-client.js';
import { lazyRegistry } from './adapters/registry-lazy.js';
import { loadState, loadUpdateState, saveState, saveUpdateState } from './adapters/state-file.js';
import { defaultConfigPath, formatConfigIssues, parseConfig } from './core/config.js';
import type { Config, ConfigEnvironment } from './core/config-types.js';
import { errorMessage } from './core/errors.js';
import type { PersistedState } from './core/persisted-state.js';
import type { UpdateReport } from './core/update/types.js';
import { buildApp } from './http/app.js';
import { listenFd, listenTcp, listenUnixSocket, systemdListenFd } from './http/listen.js';
import { createNotifiers } from './adapters/notifiers.js';
import { Systemctl } from './adapters/systemctl.js';
import { stackFiles } from './adapters/stack-files.js';
import { SystemdNotify } from './adapters/systemd-notify.js';
import { serviceNotifyPlan } from './core/service-notify.js';
import { ServiceNotifier } from './supervisor/service-notifier.js';
import { EventWatcher } from './supervisor/event-watcher.js';
import { startAll, stopAll, type Lifecycle } from './supervisor/lifecycle.js';
import { Metrics } from './supervisor/metrics.js';
import { NotifyDispatcher } from './supervisor/notify-dispatcher.js';
import { buildPipeline } from './supervisor/pipeline.js';
import { hostPlatform, registryChecker } from './supervisor/registry-check.js';
import { readStackInputs } from './supervisor/stack-inputs.js';
import { crashTestHold } from './supervisor/crash-test-hold.js';
import { wedgeTestHook } from './supervisor/wedge-test-hook.js';

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
  // every line passes the stacks' env-value redactors (filled in below, once the stacks' files are read)
  const scrubber = new LogScrubber();
  const logger = pino({ base: { pid: process.pid }, level: env['STACKD_LOG_LEVEL'] ?? 'info', hooks: { streamWrite: scrubber.scrub } });

  // --- adapters ---
  const podman = new PodmanClient({ socketPath: config.podman.socket });
  // systemd (Type=notify): the watchdog is fed from here on; READY=1 once the state is loaded and podman answers
  const notifyPlan = serviceNotifyPlan(env, process.pid);
  const service = new ServiceNotifier({
    ...(notifyPlan.socket !== undefined
      ? { manager: new SystemdNotify({ socket: notifyPlan.socket, mainPid: process.pid, path: env['PATH'] ?? '/usr/bin:/bin' }) } : {}),
    ...(notifyPlan.watchdogEveryMs !== undefined ? { watchdogEveryMs: notifyPlan.watchdogEveryMs } : {}),
    isReady: () => podman.ping().then(() => true, () => false),
    logger,
  });
  service.startWatchdog();
  wedgeTestHook(env['STACKD_TEST_WEDGE_ON'], logger);
  // compose talks to podman through stackd's relay (src/adapters/podman-relay.ts): the same API, but podman's
  // slow /info and /version answers are reused instead of recomputed for every compose run
  // how quickly podman answers compose, for queue.concurrency auto (the relay times every request it passes)
  const pace = new PaceMeter();
  const relay = await startRelay(config, logger, pace);
  const composeSocket = relay?.path ?? config.podman.socket;
  const childEnv = buildChildEnv(env, { podmanSocket: composeSocket });
  // built once: compose runs with it and the reconciler's fingerprint covers it
  const compose = new ComposeRunner({ command: config.podman.composeCommand, podmanSocket: composeSocket, parentEnv: env, env: childEnv, run: runProcess });
  const files = stackFiles;
  const stateStore = {
    load: (projectOf: (stack: string) => string) => loadState(config.stateFile, projectOf),
    save: (s: PersistedState) => saveState(config.stateFile, s),
  };
  const host = hostname();

  // --- the pipeline: preflight, reconciler, queue, supervisor (src/supervisor/pipeline.ts) ---
  let podmanUp = false;
  const metrics: Metrics = new Metrics({
    listStacks: () => supervisor.listStacks(), queueDepth: () => supervisor.queueDepth, podmanUp: () => podmanUp,
    queueConcurrency: () => supervisor.queueConcurrency,
    jobCount: () => supervisor.jobCount,
    deployUnhealthy: (stack) => healthWatch.isAlerted(stack),
    healthWindowsMs: () => new Map(supervisor.currentConfig.stacks.map((s) => [s.name, s.healthWindowMs])),
  });
  // Gotify / ntfy / webhook: once per state change, never per retry; a failing notifier never fails the work
  const notify = new NotifyDispatcher({
    notifiers: createNotifiers(config.notify, { host }), logger, host, onSuccess: config.update.notifyOnSuccess,
    onFailure: (kind) => metrics.notifyFailures.inc({ notifier: kind }),
  });
  for (const kind of new Set(config.notify.map((n) => n.kind))) metrics.notifyFailures.inc({ notifier: kind }, 0);
  // registry updates: manifests from the registries (the user's auth files, registries.conf), images through
  // podman; the updater's memory (bad digests, apply progress) beside the state file
  const registryLog = logger.child({ component: 'registry' });
  // imported on the first update check: an idle daemon never loads the registry client's modules
  const registry = lazyRegistry(async () => (await import('./adapters/registry-client.js'))
    .createRegistryClient({ env: { ...env }, helperEnv: childEnv }, { onEvent: (event) => logRegistryEvent(registryLog, event) }));
  const updatesFile = join(dirname(config.stateFile), 'updates.json');
  const holdUpdateAfter = crashTestHold(env['STACKD_TEST_HOLD_UPDATE_AFTER'], logger);
  const { supervisor, housekeeping, providerGate, healthWatch, feed } = buildPipeline({
    config, podman, compose, files, stateStore, childEnv, logger,
    podmanPace: () => pace.take(),
    systemctl: new Systemctl({ parentEnv: env }),
    probeComposeProvider: () => compose.version(),
    onResult: (stack, r) => {
      metrics.recordReconcile(stack, r);
      void notify.notifyStackVerdict(stack, r);
    },
    // the env files as the reconcile just read them (they may have changed): the log's scrubber follows
    onInputs: (stack, redact) => scrubber.set(stack, redact),
    onViolation: (stack, kind) => metrics.preflightViolations.inc({ stack, kind }),
    onTimersRemoved: (n) => metrics.timersRemoved.inc(n),
    // the watch window's one alert after a deploy and its one recovery; service names pass the stack's redactor
    onWatchWindow: (change) => void redactorOf(change.stack).then((redact) => notify.notifyWatchWindow(change, redact)),
    updates: {
      images: podman,
      check: registryChecker(registry, hostPlatform(process.arch)),
      state: { load: () => loadUpdateState(updatesFile), save: (s) => saveUpdateState(updatesFile, s) },
      onReport: (report, logTails) => {
        metrics.recordUpdate(report);
        void notifyUpdateRun(report, logTails);
      },
      ...(holdUpdateAfter ? { afterAction: holdUpdateAfter } : {}),
    },
  });

  /** The log scrubber's redactors for every configured stack (at start and on reload; reconciles keep them current). */
  async function refreshScrubber(): Promise<void> {
    const stacks = supervisor.currentConfig.stacks;
    scrubber.retain(stacks.map((s) => s.name));
    // a stack whose files cannot be read keeps its last redactor
    await Promise.all(stacks.map((s) => readStackInputs(s, files, childEnv).then((i) => scrubber.set(s.name, i.redact), () => undefined)));
  }

  /** The redactor of the named stacks' env values (identity for a stack whose inputs cannot be read). */
  async function redactorOf(...stacks: string[]): Promise<(text: string) => string> {
    const names = new Set(stacks);
    const redactors = await Promise.all(supervisor.currentConfig.stacks.filter((s) => names.has(s.name))
      .map((s) => readStackInputs(s, files, childEnv).then((i) => i.redact, () => (t: string) => t)));
    return (text: string) => redactors.reduce((t, r) => r(t), text);
  }

  /** One message per update run, redacted with the env values of every stack it names (log tails may echo them). */
  async function notifyUpdateRun(report: UpdateReport, logTails: ReadonlyMap<string, string>): Promise<void> {
    const redact = await redactorOf(...report.rows.map((r) => r.stack));
    await notify.notifyUpdateRun({
      dryRun: report.dryRun,
      rows: report.rows.map((r) => ({
        stack: r.stack, service: r.service, image: r.Image, updated: r.Updated,
        ...(r.Reason !== undefined ? { reason: r.Reason } : {}),
        ...(r.remoteDigest !== undefined ? { digest: r.remoteDigest } : {}),
        ...(logTails.has(`${r.stack}/${r.service}`) ? { logTail: logTails.get(`${r.stack}/${r.service}`) ?? '' } : {}),
      })),
    }, redact);
  }

  await refreshScrubber();

  // The state file first: nothing may be served (and saved over it) before it is read. A corrupt file stops
  // stackd here, untouched.
  try {
    await supervisor.load();
  } catch (err) {
    logger.fatal({ err, file: config.stateFile }, 'cannot read the state file');
    process.stderr.write(`stackd: ${errorMessage(err)}\n`);
    return 2;
  }

  // --- HTTP ---
  const httpLogger = logger.child({ component: 'http' });
  const app = buildApp({ supervisor, events: feed, logger: httpLogger, writable: true, metrics: () => metrics.text() });
  const fd = systemdListenFd(env, process.pid);
  if (fd !== undefined) await listenFd(app, fd);
  else await listenUnixSocket(app, config.api.socket);
  let tcpApp: ReturnType<typeof buildApp> | undefined;
  if (config.api.listen) {
    tcpApp = buildApp({ supervisor, events: feed, logger: httpLogger, writable: false, metrics: () => metrics.text() });
    await listenTcp(tcpApp, config.api.listen.host, config.api.listen.port);
  }
  logger.info({ socket: fd !== undefined ? `fd ${fd}` : config.api.socket, tcp: config.api.listen }, 'API listening');

  const provider = await providerGate.current();
  if (provider.ok) logger.info({ provider: provider.detail }, 'compose provider');
  else logger.error({ provider: provider.provider, detail: provider.detail }, 'compose provider refused: every stack fails as compose-provider until it is fixed');

  // --- long-lived parts, started in dependency order and stopped in reverse ---
  const events = new EventWatcher({
    source: podman, logger, refreshProject: (p) => supervisor.refreshProject(p), isNews: (ev, p) => supervisor.eventIsNews(ev, p),
    onConnection: (up) => {
      supervisor.eventStream(up);
      const reconnected = up && !podmanUp;
      podmanUp = up;
      // events were lost while the stream was down (podman restarted): look at every stack again
      if (reconnected) {
        logger.info('podman answers again: resyncing every stack');
        void providerGate.recheck()?.catch((err: unknown) => logger.warn({ err }, 'could not ask the compose provider again'));
        void supervisor.resyncNow();
      }
    },
  });
  let stopWatching: (() => void) | undefined;
  const parts: Lifecycle[] = [
    // first to start, last to stop: the supervisor's final verdicts still go out
    { name: 'notify', start: () => notify.start(), stop: () => notify.stop() },
    housekeeping,
    supervisor,
    // after the supervisor: its first reconciles' deploys open windows; before events, which keep health live
    healthWatch,
    { name: 'podman-events', start: () => events.start(), stop: () => events.stop() },
    {
      name: 'config-watcher',
      start: () => { stopWatching = watchFile(configPath, () => void reload(), { debounceMs: 500 }); },
      stop: () => stopWatching?.(),
    },
    // last: the state is loaded and every part runs; first to stop, so systemd hears STOPPING=1 at once
    { name: 'systemd-notify', start: () => service.announceWhenReady(), stop: () => service.stop() },
  ];
  await startAll(parts, logger);

  async function reload(): Promise<void> {
    const next = await loadConfig(configPath, ctx);
    if (!next.config) {
      logger.error({ config: configPath, problem: next.error }, 'new config refused; the previous config stays in force');
      return;
    }
    warnOnRestartOnlyKeys(logger, supervisor.currentConfig, next.config);
    notify.configure({ notifiers: createNotifiers(next.config.notify, { host }), onSuccess: next.config.update.notifyOnSuccess });
    supervisor.applyConfig(next.config);
    await refreshScrubber();
    logger.info({ config: configPath, stacks: next.config.stacks.length }, 'config reloaded');
  }

  return new Promise<number>((resolve) => {
    let stopping = false;
    const shutdown = (signal: string) => {
      if (stopping) return;
      stopping = true;
      // Finish the compose step that is running (killing it midway could leave a half-made stack), then exit.
      logger.info({ signal }, 'stopping: letting running reconciles finish');
      void (async () => {
        await stopAll(parts, logger);
        await app.close();
        await tcpApp?.close();
        await podman.close();
        // after every part stopped: a compose run still finishing talks through it
        await relay?.stop();
        await registry.close();
        service.close();
        logger.info('stopped');
        resolve(0);
      })();
    };
    process.on('SIGTERM', () => shutdown('SIGTERM'));
    process.on('SIGINT', () => shutdown('SIGINT'));
  });
}

/** The relay next to the API socket, or undefined (configured off, or it could not start: compose then talks to podman directly). */
async function startRelay(config: Config, logger: Logger, pace: PaceMeter): Promise<PodmanRelay | undefined> {
  if (config.podman.composeInfoCacheMs <= 0) return undefined;
  const relay = new PodmanRelay({
    listenPath: join(dirname(config.api.socket), 'podman-relay.sock'), upstreamPath: config.podman.socket, ttlMs: config.podman.composeInfoCacheMs,
    onAnswer: (_method, url, ms) => pace.record(url, ms),
  });
  try {
    await relay.start();
    logger.info({ relay: relay.path, podman: config.podman.socket, infoCacheMs: config.podman.composeInfoCacheMs }, 'compose talks to podman through the relay');
    return relay;
  } catch (err) {
    logger.warn({ err, relay: relay.path }, 'could not start the podman relay; compose talks to podman directly (slower: podman recomputes /info and /version for every run)');
    return undefined;
  }
}

/** What cost a registry more than a HEAD: worth a line, since some registries count GETs against a pull quota. */
function logRegistryEvent(log: Logger, event: RegistryEvent): void {
  switch (event.kind) {
    case 'head-without-digest':
      log.warn(event, 'the registry sent no Docker-Content-Digest on HEAD; the check used a GET, which some registries count against the pull quota');
      break;
    case 'digest-from-body':
      log.info(event, 'the registry sent no Docker-Content-Digest; the digest was computed from the manifest');
      break;
    case 'rate-limited':
      log.warn(event, 'the registry rate-limited stackd (429); it is not asked again this run, nor before the wait its Retry-After asked for ends');
      break;
  }
}

function warnOnRestartOnlyKeys(logger: Logger, before: Config, after: Config): void {
  const restartOnly: [string, unknown, unknown][] = [
    ['podman.socket', before.podman.socket, after.podman.socket],
    ['podman.composeInfoCache', before.podman.composeInfoCacheMs, after.podman.composeInfoCacheMs],
    ['api.socket', before.api.socket, after.api.socket],
    ['api.listen', JSON.stringify(before.api.listen), JSON.stringify(after.api.listen)],
    ['queue.concurrency/maxConcurrency', JSON.stringify(before.queue.concurrency), JSON.stringify(after.queue.concurrency)],
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
