// The first step of reading any of stackd's own JSON files: a whole JSON object, or a problem that says what
// was wrong in words an owner can act on (an empty or cut-off file is most likely a truncated write).
export type JsonObjectText = { ok: true; value: Record<string, unknown> } | { ok: false; problem: string };

export function parseJsonObject(text: string): JsonObjectText {
  if (text.trim() === '') return { ok: false, problem: 'the file is empty (truncated?)' };
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, problem: `not valid JSON (${err instanceof Error ? err.message : String(err)}; truncated?)` };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, problem: 'expected a JSON object with a "version" key' };
  return { ok: true, value: raw as Record<string, unknown> };
}
