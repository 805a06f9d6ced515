import { describe, expect, it } from 'vitest';
import { renderUpdateReport, reportOk } from '../../../../src/core/update/report.js';
import type { UpdateReport, UpdateRow, Updated } from '../../../../src/core/update/types.js';

const row = (updated: Updated, over: Partial<UpdateRow> = {}): UpdateRow => ({
  Unit: 'immich.service', Container: 'abc', ContainerName: 'immich-server-1', ContainerID: '0123456789abcdef', Image: 'ghcr.io/immich-app/immich-server:release',
  Policy: 'registry', Updated: updated, stack: 'immich', service: 'server', ...over,
});

describe('reportOk', () => {
  it.each<[Updated[], boolean]>([
    [['true', 'false', 'skipped', 'pending'], true],
    [['true', 'failed'], false],
    [['rolled back'], false],
    [[], true],
  ])('%j → %s', (updated, ok) => {
    expect(reportOk(updated.map((u) => row(u)))).toBe(ok);
  });
});

describe('renderUpdateReport', () => {
  it('is a table in podman auto-update columns plus a reason, then a summary', () => {
    const report: UpdateReport = {
      ok: false, dryRun: false, startedAt: '', finishedAt: '', rateLimited: ['docker.io'],
      rows: [row('true'), row('rolled back', { service: 'ml', ContainerName: 'immich-ml-1', Reason: 'still starting after 65s\nmore' })],
    };
    const lines = renderUpdateReport(report);
    expect(lines[0]).toMatch(/^UNIT\s+CONTAINER\s+IMAGE\s+POLICY\s+UPDATED\s+REASON$/);
    expect(lines[1]).toContain('0123456789ab (immich-server-1)');
    expect(lines[2]).toContain('rolled back');
    expect(lines[2]).toContain('still starting after 65s more');
    expect(lines[3]).toBe('update: FAILED; 1 true, 1 rolled back; rate-limited: docker.io');
  });
  it('says when nothing opts in', () => {
    expect(renderUpdateReport({ ok: true, dryRun: true, startedAt: '', finishedAt: '', rows: [], rateLimited: [] })[0]).toMatch(/no service opts into updates/);
  });
});
