// One podman request's abort wiring. dockerode takes a single `abortSignal` per request and has no per-request
// timeout (docker-modem's `timeout` is one number for the whole client, and it would also cut the events stream
// that may be silent for hours), so each request gets its own signal that fires on the caller's abort OR when the
// countdown runs out. The countdown is re-armed by the caller: to the response headers, then between body chunks.
// Afterwards the request's error is judged by WHY the signal fired, not by what the socket said.

export class Lifeline {
  private readonly ac = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private expiredMs = 0;
  private ended = false;

  constructor(private readonly caller?: AbortSignal, private readonly onEnd?: () => void) {
    if (caller?.aborted) this.ac.abort(caller.reason);
    else caller?.addEventListener('abort', this.follow, { once: true });
  }

  /** what docker-modem gets as `abortSignal` */
  get signal(): AbortSignal {
    return this.ac.signal;
  }

  /** the countdown (ms) that ran out, or 0 when none did */
  get timedOutAfter(): number {
    return this.expiredMs;
  }

  /** true when the caller's own signal ended the request (and no countdown did first) */
  get abortedByCaller(): boolean {
    return this.expiredMs === 0 && this.caller?.aborted === true;
  }

  /** the caller's abort reason (an AbortError DOMException unless they gave their own) */
  get callerReason(): unknown {
    return this.caller?.reason;
  }

  /** (Re)starts the countdown; 0 stops it (a stream that may stay quiet). */
  countdown(ms: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (ms <= 0 || this.ended) return;
    this.timer = setTimeout(() => {
      this.expiredMs = ms;
      this.ac.abort(new Error(`no answer from podman within ${ms} ms`));
    }, ms);
  }

  /**
   * Settles with `work`, or rejects as soon as the signal fires. docker-modem does not always call back once its
   * request is destroyed (a buffered answer cut after its headers never reaches the callback), so we never wait
   * on it past our own signal.
   */
  race<T>(work: Promise<T>): Promise<T> {
    const signal = this.ac.signal;
    if (signal.aborted) {
      work.catch(() => undefined);
      return Promise.reject(signal.reason);
    }
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(signal.reason);
      signal.addEventListener('abort', onAbort, { once: true });
      work.then(
        (v) => { signal.removeEventListener('abort', onAbort); resolve(v); },
        (e: unknown) => { signal.removeEventListener('abort', onAbort); reject(e); },
      );
    });
  }

  /** The request is over: no countdown, no listener left on the caller's (possibly long-lived) signal. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.caller?.removeEventListener('abort', this.follow);
    this.onEnd?.();
  }

  private readonly follow = (): void => {
    this.ac.abort(this.caller?.reason);
  };
}
