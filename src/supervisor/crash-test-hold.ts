// The kill points of the update crash tests. With STACKD_TEST_HOLD_UPDATE_AFTER=pulled|retagged|up, an update
// that has just done that action logs it and waits for ever, so a test can SIGKILL stackd at exactly that
// point and check that the restart finishes or undoes the update. Never set in production.
import type { Logger } from 'pino';
import { InvalidOptionError } from '../core/errors.js';
import type { UpdateAction, UpdaterDeps } from './updater.js';

const ACTIONS: readonly UpdateAction[] = ['pulled', 'retagged', 'up'];

export function crashTestHold(value: string | undefined, logger: Logger): UpdaterDeps['afterAction'] {
  if (value === undefined || value === '') return undefined;
  const action = ACTIONS.find((a) => a === value);
  if (!action) {
    throw new InvalidOptionError('STACKD_TEST_HOLD_UPDATE_AFTER', `one of ${ACTIONS.join(', ')} (a crash-test hook: unset it)`, value);
  }
  logger.warn({ action }, 'crash-test hook armed: an update will stop after this action until stackd is killed (STACKD_TEST_HOLD_UPDATE_AFTER)');
  return async (done, stack) => {
    if (done !== action) return;
    logger.warn({ stack, action: done }, 'update held for a crash test');
    await new Promise<never>(() => undefined);
  };
}
