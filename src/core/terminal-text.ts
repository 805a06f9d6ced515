// Text from stackd (reasons quote compose's and podman's output; container names and error messages pass
// through) ends up on the user's terminal. A control sequence in it would be acted on: OSC 52 writes the
// clipboard, OSC 8 plants links, CSI moves the cursor and rewrites what was printed, C1 \u009b is CSI in one
// character. So stackctl removes every control sequence and control character but \n and \t, AFTER the JSON is
// decoded: in stackd's bytes an escape is the six characters "\u001b", harmless until JSON.parse makes it one.
// The client cleans every answer; the renderer cleans again what it prints (it may be handed data from elsewhere).
// stackd's own text answers (POST /v1/stacks/NAME/up?wait= with Accept: text/plain, read by curl into the journal
// or a terminal) go through the same function, so the two never disagree about what is stripped.

// ESC or its C1 form, then: a CSI sequence; an OSC/DCS/SOS/PM/APC string up to BEL or ST (or the end of the
// text, when unterminated); or a two-character escape (ESC c, ESC 7, ESC ( B ...).
const SEQUENCE = new RegExp([
  '(?:\\u001b\\[|\\u009b)[0-?]*[ -/]*[@-~]?',
  '(?:\\u001b[\\]PX^_]|[\\u009d\\u0090\\u0098\\u009e\\u009f])[^\\u0007\\u001b\\u009c]*(?:\\u0007|\\u001b\\\\|\\u009c)?',
  '\\u001b[ -/]*[0-~]?',
].join('|'), 'g');
// what is left: C0 but \t and \n, DEL, C1
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const CONTROL_CHAR = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;

/** `text` without control sequences and control characters; \n and \t stay (multi-line reasons need them). */
export function stripControls(text: string): string {
  return text.replace(SEQUENCE, '').replace(CONTROL_CHAR, '');
}

/** Every string in a decoded JSON value (object keys too) through stripControls; the shape is unchanged. */
export function stripControlsDeep<T>(value: T): T {
  return clean(value) as T;
}

function clean(value: unknown): unknown {
  if (typeof value === 'string') return stripControls(value);
  if (Array.isArray(value)) return value.map(clean);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [stripControls(k), clean(v)]));
  }
  return value;
}
