// The update report in podman auto-update's vocabulary (the owner's habits carry over): Unit, Container,
// ContainerName, ContainerID, Image, Policy, Updated — plus a Reason column podman does not have.
import type { UpdateReport, UpdateRow } from './types.js';

/** A run failed when any row failed or was rolled back (stackctl update exits non-zero then). */
export function reportOk(rows: readonly UpdateRow[]): boolean {
  return !rows.some((r) => r.Updated === 'failed' || r.Updated === 'rolled back');
}

/**
 * The row as an operator may see it: image references come from the compose model, which compose interpolated
 * from env files (`image: registry/${APP}:${TAG}`), and reasons quote them (registry and podman errors), so
 * both pass the stack's redactor; so do the container columns, which podman names from the same model.
 */
export function redactUpdateRow(row: UpdateRow, redact: (text: string) => string): UpdateRow {
  const out: UpdateRow = { ...row, Image: redact(row.Image), Container: redact(row.Container), ContainerName: redact(row.ContainerName) };
  if (row.Reason !== undefined) out.Reason = redact(row.Reason);
  return out;
}

const COLUMNS: { title: string; cell: (r: UpdateRow) => string }[] = [
  { title: 'UNIT', cell: (r) => r.Unit },
  { title: 'CONTAINER', cell: (r) => (r.ContainerID ? `${r.ContainerID.slice(0, 12)} (${r.ContainerName})` : r.ContainerName || `(${r.service})`) },
  { title: 'IMAGE', cell: (r) => r.Image },
  { title: 'POLICY', cell: (r) => r.Policy },
  { title: 'UPDATED', cell: (r) => r.Updated },
  { title: 'REASON', cell: (r) => r.Reason ?? '' },
];

/** The table stackctl prints; one line per row, then a summary line. */
export function renderUpdateReport(report: UpdateReport): string[] {
  if (report.rows.length === 0) {
    return ['no service opts into updates (label io.containers.autoupdate=registry or local)'];
  }
  const cells = report.rows.map((r) => COLUMNS.map((c) => oneLine(c.cell(r))));
  const widths = COLUMNS.map((c, i) => Math.max(c.title.length, ...cells.map((row) => row[i]?.length ?? 0)));
  const line = (values: string[]) => values.map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] ?? 0))).join('  ').trimEnd();
  const counts = new Map<string, number>();
  for (const r of report.rows) counts.set(r.Updated, (counts.get(r.Updated) ?? 0) + 1);
  const summary = [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
  return [
    line(COLUMNS.map((c) => c.title)),
    ...cells.map(line),
    `${report.dryRun ? 'dry run' : 'update'}: ${report.ok ? 'ok' : 'FAILED'}; ${summary}` +
      (report.rateLimited.length ? `; rate-limited: ${report.rateLimited.join(', ')}` : ''),
  ];
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
