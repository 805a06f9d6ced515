import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  generatedHeader, parseGeneratedFrom, planUnitChanges, quoteExecArg, renderStackUnit, renderUnitChanges, renderUnits,
  renderUpdateUnits, systemdSpan, type UnitRenderOptions,
} from '../../../src/core/systemd-units.js';
import { MAX_ACTION_WAIT_MS } from '../../../src/http/schemas.js';

const SYSTEMD = join(import.meta.dirname, '../../../systemd');
const CONFIG = '/home/alice/.config/stackd/stackd.yaml';
const opts: UnitRenderOptions = {
  stackctl: ['/usr/local/bin/stackctl'], daemonUnit: 'stackd.service', configPath: CONFIG, upTimeoutMs: 15 * 60_000, stopTimeoutMs: 5 * 60_000,
};

/** The directives of a unit file: no comments, no blank lines. */
const directives = (text: string) => text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));

describe('quoteExecArg', () => {
  it.each<[string, string]>([
    ['/usr/bin/stackctl', '/usr/bin/stackctl'],
    ['immich', 'immich'],
    ['/srv/my stacks/x.sock', '"/srv/my stacks/x.sock"'],
    ['100%', '100%%'],
    ['$HOME', '$$HOME'],
    ['a"b', '"a\\"b"'],
    ['a\\b', '"a\\\\b"'],
    ['a;b', '"a;b"'],
    ['', '""'],
  ])('%j → %s', (arg, quoted) => {
    expect(quoteExecArg(arg)).toBe(quoted);
  });
});

describe('systemdSpan', () => {
  it.each<[number, string]>([[16 * 60_000, '16min'], [6 * 60_000, '6min'], [90_000, '90s'], [1500, '2s']])('%d ms → %s', (ms, span) => {
    expect(systemdSpan(ms)).toBe(span);
  });
});

