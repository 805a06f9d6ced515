// GET /v1/jobs/:id?wait=MS. Plain decimal digits only: number coercion by the validator took "1.5", "0x10", "1e3"
// and "" (as 0), so a typo silently became another wait. Checked here rather than by a schema pattern so that the
// one message below names the parameter, what arrived and what was expected, whatever was wrong with it.
import { MAX_WAIT_MS } from './schemas.js';

export const WAIT_EXPECTED = `expected whole milliseconds as plain decimal digits, 0 to ${MAX_WAIT_MS}`;

export function waitParamMessage(raw: unknown): string {
  return `wait: got ${JSON.stringify(raw)}; ${WAIT_EXPECTED}`;
}

/** Milliseconds to long-poll for (0 when absent), or undefined when `raw` is not plain digits up to the max. */
export function parseWaitParam(raw: string | undefined): number | undefined {
  if (raw === undefined) return 0;
  if (!/^[0-9]+$/.test(raw)) return undefined;
  const ms = Number(raw);
  return ms <= MAX_WAIT_MS ? ms : undefined;
}
