// The shipped per-stack unit runs `stackctl up/stop NAME`: systemd's start timeout must leave stackctl time to
// pass its own deadline and say what is still running, instead of killing it silently first.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_TIMEOUT_MS } from '../../../src/cli/deadline.js';

const UNIT = join(import.meta.dirname, '../../../systemd/example-stack.service');

/** systemd time spans as used in the unit: "16min", "960", "960s", "1h". */
function systemdSpanMs(text: string): number {
  const m = /^(\d+)\s*(min|s|h)?$/.exec(text.trim());
  if (!m) throw new Error(`not a time span this test knows: ${text}`);
  const unit = m[2] === 'h' ? 3_600_000 : m[2] === 'min' ? 60_000 : 1000;
  return Number(m[1]) * unit;
}

describe('systemd/example-stack.service', () => {
  it('sets TimeoutStartSec= a little above stackctl\'s default deadline', async () => {
    const text = await readFile(UNIT, 'utf8');
    const value = /^TimeoutStartSec=(.+)$/m.exec(text)?.[1];
    expect(value, 'TimeoutStartSec= in [Service]').toBeDefined();
    const ms = systemdSpanMs(value ?? '');
    expect(ms).toBeGreaterThan(DEFAULT_TIMEOUT_MS);
    expect(ms).toBeLessThanOrEqual(DEFAULT_TIMEOUT_MS + 5 * 60_000);
  });
});
