// Following a job to its end over long-polls, up to a deadline.
import type { Job } from '../supervisor/api.js';
import type { Ctx } from './context.js';
import { remainingMs } from './deadline.js';
import type { Deadline } from './deadline.js';
import { isPending } from '../core/verdict.js';

/** How long one long-poll for a job may wait on the daemon; the CLI polls again until the job is finished. */
export const JOB_POLL_MS = 30_000;

const NO_DEADLINE: Deadline = { at: Infinity, text: 'for ever' };

// one success rule for stackctl and stackd's waiting POST (core/verdict.ts)
export { isPending, succeeded } from '../core/verdict.js';

/**
 * Long-polls until the job is finished or the deadline passes, and returns the job as last seen (still pending
 * when the deadline passed). No poll asks stackd to wait past the deadline; each wait is whole milliseconds.
 */
export async function follow(ctx: Ctx, job: Job, deadline: Deadline = NO_DEADLINE): Promise<Job> {
  let current = job;
  while (isPending(current)) {
    const left = remainingMs(deadline, ctx.now());
    if (left <= 0) break;
    current = await ctx.client.getJob(current.id, Math.ceil(Math.min(JOB_POLL_MS, left)));
  }
  return current;
}
