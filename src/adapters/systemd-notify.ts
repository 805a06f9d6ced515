// sd_notify for a process without unix datagram sockets (node's dgram speaks UDP only): each message is one
// `systemd-notify --pid=<stackd> FIELD=1` through the process runner. The unit needs NotifyAccess=all, since
// the sender is a child. Two ways a child's message can go astray, both closed here:
// - attribution: systemd must map the sender to the unit while it reads the datagram. systemd-notify waits
//   (without --no-block) until the manager has processed the message (a barrier, systemd >= 246), so it is
//   still alive then; and it runs in stackd's own cgroup (spawned by stackd), which is the unit's.
// - main PID: --pid=<stackd's pid> sends MAINPID= with it, so a message is never taken as coming from a new
//   main process (it also names stackd's pid as the sender where the kernel lets it).
import { ProcessExitError, ProcessTimeoutError } from './errors.js';
import { runProcess } from './process-runner.js';
import type { ServiceManagerPort } from '../supervisor/ports.js';

export interface SystemdNotifyOptions {
  /** $NOTIFY_SOCKET as systemd set it (a path, or '@' for an abstract socket) */
  socket: string;
  /** stackd's pid (the unit's main process) */
  mainPid: number;
  /** PATH to find systemd-notify on */
  path: string;
  /** default ['systemd-notify'] */
  command?: string[];
  /** default 10 s (the barrier waits at most 5 s for the manager) */
  timeoutMs?: number;
  run?: typeof runProcess;
}

export class SystemdNotify implements ServiceManagerPort {
  private readonly command: string[];
  private readonly run: typeof runProcess;
  private readonly timeoutMs: number;

  constructor(private readonly opts: SystemdNotifyOptions) {
    this.command = opts.command ?? ['systemd-notify'];
    this.run = opts.run ?? runProcess;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  ready(): Promise<void> {
    return this.send('READY=1');
  }

  watchdog(): Promise<void> {
    return this.send('WATCHDOG=1');
  }

  stopping(): Promise<void> {
    return this.send('STOPPING=1');
  }

  private async send(field: string): Promise<void> {
    const argv = [...this.command, `--pid=${this.opts.mainPid}`, field];
    // only what systemd-notify needs: where to send, and where to find itself
    const env = { NOTIFY_SOCKET: this.opts.socket, PATH: this.opts.path };
    const r = await this.run({ argv, env, timeoutMs: this.timeoutMs });
    if (r.timedOut) throw new ProcessTimeoutError(argv, this.timeoutMs, r.stderr);
    if (r.exitCode !== 0) throw new ProcessExitError(argv, r.exitCode, r.stderr);
  }
}
