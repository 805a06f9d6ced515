// The shell's side of core/observed-trust.ts: one sequence for the event stream's openings, the start of each
// project list, and each event that can change a project's list. The reconciler asks it whether the event-fed
// view of a stack may stand in for a list (a requested `up` of an unchanged stack then asks podman nothing).
import { observedTrust, type TrustVerdict } from '../core/observed-trust.js';

export class TrustLedger {
  private seq = 0;
  private streamOpenedSeq?: number;
  /** by compose project: the last event that can change its list (configured projects only: bounded) */
  private readonly lastEvent = new Map<string, number>();

  /** Called right before a project list is sent; the list's containers are stored with this number. */
  listStarted(): number {
    return ++this.seq;
  }

  /** The event stream answered (true) or was lost (false). */
  stream(up: boolean): void {
    this.streamOpenedSeq = up ? ++this.seq : undefined;
  }

  /** An event of `project` that can change its list arrived (its re-list follows). */
  event(project: string): void {
    this.lastEvent.set(project, ++this.seq);
  }

  verdict(project: string, listedSeq: number | undefined): TrustVerdict {
    return observedTrust({ streamOpenedSeq: this.streamOpenedSeq, listedSeq, lastEventSeq: this.lastEvent.get(project) });
  }
}
