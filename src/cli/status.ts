// `stackctl status [NAME]`: all stacks as a table, or one stack with its containers.
import { printJson } from './context.js';
import type { Ctx } from './context.js';
import { EXIT } from './exit-codes.js';
import { renderStackDetail, renderStatusTable } from './render.js';

export async function status(ctx: Ctx, name: string | undefined): Promise<number> {
  const { stdout } = ctx.io;
  if (name === undefined) {
    const stacks = await ctx.client.listStacks();
    if (ctx.json) printJson(ctx, { stacks });
    else stdout.write(renderStatusTable(stacks, { nowMs: ctx.now(), columns: stdout.isTTY ? stdout.columns : undefined }));
  } else {
    const stack = await ctx.client.getStack(name);
    if (ctx.json) printJson(ctx, stack);
    else stdout.write(renderStackDetail(stack, ctx.now()));
  }
  return EXIT.ok;
}
