import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { crashTestHold } from '../../../src/supervisor/crash-test-hold.js';

const logger = pino({ level: 'silent' });
const settledWithin = async (p: Promise<void>, ms: number): Promise<boolean> =>
  Promise.race([p.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('crashTestHold (STACKD_TEST_HOLD_UPDATE_AFTER)', () => {
  it.each([[undefined], ['']])('%j: no hook at all', (value) => {
    expect(crashTestHold(value, logger)).toBeUndefined();
  });

  it('an unknown point fails naming the variable and the choices', () => {
    expect(() => crashTestHold('pull', logger)).toThrow('Expected `STACKD_TEST_HOLD_UPDATE_AFTER` to be one of pulled, retagged, up');
  });

  it.each([
    ['pulled', 'pulled', false], ['pulled', 'retagged', true], ['pulled', 'up', true],
    ['retagged', 'retagged', false], ['up', 'up', false], ['up', 'pulled', true],
  ] as const)('armed at %s, after %s: goes on %s', async (armed, action, goesOn) => {
    const hook = crashTestHold(armed, logger);
    if (!hook) throw new Error('no hook');
    expect(await settledWithin(hook(action, 's'), 20)).toBe(goesOn);
  });
});
