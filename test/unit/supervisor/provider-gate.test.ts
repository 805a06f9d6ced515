import { describe, expect, it } from 'vitest';
import { ProviderGate } from '../../../src/supervisor/provider-gate.js';
import type { ComposeProviderVerdict } from '../../../src/supervisor/ports.js';

const good: ComposeProviderVerdict = { ok: true, provider: 'docker-compose', version: '2.26.1', detail: 'docker-compose 2.26.1' };
const down: ComposeProviderVerdict = { ok: false, provider: 'unknown', version: '', detail: 'podman did not answer' };

function gate(...answers: ComposeProviderVerdict[]) {
  let probes = 0;
  const g = new ProviderGate(() => Promise.resolve(answers[Math.min(probes++, answers.length - 1)]!));
  return { g, probes: () => probes };
}

describe('ProviderGate', () => {
  it('keeps a good verdict; asks again after a bad one; callers at once share one probe', async () => {
    const { g, probes } = gate(down, good);
    expect((await g.current()).ok).toBe(false);
    const [a, b] = await Promise.all([g.current(), g.current()]);
    expect([a.ok, b.ok, probes()]).toEqual([true, true, 2]);
    await g.current();
    expect(probes()).toBe(2);
  });

  it.each([
    { what: 'never asked', before: [] as ComposeProviderVerdict[], probesAfter: 0, last: undefined },
    { what: 'a good verdict', before: [good], probesAfter: 1, last: true },
    { what: 'a bad verdict (podman was down)', before: [down], probesAfter: 2, last: true },
  ])('recheck after $what', async ({ before, probesAfter, last }) => {
    const { g, probes } = gate(...before, good);
    for (let i = 0; i < before.length; i++) await g.current();
    await g.recheck();
    expect(probes()).toBe(probesAfter);
    expect(g.last()?.ok).toBe(last);
  });
});
