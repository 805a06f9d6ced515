// One stack's line of an update run, for the status page and GET /v1/stacks: the worst of its services' rows
// (failed > rolled back > updated > available > up to date). Services the run skipped (pinned by digest, update:
// off) say nothing; a stack with nothing but those, or without a labelled service, has no last update.
import { LAST_UPDATE_RESULTS, type LastUpdate, type LastUpdateResult } from '../model.js';
import type { Updated } from './types.js';

const FROM_ROW: Record<Updated, LastUpdateResult | undefined> = {
  failed: 'failed',
  'rolled back': 'rolled back',
  true: 'updated',
  pending: 'available',
  false: 'up to date',
  skipped: undefined,
};

export function lastUpdateOf(rows: readonly { Updated: Updated }[], finishedAt: string): LastUpdate | undefined {
  let worst: LastUpdateResult | undefined;
  for (const r of rows) {
    const result = FROM_ROW[r.Updated];
    if (result !== undefined && (worst === undefined || LAST_UPDATE_RESULTS.indexOf(result) < LAST_UPDATE_RESULTS.indexOf(worst))) worst = result;
  }
  return worst === undefined ? undefined : { result: worst, finishedAt };
}
