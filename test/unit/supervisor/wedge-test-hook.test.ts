import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { wedgeTestHook, type WedgeDeps } from '../../../src/supervisor/wedge-test-hook.js';

const logger = pino({ level: 'silent' });

function fakeDeps(): WedgeDeps & { handlers: Map<string, () => void>; blocked: number } {
  const handlers = new Map<string, () => void>();
  const deps = {
    handlers,
    blocked: 0,
    on: (signal: string, handler: () => void) => handlers.set(signal, handler),
    block: () => { deps.blocked += 1; },
  };
  return deps;
}

describe('wedgeTestHook (STACKD_TEST_WEDGE_ON)', () => {
  it.each([[undefined], ['']])('%j: no handler at all', (value) => {
    const deps = fakeDeps();
    expect(wedgeTestHook(value, logger, deps)).toBe(false);
    expect([...deps.handlers.keys()]).toEqual([]);
  });

  it('an unknown signal fails naming the variable and the choice', () => {
    expect(() => wedgeTestHook('SIGUSR1', logger, fakeDeps())).toThrow('Expected `STACKD_TEST_WEDGE_ON` to be one of SIGUSR2');
  });

  it('SIGUSR2: the signal, and only the signal, blocks the thread', () => {
    const deps = fakeDeps();
    expect(wedgeTestHook('SIGUSR2', logger, deps)).toBe(true);
    expect([...deps.handlers.keys()]).toEqual(['SIGUSR2']);
    expect(deps.blocked).toBe(0);
    deps.handlers.get('SIGUSR2')?.();
    expect(deps.blocked).toBe(1);
  });
});
