// The compose provider the owner chose is enforced: docker-compose v2 behind `podman compose`. podman-compose
// (or none) fails every reconcile as `compose-provider` before anything is touched, and /readyz says so.
// A good verdict is kept; a bad one is asked again at the next use, so fixing containers.conf and running
// `stackctl up` recovers without restarting stackd (a changed PODMAN_COMPOSE_PROVIDER needs a restart: it
// is part of stackd's own environment).
import type { ComposeProviderVerdict } from './ports.js';

export class ProviderGate {
  private verdict?: ComposeProviderVerdict;
  private asking?: Promise<ComposeProviderVerdict>;

  constructor(private readonly probe: () => Promise<ComposeProviderVerdict>) {}

  /** The verdict, asking the provider when there is no good one yet (concurrent callers share one probe). */
  current(): Promise<ComposeProviderVerdict> {
    if (this.verdict?.ok) return Promise.resolve(this.verdict);
    this.asking ??= this.probe().then((v) => {
      this.verdict = v;
      return v;
    }).finally(() => {
      this.asking = undefined;
    });
    return this.asking;
  }

  /**
   * Asks again when the last verdict was bad (podman answers again: a verdict taken while it was down said
   * nothing about the provider). Without it a stackd with no stack to reconcile stayed unready for good.
   */
  recheck(): Promise<ComposeProviderVerdict> | undefined {
    return this.verdict === undefined || this.verdict.ok ? undefined : this.current();
  }

  /** The last verdict, without asking (for /readyz). */
  last(): ComposeProviderVerdict | undefined {
    return this.verdict;
  }
}
