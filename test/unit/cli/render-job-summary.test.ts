import { describe, expect, it } from 'vitest';
import { renderVerdict } from '../../../src/cli/render.js';
import type { Job } from '../../../src/supervisor/api.js';

describe('renderVerdict of a failed check/gc job', () => {
  const job = (over: Partial<Job>): Job => ({ id: 'j1', kind: 'check', status: 'failed', createdAt: '2026-02-13T00:00:00Z', ...over });
  it.each([
    [{ output: { lines: [], summary: 'check: FAILED (1 stack with violations or errors); 1 violations' } }, 'check: failed: check: FAILED (1 stack with violations or errors); 1 violations'],
    [{ error: 'podman unreachable', output: { summary: 'x' } }, 'check: failed: podman unreachable'],
    [{ output: { lines: [] } }, 'check: failed: no reason given'],
    [{ output: { summary: 42 } }, 'check: failed: no reason given'],
  ])('%j → %s', (over, text) => {
    expect(renderVerdict(job(over))).toBe(text);
  });
});
