// Every reason a reconcile can fail or be skipped for, and the ONE retry policy: which failures the queue
// retries by the clock (with jittered backoff) and which wait for new inputs (a new config, an edited
// compose or env file, a restart) because retrying them would only repeat them.
// The HTTP schema, the README table and the queue all read this table; nothing else lists the codes.

export type RetryPolicy = 'clock' | 'inputs' | 'none';

export interface ReasonInfo {
  /** clock: retried with backoff; inputs: waits for a new trigger (config, files, request); none: not a failure */
  retry: RetryPolicy;
  /** one line for the README and `stackctl`: what it means and what to do */
  meaning: string;
}

export const REASONS = {
  'env-file-missing': { retry: 'clock', meaning: 'an env file was still missing after envWait; a secrets unit may write it later' },
  'compose-config': { retry: 'inputs', meaning: 'compose rejected the files (or stackd could not read its model): fix the file named' },
  'compose-provider': { retry: 'inputs', meaning: '`podman compose` does not run docker-compose v2; point podman at it and restart stackd' },
  'compose-failed': { retry: 'clock', meaning: '`compose up/stop/down` exited non-zero; the reason carries its error' },
  'compose-timeout': { retry: 'clock', meaning: 'compose ran past startupTimeout and was killed with its process group' },
  'label-invariant': { retry: 'inputs', meaning: 'a service lacks PODMAN_SYSTEMD_UNIT=<unit>; nothing was touched: add the label named' },
  'podman-unreachable': { retry: 'clock', meaning: 'the podman API socket did not answer stackd, or a compose run could not reach it' },
  'preflight-remove-failed': { retry: 'clock', meaning: 'preflight could not remove a drifted or stale container' },
  'update-rollback-failed': { retry: 'inputs', meaning: 'an update failed its health gate and the rollback failed too; both reasons are given' },
  'not-configured': { retry: 'none', meaning: 'the stack left the config; removedStacks decided what happened to its containers' },
  unchanged: { retry: 'none', meaning: 'skipped: inputs unchanged since the last successful up and every service is running' },
  internal: { retry: 'clock', meaning: 'a bug in stackd; the reason has the message (please report it)' },
} as const satisfies Record<string, ReasonInfo>;

export type ReasonCode = keyof typeof REASONS;

export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];

/** Whether a failed reconcile with this code is retried by the queue's clock. */
export function retriesByClock(code: ReasonCode | undefined): boolean {
  // a failure without a code is unexpected: treat it like `internal`
  return code === undefined ? true : REASONS[code].retry === 'clock';
}

export function isReasonCode(v: unknown): v is ReasonCode {
  return typeof v === 'string' && Object.hasOwn(REASONS, v);
}
