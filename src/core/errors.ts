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

/** A constructor or function got an option it cannot work with; names the option, what was expected, what came. */
export class InvalidOptionError extends StackdError {
  constructor(readonly option: string, expected: string, got: unknown) {
    super('STACKD_INVALID_OPTION', `Expected \`${option}\` to be ${expected}, got ${describeValue(got)}`);
  }
}

function describeValue(v: unknown): string {
  if (typeof v === 'string') return `\`${v}\` (string)`;
  if (Array.isArray(v)) return `\`${JSON.stringify(v)}\` (array)`;
  if (v === null || v === undefined) return `\`${String(v)}\``;
  return `\`${typeof v === 'object' ? JSON.stringify(v) : String(v)}\` (${typeof v})`;
}

/** The error's stable code, when it has one (ours, or Node's errno codes). */
export function errorCode(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}

export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