describe('renderStackUnit', () => {
  it('is the shipped example-stack.service for stack "example", directive for directive (the curl form)', async () => {
    const shipped = directives(await readFile(join(SYSTEMD, 'example-stack.service'), 'utf8'));
    expect(directives(renderStackUnit({ name: 'example', unit: 'example.service' }, { ...opts, curl: '/usr/bin/curl' }).text)).toEqual(shipped);
  });

  const curl = '/usr/bin/curl --silent --show-error --fail-with-body --no-buffer';
  const accept = '-H "Accept: text/plain" -X POST';
  it.each<[string, Partial<UnitRenderOptions>, string[]]>([
    ['the default socket: stackd.socket\'s, %t unquoted (systemd expands it)', {}, [
      `ExecStart=${curl} --max-time 930 --unix-socket %t/stackd/stackd.sock ${accept} http://stackd/v1/stacks/immich/up?wait=900000`,
      `ExecReload=${curl} --max-time 930 --unix-socket %t/stackd/stackd.sock ${accept} http://stackd/v1/stacks/immich/up?wait=900000`,
      `ExecStop=${curl} --max-time 330 --unix-socket %t/stackd/stackd.sock ${accept} http://stackd/v1/stacks/immich/stop?wait=300000`,
      'TimeoutStartSec=16min', 'TimeoutStopSec=6min',
    ]],
    ['a socket with a space is quoted', { socket: '/run/user/1000/s d/api.sock' }, [
      `ExecStart=${curl} --max-time 930 --unix-socket "/run/user/1000/s d/api.sock" ${accept} http://stackd/v1/stacks/immich/up?wait=900000`,
    ]],
    ['% and $ in the socket are doubled (no specifier, no variable)', { socket: '/srv/100%$x/api.sock' }, [
      `ExecStop=${curl} --max-time 330 --unix-socket /srv/100%%$$x/api.sock ${accept} http://stackd/v1/stacks/immich/stop?wait=300000`,
    ]],
    ['a quote and a backslash in the socket, C-escaped in double quotes', { socket: '/srv/a"b\\c.sock' }, [
      `ExecStart=${curl} --max-time 930 --unix-socket "/srv/a\\"b\\\\c.sock" ${accept} http://stackd/v1/stacks/immich/up?wait=900000`,
    ]],
    ['a curl path with a space', { curl: '/opt/my tools/curl' }, [
      'ExecStart="/opt/my tools/curl" --silent --show-error --fail-with-body --no-buffer --max-time 930 --unix-socket %t/stackd/stackd.sock -H "Accept: text/plain" -X POST http://stackd/v1/stacks/immich/up?wait=900000',
    ]],
    ['other deadlines: the wait is the timeout, --max-time 30 s more, systemd a minute more', { upTimeoutMs: 30 * 60_000, stopTimeoutMs: 90_000 }, [
      `ExecStart=${curl} --max-time 1830 --unix-socket %t/stackd/stackd.sock ${accept} http://stackd/v1/stacks/immich/up?wait=1800000`,
      'TimeoutStartSec=31min',
      `ExecStop=${curl} --max-time 120 --unix-socket %t/stackd/stackd.sock ${accept} http://stackd/v1/stacks/immich/stop?wait=90000`,
      'TimeoutStopSec=150s',
    ]],
  ])('with curl: %s', (_what, extra, lines) => {
    const u = renderStackUnit({ name: 'immich', unit: 'immich-stack.service' }, { ...opts, curl: '/usr/bin/curl', ...extra });
    for (const l of lines) expect(directives(u.text)).toContain(l);
    expect(u.text).not.toContain('stackctl up');
    // the comment above the deadline tells the curl story, not stackctl's
    expect(u.text).toContain('# one curl asks stackd');
    expect(u.text).not.toContain('# stackctl gives up first');
  });

  it.each<[string, string, string]>([
    ['a-z, digits, "_" and "-" (every valid stack name) as they are', 'my_app-2', 'http://stackd/v1/stacks/my_app-2/up?wait=900000'],
    ['anything else percent-encoded, and the % doubled for systemd', 'a b%c/d', 'http://stackd/v1/stacks/a%%20b%%25c%%2Fd/up?wait=900000'],
  ])('the stack name in the URL: %s', (_what, name, url) => {
    const u = renderStackUnit({ name, unit: 'x.service' }, { ...opts, curl: '/usr/bin/curl' });
    expect(directives(u.text).find((l) => l.startsWith('ExecStart='))).toMatch(new RegExp(` ${url.replace(/[?%]/g, (c) => `\\${c}`)}$`));
  });

  it('refuses no wait stackd itself would take: the cap is the API\'s', () => {
    expect(() => renderStackUnit({ name: 'x', unit: 'x.service' }, { ...opts, curl: '/usr/bin/curl', upTimeoutMs: MAX_ACTION_WAIT_MS })).not.toThrow();
    expect(() => renderStackUnit({ name: 'x', unit: 'x.service' }, { ...opts, curl: '/usr/bin/curl', upTimeoutMs: MAX_ACTION_WAIT_MS + 1 })).toThrow(/from 1 to 3600000/);
  });

  it('a % in the stack name is doubled in Description= too (a specifier there as well)', () => {
    expect(directives(renderStackUnit({ name: '100%', unit: 'x.service' }, opts).text)).toContain('Description=compose stack "100%%", supervised by stackd');
  });

  it.each<[string, Partial<UnitRenderOptions>, string[]]>([
    ['the default', {}, [
      'ExecStart=/usr/local/bin/stackctl up immich --timeout 15m',
      'ExecReload=/usr/local/bin/stackctl up immich --timeout 15m',
      'ExecStop=/usr/local/bin/stackctl stop immich --timeout 5m',
      'TimeoutStartSec=16min', 'TimeoutStopSec=6min', 'Wants=stackd.service', 'After=stackd.service',
    ]],
    ['a socket and node + script', { stackctl: ['/usr/bin/node', '/opt/stackd/dist/cli/stackctl.js'], socket: '/run/user/1000/s d/api.sock' }, [
      'ExecStart=/usr/bin/node /opt/stackd/dist/cli/stackctl.js --socket "/run/user/1000/s d/api.sock" up immich --timeout 15m',
    ]],
    ['another daemon unit', { daemonUnit: 'stackd-test.service' }, ['Wants=stackd-test.service', 'After=stackd-test.service']],
    ['longer deadlines', { upTimeoutMs: 30 * 60_000, stopTimeoutMs: 90_000 }, [
      'ExecStart=/usr/local/bin/stackctl up immich --timeout 30m', 'TimeoutStartSec=31min',
      'ExecStop=/usr/local/bin/stackctl stop immich --timeout 90s', 'TimeoutStopSec=150s',
    ]],
  ])('%s', (_what, extra, lines) => {
    const u = renderStackUnit({ name: 'immich', unit: 'immich-stack.service' }, { ...opts, ...extra });
    expect(u.name).toBe('immich-stack.service');
    for (const l of lines) expect(directives(u.text)).toContain(l);
    // a thin trigger: nothing stronger than Wants=/After= on stackd
    expect(u.text).not.toMatch(/^(Requires|BindsTo|PartOf|Requisite)=/m);
    expect(parseGeneratedFrom(u.text)).toBe(CONFIG);
  });

  it.each<[string, Partial<UnitRenderOptions>, RegExp]>([
    ['a relative stackctl', { stackctl: ['stackctl'] }, /absolute path/],
    ['no stackctl', { stackctl: [] }, /absolute path/],
    ['a line break in the config path', { configPath: '/a\n[Service]' }, /line break/],
    ['a line break in the socket', { socket: '/a\nExecStartPre=/bin/rm' }, /line break/],
    ['a relative curl', { curl: 'curl' }, /curl: expected an absolute path/],
    ['a line break in the curl path', { curl: '/usr/bin/curl\nExecStartPre=/bin/rm' }, /line break/],
    ['with curl, a wait above stackd\'s cap of an hour', { curl: '/usr/bin/curl', upTimeoutMs: 3_600_001 }, /up timeout: expected whole milliseconds from 1 to 3600000/],
    ['with curl, a wait of 0 (stackd would answer 202 at once)', { curl: '/usr/bin/curl', stopTimeoutMs: 0 }, /stop timeout: expected whole milliseconds/],
    ['with curl, a fraction of a millisecond', { curl: '/usr/bin/curl', upTimeoutMs: 1.5 }, /up timeout: expected whole milliseconds/],
  ])('refuses %s', (_what, extra, message) => {
    expect(() => renderStackUnit({ name: 'x', unit: 'x.service' }, { ...opts, ...extra })).toThrow(message);
  });

  it('refuses a line break in the stack name', () => {
    expect(() => renderStackUnit({ name: 'x\n[Service]', unit: 'x.service' }, opts)).toThrow(/stack name: a line break/);
  });
});

