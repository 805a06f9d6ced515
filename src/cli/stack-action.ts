// `stackctl up/stop/down NAME`: ask stackd, then wait for the verdict of the reconcile (and with `up --healthy`
// for health) until the one deadline (--timeout, default 15m). Past it, say what is still running and exit 5:
// stackd carries on with the request either way, only stackctl stops waiting.
import { errorMessage } from '../core/errors.js';
import type { Job, StackAction } from '../supervisor/api.js';
import { UsageError, printJson } from './context.js';
import type { Ctx } from './context.js';
import { parseTimeout, remainingMs } from './deadline.js';
import type { Deadline } from './deadline.js';
import { EXIT } from './exit-codes.js';
import { follow, isPending, succeeded } from './follow.js';
import { renderVerdict } from './render.js';

/** How often `up --healthy` looks at the stack's health. */
export const HEALTH_POLL_MS = 2_000;

export interface ActionOptions {
  noBlock: boolean;
  healthy: boolean;
  timeout: string | undefined;
}

export async function stackAction(ctx: Ctx, action: StackAction, name: string, opts: ActionOptions): Promise<number> {
  if (opts.noBlock && opts.healthy) throw new UsageError('--no-block and --healthy exclude each other');
  if (opts.noBlock && opts.timeout !== undefined) throw new UsageError('--timeout has no effect with --no-block (nothing is waited for)');
  const timeout = parseTimeout(opts.timeout, ctx.now());
  if (!timeout.ok) throw new UsageError(timeout.message);
  const { deadline } = timeout;
  const queued = await ctx.client.requestAction(name, action);
  if (opts.noBlock) {
    if (ctx.json) printJson(ctx, queued);
    else ctx.io.stdout.write(`${action} ${name}: queued (job ${queued.id})\n`);
    return EXIT.ok;
  }
  const done = await follow(ctx, queued, deadline);
  if (isPending(done)) return reportStillRunning(ctx, action, name, done, deadline);
  if (ctx.json) printJson(ctx, done);
  if (!succeeded(done)) {
    ctx.io.stderr.write(`stackctl: ${renderVerdict(done)}\n`);
    return EXIT.failed;
  }
  if (!ctx.json) ctx.io.stdout.write(`${renderVerdict(done)}\n`);
  return opts.healthy ? awaitHealthy(ctx, name, deadline) : EXIT.ok;
}

/** The deadline passed before the verdict: the job as it stands and the stack's phase and state, then exit 5. */
async function reportStillRunning(ctx: Ctx, action: StackAction, name: string, job: Job, deadline: Deadline): Promise<number> {
  if (ctx.json) printJson(ctx, job);
  const stack = await ctx.client.getStack(name).then(
    (s) => `${name}: ${s.phase}, state ${s.state}, health ${s.health}, desired ${s.desired}`,
    (err: unknown) => `${name}: could not be read (${errorMessage(err)})`,
  );
  ctx.io.stderr.write(`${[
    `stackctl: ${action} ${name}: no verdict after ${deadline.text} (--timeout); still in stackd:`,
    `  job ${job.id}: ${job.status}`,
    `  ${stack}`,
    `stackd carries on with it: follow it with "stackctl status ${name}", or wait longer with --timeout (0 waits for ever)`,
  ].join('\n')}\n`);
  return EXIT.timedOut;
}

async function awaitHealthy(ctx: Ctx, name: string, deadline: Deadline): Promise<number> {
  for (;;) {
    const stack = await ctx.client.getStack(name);
    if (stack.health === 'healthy') {
      if (!ctx.json) ctx.io.stdout.write(`${name}: healthy\n`);
      return EXIT.ok;
    }
    if (stack.state === 'failed' || stack.health === 'down') {
      ctx.io.stderr.write(`stackctl: ${name} did not become healthy: state ${stack.state}, health ${stack.health}\n`);
      return EXIT.failed;
    }
    if (remainingMs(deadline, ctx.now()) <= 0) {
      ctx.io.stderr.write(`stackctl: ${name} not healthy after ${deadline.text} (--timeout): state ${stack.state}, health ${stack.health}, phase ${stack.phase}\n`);
      return EXIT.timedOut;
    }
    await ctx.sleep(Math.min(HEALTH_POLL_MS, remainingMs(deadline, ctx.now())));
  }
}
