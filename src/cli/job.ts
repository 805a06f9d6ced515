// `stackctl check | gc | update`: start the job, follow it to the end, print its output.
import { printJson } from './context.js';
import type { Ctx } from './context.js';
import { EXIT } from './exit-codes.js';
import { follow, succeeded } from './follow.js';
import { renderJobOutput, renderVerdict } from './render.js';

/** check, gc and update: followed to the end without a deadline (a health gate may take minutes). */
export async function job(ctx: Ctx, kind: 'check' | 'gc' | 'update', stack: string | undefined, options: { dryRun?: boolean } = {}): Promise<number> {
  const done = await follow(ctx, await ctx.client.startJob(kind, stack, options));
  if (ctx.json) printJson(ctx, done);
  else ctx.io.stdout.write(renderJobOutput(done.output));
  if (!succeeded(done)) {
    ctx.io.stderr.write(`stackctl: ${renderVerdict(done)}\n`);
    return EXIT.failed;
  }
  return EXIT.ok;
}
