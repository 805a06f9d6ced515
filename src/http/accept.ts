// Which of the two bodies a client asked for with its Accept header: JSON (the default) or one line of text.
// Just enough of RFC 9110's negotiation for two types: the most specific range that matches each type gives its
// weight (q); text only when text/plain weighs more than application/json, so `*/*` (curl's default), no header,
// or a tie keep JSON.

function weightOf(ranges: { type: string; q: number }[], type: string): number {
  const [major] = type.split('/');
  const exact = ranges.find((r) => r.type === type);
  if (exact) return exact.q;
  const group = ranges.find((r) => r.type === `${major}/*`);
  if (group) return group.q;
  return ranges.find((r) => r.type === '*/*')?.q ?? 0;
}

function parseRanges(accept: string): { type: string; q: number }[] {
  return accept.split(',').map((part) => {
    const [type = '', ...params] = part.split(';').map((p) => p.trim().toLowerCase());
    const qParam = params.find((p) => p.startsWith('q='));
    const q = qParam === undefined ? 1 : Number(qParam.slice(2));
    return { type, q: Number.isFinite(q) ? Math.min(1, Math.max(0, q)) : 0 };
  }).filter((r) => r.type !== '');
}

/** true when `accept` prefers text/plain over application/json. */
export function prefersText(accept: string | undefined): boolean {
  if (accept === undefined || accept.trim() === '') return false;
  const ranges = parseRanges(accept);
  const text = weightOf(ranges, 'text/plain');
  return text > 0 && text > weightOf(ranges, 'application/json');
}
