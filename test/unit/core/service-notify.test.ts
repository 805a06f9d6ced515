import { describe, expect, it } from 'vitest';
import { serviceNotifyPlan } from '../../../src/core/service-notify.js';

describe('serviceNotifyPlan', () => {
  it.each<[string, Record<string, string>, ReturnType<typeof serviceNotifyPlan>]>([
    ['not started by systemd', {}, {}],
    ['a notification socket, no watchdog', { NOTIFY_SOCKET: '/run/user/1000/systemd/notify' }, { socket: '/run/user/1000/systemd/notify' }],
    ['an abstract socket', { NOTIFY_SOCKET: '@/org/freedesktop/systemd1/notify/123' }, { socket: '@/org/freedesktop/systemd1/notify/123' }],
    ['WatchdogSec=30s: every 15 s', { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, { socket: '/n', watchdogEveryMs: 15_000 }],
    ['no WATCHDOG_PID still counts', { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '4000000' }, { socket: '/n', watchdogEveryMs: 2_000 }],
    ['inherited from another process', { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30000000', WATCHDOG_PID: '7' }, { socket: '/n' }],
    ['a watchdog without a socket: nobody to tell', { WATCHDOG_USEC: '30000000', WATCHDOG_PID: '42' }, {}],
    ['garbage interval', { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '30s' }, { socket: '/n' }],
    ['zero interval', { NOTIFY_SOCKET: '/n', WATCHDOG_USEC: '0' }, { socket: '/n' }],
    ['a relative socket path is not systemd\'s', { NOTIFY_SOCKET: 'notify', WATCHDOG_USEC: '30000000' }, {}],
  ])('%s', (_what, env, plan) => {
    expect(serviceNotifyPlan(env, 42)).toEqual(plan);
  });
});
