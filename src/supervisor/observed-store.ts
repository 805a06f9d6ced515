// What stackd has seen of each stack: containers (from reconciles and podman events), the compose model
// it resolved last, the last verdict and when the last deploy finished (the health watch window).
import type { ComposeModel, LastUpdate, ObservedContainer, ReconcileResult } from '../core/model.js';

export interface StackObservation {
  containers: ObservedContainer[];
  /** epoch ms of the last container listing; undefined until podman answered once */
  observedAt?: number;
  /** the trust ledger's number of that listing's start (supervisor/trust-ledger.ts); undefined without a ledger */
  listedSeq?: number;
  model?: ComposeModel;
  modelFingerprint?: string;
  lastResult?: ReconcileResult;
  /** the model fingerprint of the last successful `up`: equal inputs and a live stack → nothing to do */
  upFingerprint?: string;
  /** epoch ms when the last successful `up` finished: the start of the health watch window */
  deployFinishedAtMs?: number;
  /** the stack's line of the last update run that was not a dry run */
  lastUpdate?: LastUpdate;
}

export type ObservationListener = (stack: string, obs: StackObservation) => void;

export class ObservedStore {
  private readonly byStack = new Map<string, StackObservation>();
  private readonly listeners = new Set<ObservationListener>();

  get(stack: string): StackObservation {
    let o = this.byStack.get(stack);
    if (!o) {
      o = { containers: [] };
      this.byStack.set(stack, o);
    }
    return o;
  }

  update(stack: string, patch: Partial<StackObservation>): void {
    const next = { ...this.get(stack), ...patch };
    this.byStack.set(stack, next);
    for (const l of this.listeners) l(stack, next);
  }

  delete(stack: string): void {
    this.byStack.delete(stack);
  }

  onChange(listener: ObservationListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
