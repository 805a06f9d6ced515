// The one error base class. Every error stackd throws on purpose extends it: a stable `code` (what scripts,
// logs and the HTTP layer match on; never parse the message) and `cause` chaining (the low-level error stays
// attached for `{ err }` logs). Modelled on undici's errors: small subclasses, each code fixed by its class.

export class StackdError extends Error {
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = new.target.name;
  }
}

/** The error's stable code, when it has one (ours, or Node's errno codes). */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
