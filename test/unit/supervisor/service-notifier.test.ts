// ServiceNotifier on vi's fake clock against a recording fake of the service manager port: READY=1 only once
// readiness holds (and once), WATCHDOG=1 on its interval and never piled up, STOPPING=1 only after READY=1.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ServiceManagerPort } from '../../../src/supervisor/ports.js';
import { ServiceNotifier } from '../../../src/supervisor/service-notifier.js';
import { silentLogger } from './fakes.js';

class FakeManager implements ServiceManagerPort {
  sent: string[] = [];
  /** a watchdog message that has not been answered yet holds the next ones back */
  hold?: Promise<void>;
  failReady = 0;
  ready(): Promise<void> {
    if (this.failReady-- > 0) return Promise.reject(new Error('systemd-notify exited with 1'));
    this.sent.push('READY=1');
    return Promise.resolve();
  }
  watchdog(): Promise<void> {
    this.sent.push('WATCHDOG=1');
    return this.hold ?? Promise.resolve();
  }
  stopping(): Promise<void> {
    this.sent.push('STOPPING=1');
    return Promise.resolve();
  }
}

let manager: FakeManager;
beforeEach(() => {
  vi.useFakeTimers();
  manager = new FakeManager();
});
afterEach(() => vi.useRealTimers());

describe('ServiceNotifier', () => {
  it('sends READY=1 only once podman answers, asking again every retryMs meanwhile', async () => {
    let answers = false;
    let asked = 0;
    const n = new ServiceNotifier({ manager, logger: silentLogger, retryMs: 1000, isReady: () => { asked++; return Promise.resolve(answers); } });
    n.announceWhenReady();
    await vi.advanceTimersByTimeAsync(2500);
    expect(manager.sent).toEqual([]);
    expect(asked).toBe(3);
    answers = true;
    await vi.advanceTimersByTimeAsync(1000);
    expect(manager.sent).toEqual(['READY=1']);
    await vi.advanceTimersByTimeAsync(5000);
    n.announceWhenReady();
    await vi.advanceTimersByTimeAsync(5000);
    expect(manager.sent).toEqual(['READY=1']);
    n.close();
  });

  it('a failed READY=1 is sent again', async () => {
    manager.failReady = 1;
    const n = new ServiceNotifier({ manager, logger: silentLogger, retryMs: 1000, isReady: () => Promise.resolve(true) });
    n.announceWhenReady();
    await vi.advanceTimersByTimeAsync(0);
    expect(manager.sent).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(manager.sent).toEqual(['READY=1']);
    n.close();
  });

  it('feeds the watchdog on its interval from start, before READY=1, and while stopping; close() ends it', async () => {
    const n = new ServiceNotifier({ manager, watchdogEveryMs: 15_000, logger: silentLogger, isReady: () => Promise.resolve(false) });
    n.startWatchdog();
    await vi.advanceTimersByTimeAsync(45_000);
    expect(manager.sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'WATCHDOG=1']);
    await n.stop();
    await vi.advanceTimersByTimeAsync(15_000);
    expect(manager.sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(4);
    n.close();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(manager.sent.filter((m) => m === 'WATCHDOG=1')).toHaveLength(4);
  });

  it('does not pile watchdog messages on one that has not come back', async () => {
    let release: () => void = () => undefined;
    manager.hold = new Promise((r) => { release = r; });
    const n = new ServiceNotifier({ manager, watchdogEveryMs: 1000, logger: silentLogger, isReady: () => Promise.resolve(true) });
    n.startWatchdog();
    await vi.advanceTimersByTimeAsync(5000);
    expect(manager.sent).toEqual(['WATCHDOG=1']);
    release();
    manager.hold = undefined;
    await vi.advanceTimersByTimeAsync(1000);
    expect(manager.sent).toEqual(['WATCHDOG=1', 'WATCHDOG=1']);
    n.close();
  });

  it('STOPPING=1 only after READY=1 went out', async () => {
    const early = new ServiceNotifier({ manager, logger: silentLogger, isReady: () => Promise.resolve(false) });
    early.announceWhenReady();
    await early.stop();
    expect(manager.sent).toEqual([]);
    const n = new ServiceNotifier({ manager, logger: silentLogger, isReady: () => Promise.resolve(true) });
    n.announceWhenReady();
    await vi.advanceTimersByTimeAsync(0);
    await n.stop();
    expect(manager.sent).toEqual(['READY=1', 'STOPPING=1']);
  });

  it('without a service manager: nothing at all, and no timers', async () => {
    let asked = 0;
    const n = new ServiceNotifier({ watchdogEveryMs: 1000, logger: silentLogger, isReady: () => { asked++; return Promise.resolve(true); } });
    n.startWatchdog();
    n.announceWhenReady();
    expect(vi.getTimerCount()).toBe(0);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(asked).toBe(0);
    await n.stop();
  });
});
