// The shipped Prometheus alert rules (config/prometheus/stackd-rules.yml), checked by Prometheus's own promtool:
// `promtool check rules` parses every expression and template, `promtool test rules` evaluates the rules on the
// input series of stackd-rules.test.yml and compares the firing alerts (labels and rendered annotations).
// promtool comes with Debian's prometheus/promtool packages, which test/lab/provision.sh installs (CI runs it
// first): without promtool these tests FAIL, they do not skip.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const RULES = 'config/prometheus/stackd-rules.yml';
const TESTS = 'config/prometheus/stackd-rules.test.yml';

const EXPECTED_ALERTS = [
  'StackdStackFailed', 'StackdStackDegraded', 'StackdDeployUnhealthy', 'StackdUpdateRolledBack', 'StackdUpdateFailed', 'StackdUpdatesStale',
  'StackdPodmanDown', 'StackdDown', 'StackdNotifierFailing', 'StackdPreflightViolation',
];

interface Rule {
  alert?: string;
  expr?: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface AlertTest {
  alertname: string;
  eval_time: string;
  exp_alerts?: unknown[];
}

function promtool(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { cwd: repoRoot, timeout: 60_000 }, (err, stdout, stderr) => {
      if (err && (err as NodeJS.ErrnoException).code === 'ENOENT') {
        reject(new Error(
          'promtool is not on PATH: run `bash test/lab/provision.sh` as root (it installs Debian\'s prometheus and promtool '
          + 'packages; .ci/run does so before the tests). These tests do not skip without it.',
        ));
        return;
      }
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const rulesDoc = parse(readFileSync(new URL(`../../${RULES}`, import.meta.url), 'utf8')) as { groups: { name: string; rules: Rule[] }[] };
const testsDoc = parse(readFileSync(new URL(`../../${TESTS}`, import.meta.url), 'utf8')) as { rule_files: string[]; tests: { alert_rule_test?: AlertTest[] }[] };

describe('promtool on the shipped alert rules', () => {
  it('promtool check rules: every rule parses', async () => {
    const r = await promtool(['check', 'rules', RULES]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${EXPECTED_ALERTS.length} rules found`);
  });

  it('promtool test rules: each alert fires on its input series, and not where it must not', async () => {
    const r = await promtool(['test', 'rules', TESTS]);
    expect(r.code, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/^\s+SUCCESS\s*$/m);
    expect(`${r.stdout}${r.stderr}`).not.toContain('FAILED');
  });
});

describe('the shape of the rules (what promtool does not check)', () => {
  const group = rulesDoc.groups.find((g) => g.name === 'stackd');
  const rules = group?.rules ?? [];

  it('one group "stackd" with exactly the documented alerts', () => {
    expect(rulesDoc.groups.map((g) => g.name)).toEqual(['stackd']);
    expect(rules.map((r) => r.alert)).toEqual(EXPECTED_ALERTS);
  });

  it.each(EXPECTED_ALERTS)('%s has for:, a severity and a summary and description that name what to run', (name) => {
    const rule = rules.find((r) => r.alert === name);
    expect(rule).toBeDefined();
    expect(rule?.for).toMatch(/^\d+[smhd]$/);
    expect(['critical', 'warning']).toContain(rule?.labels?.severity);
    expect(rule?.annotations?.summary).toBeTruthy();
    // a command to run on the host, in backquotes
    expect(rule?.annotations?.description).toMatch(/`(stackctl|systemctl|journalctl|podman) [^`]+`/);
    // only severity: every other label comes from the series, whose values stackd's config bounds
    expect(Object.keys(rule?.labels ?? {})).toEqual(['severity']);
    expect(rule?.expr).not.toMatch(/label_replace|label_join/);
  });

  it('the alerts about a stack name it, with the stackctl command for that stack', () => {
    const commands: Record<string, string> = {
      StackdStackFailed: 'stackctl status {{ $labels.stack }}',
      StackdStackDegraded: 'stackctl status {{ $labels.stack }}',
      StackdDeployUnhealthy: 'stackctl status {{ $labels.stack }}',
      StackdUpdateRolledBack: 'stackctl status {{ $labels.stack }}',
      StackdPreflightViolation: 'stackctl check {{ $labels.stack }}',
    };
    for (const [name, command] of Object.entries(commands)) {
      const rule = rules.find((r) => r.alert === name);
      expect(rule?.annotations?.summary, name).toContain('{{ $labels.stack }}');
      expect(rule?.annotations?.description, name).toContain(`\`${command}\``);
    }
  });

  it('the promtool tests cover every alert, each with a firing case and a not-firing case', () => {
    expect(testsDoc.rule_files).toEqual(['stackd-rules.yml']);
    const cases = testsDoc.tests.flatMap((t) => t.alert_rule_test ?? []);
    for (const name of EXPECTED_ALERTS) {
      const mine = cases.filter((c) => c.alertname === name);
      expect(mine.some((c) => (c.exp_alerts ?? []).length > 0), `${name}: a case where it fires`).toBe(true);
      expect(mine.some((c) => (c.exp_alerts ?? []).length === 0), `${name}: a case where it must not fire`).toBe(true);
    }
  });
});
