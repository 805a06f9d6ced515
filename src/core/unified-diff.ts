// A unified diff (`diff -u` format, 3 lines of context) of two texts, for `stackctl fix` to show an edit
// before it is written. Compose files are a few hundred lines, so a plain LCS table is fast enough, and a
// pure function here avoids a dependency for one screenful of output.

export function unifiedDiff(path: string, before: string, after: string, context = 3): string {
  if (before === after) return '';
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = lcsOps(a, b);
  const hunks: string[] = [];
  let i = 0;
  while (i < ops.length) {
    if (ops[i]?.op === ' ') {
      i++;
      continue;
    }
    // one hunk: from `context` lines before this change to `context` lines after the last change near it
    let start = i;
    while (start > 0 && i - start < context && ops[start - 1]?.op === ' ') start--;
    let end = i;
    for (;;) {
      while (end < ops.length && ops[end]?.op !== ' ') end++;
      let gap = end;
      while (gap < ops.length && ops[gap]?.op === ' ') gap++;
      if (gap < ops.length && gap - end <= 2 * context) end = gap;
      else {
        end = Math.min(end + context, ops.length);
        break;
      }
    }
    const slice = ops.slice(start, end);
    const first = ops[start];
    const aStart = (first?.ai ?? 0) + 1;
    const bStart = (first?.bi ?? 0) + 1;
    const aLen = slice.filter((o) => o.op !== '+').length;
    const bLen = slice.filter((o) => o.op !== '-').length;
    hunks.push(`@@ -${range(aStart, aLen)} +${range(bStart, bLen)} @@`);
    for (const o of slice) hunks.push(`${o.op}${o.line}`);
    i = end;
  }
  return `--- ${path}\n+++ ${path}\n${hunks.join('\n')}\n`;
}

interface Op {
  op: ' ' | '-' | '+';
  line: string;
  /** index in a of this line (or where it would be) */
  ai: number;
  bi: number;
}

function range(start: number, len: number): string {
  // diff -u writes an empty range as the line before it
  return len === 1 ? `${start}` : `${len === 0 ? start - 1 : start},${len}`;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}

function lcsOps(a: readonly string[], b: readonly string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // table[i][j]: length of the LCS of a[i..] and b[j..]
  const table: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) {
    const row = table[i] as Uint32Array;
    const next = table[i + 1] as Uint32Array;
    for (let j = m - 1; j >= 0; j--) row[j] = a[i] === b[j] ? (next[j + 1] ?? 0) + 1 : Math.max(next[j] ?? 0, row[j + 1] ?? 0);
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) ops.push({ op: ' ', line: a[i++] as string, ai: i - 1, bi: j++ });
    else if (i < n && (j === m || (table[i + 1]?.[j] ?? 0) >= (table[i]?.[j + 1] ?? 0))) ops.push({ op: '-', line: a[i++] as string, ai: i - 1, bi: j });
    else ops.push({ op: '+', line: b[j++] as string, ai: i, bi: j - 1 });
  }
  return ops;
}