describe('renderUpdateUnits', () => {
  it.each(['stackd-update.service', 'stackd-update.timer'])('%s is the shipped file, directive for directive', async (name) => {
    const shipped = directives(await readFile(join(SYSTEMD, name), 'utf8')).map((l) => l.replace(/=stackctl /, '=/usr/local/bin/stackctl '));
    const u = renderUpdateUnits(opts).find((x) => x.name === name);
    expect(directives(u?.text ?? '')).toEqual(shipped);
  });

  it('stackd-update.service runs stackctl even when the stack units use curl (it prints the update table)', () => {
    const service = renderUpdateUnits({ ...opts, curl: '/usr/bin/curl' }).find((x) => x.name === 'stackd-update.service');
    expect(directives(service?.text ?? '').filter((l) => l.startsWith('ExecStart='))).toEqual(['ExecStart=/usr/local/bin/stackctl update']);
  });
});

describe('the shipped update timer and service (issue: daily, RandomizedDelaySec=900, AccuracySec=1us, Persistent=true)', () => {
  it('the timer is daily with a 15-minute random delay, exact to the microsecond, and catches up after downtime', async () => {
    const timer = directives(await readFile(join(SYSTEMD, 'stackd-update.timer'), 'utf8'));
    expect(timer).toEqual(expect.arrayContaining(['[Timer]', 'OnCalendar=daily', 'RandomizedDelaySec=900', 'AccuracySec=1us', 'Persistent=true', 'WantedBy=timers.target']));
  });

  it('the service is a user oneshot running `stackctl update` (one run; a second request joins it)', async () => {
    const service = directives(await readFile(join(SYSTEMD, 'stackd-update.service'), 'utf8'));
    expect(service).toEqual(expect.arrayContaining(['Type=oneshot', 'ExecStart=stackctl update']));
    expect(service.filter((l) => l.startsWith('ExecStart'))).toEqual(['ExecStart=stackctl update']);
  });
});

