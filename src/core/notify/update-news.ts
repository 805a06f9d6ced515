// "Once per state change, never per retry" for update runs: which rows of a run are news. The daily timer must
// not repeat "update available" for the same digest every night (update: monitor), nor "update failed" every
// night a registry stays down; a rollback or an applied update is an event, news each time it happens (the
// bad-digest memory already makes a rollback happen once per digest).
import type { UpdateRunRow } from './types.js';

/** What the owner was last told per "stack/service" (absent: nothing, or nothing since it was fine again). */
export type UpdateNotified = ReadonlyMap<string, string>;

export interface UpdateNewsDecision {
  /** the rows worth a message (the caller's message builder still decides which events it sends) */
  news: UpdateRunRow[];
  /** what to remember from now on; services this run did not look at keep their entry */
  next: Map<string, string>;
}

/**
 *   failed → failed                no (the same problem on the next run; a new reason is not a new state)
 *   pending D → pending D          no (the same digest still available); pending D → pending E: yes
 *   false/skipped                  never news; forgets the service, so its next failure or update is news again
 *   rolled back, true              always news (events, not states)
 * Pure: the caller stores `next` whether or not the message gets through.
 */
export function decideUpdateNews(last: UpdateNotified, rows: readonly UpdateRunRow[]): UpdateNewsDecision {
  const next = new Map(last);
  const news: UpdateRunRow[] = [];
  for (const row of rows) {
    const key = `${row.stack}/${row.service}`;
    const state = stateOf(row);
    if (state === undefined) {
      next.delete(key);
      continue;
    }
    if (state.event || last.get(key) !== state.token) news.push(row);
    next.set(key, state.token);
  }
  return { news, next };
}

function stateOf(row: UpdateRunRow): { token: string; event: boolean } | undefined {
  switch (row.updated) {
    case 'failed': return { token: 'failed', event: false };
    case 'pending': return { token: `pending ${row.digest ?? ''}`, event: false };
    case 'rolled back': return { token: `rolled back ${row.digest ?? ''}`, event: true };
    case 'true': return { token: `true ${row.digest ?? ''}`, event: true };
    default: return undefined;
  }
}
