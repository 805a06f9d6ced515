// When may stackd believe its event-fed view of a project's containers without asking podman again? The view is
// a list of the project, kept current by podman's event stream (a container event that can change the list
// re-lists the project). It is as good as a fresh list when nothing can have been missed since that list began:
//   - the event stream is connected now, and has been since before the list began (a list that began before the
//     stream answered may be followed by events no one heard; a reconnect opens a new gap);
//   - no event that can change the project's list arrived since the list began (its re-list is pending or
//     running, or failed).
// Time is a sequence number the shell hands out (one counter for stream openings, list starts and events), so
// "before" is exact, never a tie of two clock readings. Used only to skip a requested `up` of an unchanged
// stack; the periodic resync and every other reconcile list podman, so a missed event is still found.

export interface TrustInput {
  /** when the current event stream connection answered; undefined while it is down (or was never up) */
  streamOpenedSeq: number | undefined;
  /** when the list the view comes from began; undefined when the project was never listed */
  listedSeq: number | undefined;
  /** when the project's last event that can change its list arrived; undefined when none did */
  lastEventSeq: number | undefined;
}

export type DistrustReason = 'stream-down' | 'never-listed' | 'listed-before-stream' | 'event-since-list';

export type TrustVerdict = { trusted: true } | { trusted: false; why: DistrustReason };

export function observedTrust(i: TrustInput): TrustVerdict {
  if (i.streamOpenedSeq === undefined) return { trusted: false, why: 'stream-down' };
  if (i.listedSeq === undefined) return { trusted: false, why: 'never-listed' };
  if (i.listedSeq < i.streamOpenedSeq) return { trusted: false, why: 'listed-before-stream' };
  if (i.lastEventSeq !== undefined && i.lastEventSeq > i.listedSeq) return { trusted: false, why: 'event-since-list' };
  return { trusted: true };
}