describe('parseGeneratedFrom', () => {
  it.each<[string, string, string | undefined]>([
    ['the header', `${generatedHeader('/c.yaml')}\n[Unit]\n`, '/c.yaml'],
    ['a hand-written unit', '# my unit\n[Unit]\nDescription=x\n', undefined],
    ['the mark below the first section', '[Unit]\n# stackd-generated-from=/c.yaml\n', undefined],
    ['an empty file', '', undefined],
  ])('%s', (_what, text, from) => {
    expect(parseGeneratedFrom(text)).toBe(from);
  });
});

describe('planUnitChanges', () => {
  const desired = renderUnits([{ name: 'a', unit: 'a.service' }, { name: 'b', unit: 'b.service' }], opts);
  const text = (name: string) => desired.find((u) => u.name === name)?.text ?? '';
  const ours = (name: string) => renderStackUnit({ name: name.replace('.service', ''), unit: name }, opts).text;
  const actions = (existing: [string, string][]) =>
    planUnitChanges(desired, new Map(existing), CONFIG).map((c) => `${c.action} ${c.name}`);

  it.each<[string, [string, string][], string[]]>([
    ['an empty directory: everything created', [], [
      'create a.service', 'create b.service', 'create stackd-update.service', 'create stackd-update.timer',
    ]],
    ['all in place', desired.map((u) => [u.name, u.text]), [
      'unchanged a.service', 'unchanged b.service', 'unchanged stackd-update.service', 'unchanged stackd-update.timer',
    ]],
    ['an older generated text is updated; a stack that left the config is removed', [
      ['a.service', `${generatedHeader(CONFIG)}\n[Unit]\nDescription=old\n`], ['gone.service', ours('gone.service')],
      ['b.service', text('b.service')], ['stackd-update.service', text('stackd-update.service')], ['stackd-update.timer', text('stackd-update.timer')],
    ], ['update a.service', 'unchanged b.service', 'unchanged stackd-update.service', 'unchanged stackd-update.timer', 'remove gone.service']],
    ['a hand-written unit is neither overwritten nor removed', [
      ['a.service', '[Unit]\nDescription=mine\n'], ['other.service', '[Unit]\nDescription=mine too\n'],
    ], ['conflict a.service', 'create b.service', 'create stackd-update.service', 'create stackd-update.timer']],
    ['units generated from another config are not ours', [
      ['a.service', `${generatedHeader('/other.yaml')}\n[Unit]\n`], ['x.service', `${generatedHeader('/other.yaml')}\n[Unit]\n`],
    ], ['conflict a.service', 'create b.service', 'create stackd-update.service', 'create stackd-update.timer']],
    ['only .service and .timer files count', [['notes.txt', ours('notes.txt')]], [
      'create a.service', 'create b.service', 'create stackd-update.service', 'create stackd-update.timer',
    ]],
  ])('%s', (_what, existing, expected) => {
    expect(actions(existing)).toEqual(expected);
  });
});

describe('renderUnitChanges', () => {
  const changes = [
    { action: 'create' as const, name: 'a.service', text: '' },
    { action: 'create' as const, name: 'stackd-update.service', text: '' },
    { action: 'create' as const, name: 'stackd-update.timer', text: '' },
    { action: 'remove' as const, name: 'gone.service' },
    { action: 'unchanged' as const, name: 'b.service' },
    { action: 'conflict' as const, name: 'c.service' },
  ];

  it('says what changed, sums up the rest and names the next command', () => {
    expect(renderUnitChanges(changes, { dir: '/u', dryRun: false })).toEqual([
      'created /u/a.service',
      'created /u/stackd-update.service',
      'created /u/stackd-update.timer',
      'removed /u/gone.service (its stack is no longer configured)',
      'left alone /u/c.service: not written by stackctl units; move it away and run stackctl units again to replace it',
      '1 unit unchanged',
      'next: systemctl --user daemon-reload && systemctl --user enable --now a.service stackd-update.timer',
    ]);
  });

  it('a dry run says what it would do, and no next step', () => {
    expect(renderUnitChanges(changes.slice(0, 1), { dir: '/u', dryRun: true })).toEqual(['would create /u/a.service']);
  });

  it('nothing to do', () => {
    expect(renderUnitChanges([{ action: 'unchanged', name: 'a.service' }, { action: 'unchanged', name: 'b.service' }], { dir: '/u', dryRun: false }))
      .toEqual(['2 units unchanged']);
  });
});
