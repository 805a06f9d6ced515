// The last line of defence for the daemon's log: every line pino writes passes the env-value redactors of every
// configured stack (pino's streamWrite hook, wired in main.ts). Reasons are redacted where they are made; this
// catches what is logged as it came: an `{ err }` from podman or a registry that quotes an image reference
// compose interpolated from an env file, a registry event naming that repository.

export type Redact = (text: string) => string;

export class LogScrubber {
  readonly #byStack = new Map<string, Redact>();

  /** Every stack's redactor over one log line; a bound function, to hand to pino as is. */
  readonly scrub = (line: string): string => {
    let out = line;
    for (const redact of this.#byStack.values()) out = redact(out);
    return out;
  };

  /** The stack's current redactor (its env files as read now). */
  set(stack: string, redact: Redact): void {
    this.#byStack.set(stack, redact);
  }

  /** Forgets stacks no longer configured (their env values are not secrets of this stackd any more). */
  retain(stacks: Iterable<string>): void {
    const keep = new Set(stacks);
    for (const name of [...this.#byStack.keys()]) if (!keep.has(name)) this.#byStack.delete(name);
  }
}
