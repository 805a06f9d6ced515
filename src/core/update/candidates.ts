// Which services an update run looks at, from the RESOLVED compose model (podman inspect shows image ids
// through the compat API, not the reference the owner wrote): those whose labels set io.containers.autoupdate
// to registry (or podman's old spelling, image) or local. Everything else that an owner might expect to see
// is reported as skipped with the reason, never silently left out.
import type { ComposeModel } from '../model.js';
import { AUTOUPDATE_LABEL } from '../preflight.js';
import type { UpdateMode, UpdatePolicy } from './types.js';

export interface UpdateCandidate {
  service: string;
  /** the image reference as compose resolved it (after ${VAR} interpolation) */
  reference: string;
  policy: UpdatePolicy;
}

export interface SkippedService {
  service: string;
  reference: string;
  /** the label's value ('' when the service has none) */
  policy: string;
  reason: string;
}

export interface CandidateList {
  candidates: UpdateCandidate[];
  skipped: SkippedService[];
}

/** The policy a service's labels ask for; undefined when it does not opt in. */
export function policyOf(labels: Readonly<Record<string, string>>): UpdatePolicy | undefined {
  const v = labels[AUTOUPDATE_LABEL];
  if (v === 'registry' || v === 'image') return 'registry';
  if (v === 'local') return 'local';
  return undefined;
}

export function updateCandidates(model: ComposeModel, mode: UpdateMode): CandidateList {
  const out: CandidateList = { candidates: [], skipped: [] };
  for (const svc of model.services) {
    const policy = policyOf(svc.labels);
    if (policy === undefined) continue; // not opted in: not part of any update report (as with podman)
    const reference = svc.image ?? '';
    const skip = (reason: string) => out.skipped.push({ service: svc.name, reference, policy, reason });
    if (mode === 'off') skip('update: off for this stack');
    else if (!reference) skip('no image: the service is built from source (build:), nothing to pull');
    else if (svc.build && policy === 'registry') skip('built from source (build:); a registry has nothing newer to offer');
    else if (/@sha256:[0-9a-f]{64}$/.test(reference)) skip('pinned by digest; change the digest in the compose file to update it');
    else out.candidates.push({ service: svc.name, reference, policy });
  }
  return out;
}
