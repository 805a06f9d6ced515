// Counts how quickly podman starts answering compose's requests (the relay reports each one) until the queue
// takes the tally at the end of a reconcile; see core/adaptive-concurrency.ts.
import { isPaceSample, SLOW_ANSWER_MS, type PodmanPace } from '../core/adaptive-concurrency.js';

export class PaceMeter {
  private answers = 0;
  private slow = 0;

  record(url: string, ms: number): void {
    if (!isPaceSample(url)) return;
    this.answers++;
    if (ms > SLOW_ANSWER_MS) this.slow++;
  }

  /** The tally since the last take, and a fresh start. */
  take(): PodmanPace {
    const pace = { answers: this.answers, slow: this.slow };
    this.answers = 0;
    this.slow = 0;
    return pace;
  }
}
