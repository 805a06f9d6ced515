// What every stackctl command gets: where to write, the client, --json, and the clock (tests pass their own).
import { StackdError } from '../core/errors.js';
import type { StackdClient } from './client.js';

export interface Output {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface Ctx {
  io: { stdout: Output; stderr: Output };
  client: StackdClient;
  json: boolean;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
}

/** A mistake in the command line: exit 2 with the message and a pointer to --help. */
/** The command line itself is wrong (exit 2); the message says what was expected. */
export class UsageError extends StackdError {
  constructor(message: string) {
    super('STACKCTL_USAGE', message);
  }
}

export function printJson(ctx: Ctx, value: unknown): void {
  ctx.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
