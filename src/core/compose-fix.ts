// `stackctl fix`: the mechanical edits `check` asks for, planned on a compose file's text. The yaml package's
// Document API finds the nodes (services, labels, image, version) and their exact source ranges; the edit is
// then a splice of the original text at those ranges, so everything outside the edited lines (comments, key
// order, quoting, anchors, blank lines, indentation, long lines) stays byte-identical. Re-serialising the
// Document (doc.toString()) would not: it re-indents sequences and re-folds long lines. As a guard, the
// result is parsed again and must equal the original model with exactly the intended changes applied;
// otherwise the file is left alone and the service is reported for a fix by hand.
import { isAlias, isMap, isScalar, isSeq, parseDocument, Scalar } from 'yaml';
import type { Document, Node, Pair, YAMLMap, YAMLSeq } from 'yaml';
import { qualifiedImageRef } from './image-ref.js';
import { UNIT_LABEL } from './preflight.js';

export type FixEdit =
  | { kind: 'unit-label'; service: string; unit: string; action: 'add' | 'change' | 'create-labels'; found?: string; anchor?: string }
  | { kind: 'remove-version'; version: string }
  | { kind: 'qualify-image'; service: string; from: string; to: string };

export interface FileFixRequest {
  /** services whose labels must name `unit` (from check's label-invariant violations) */
  unitLabelServices: readonly string[];
  unit: string;
  removeVersion: boolean;
  qualifyImages: boolean;
}

export interface FileFix {
  after: string;
  edits: FixEdit[];
  /** what was asked but could not be done mechanically here, each a sentence naming the service and why */
  manual: string[];
}

interface Splice {
  at: number;
  end: number;
  text: string;
}

interface Ctx {
  text: string;
  doc: Document.Parsed;
  eol: string;
  splices: Splice[];
  edits: FixEdit[];
  manual: string[];
  /** the model the result must parse to: the original with the intended changes applied */
  expected: Record<string, unknown>;
  /** labels nodes already edited (a shared anchor is edited once) */
  touched: Set<Node>;
}

const PARSE_OPTIONS = { merge: true, uniqueKeys: true } as const;

/** The edits one file needs; `after` equals the text when there are none. */
export function planFileFix(text: string, req: FileFixRequest): FileFix {
  const doc = parseOne(text);
  if (doc === undefined) {
    const asked = req.unitLabelServices.length > 0;
    return { after: text, edits: [], manual: asked ? [`the file is not a single valid YAML document; add \`${UNIT_LABEL}: ${req.unit}\` by hand`] : [] };
  }
  const expected = doc.toJS() as unknown;
  if (!isRecord(expected)) return { after: text, edits: [], manual: [] };
  const ctx: Ctx = {
    text, doc, eol: text.includes('\r\n') ? '\r\n' : '\n', splices: [], edits: [], manual: [], expected: structuredClone(expected), touched: new Set(),
  };
  for (const service of req.unitLabelServices) unitLabel(ctx, service, req.unit);
  if (req.removeVersion) removeVersion(ctx);
  if (req.qualifyImages) qualifyImages(ctx);
  if (ctx.splices.length === 0) return { after: text, edits: [], manual: ctx.manual };
  const after = applySplices(text, ctx.splices);
  const check = parseOne(after);
  if (check === undefined || canonical(check.toJS()) !== canonical(ctx.expected)) {
    // never hand back an edit whose meaning is not exactly the intended one
    return {
      after: text, edits: [],
      manual: [...ctx.manual, `the planned edit did not give the intended model (${ctx.edits.map(describeEdit).join('; ')}); make these changes by hand, and please report this file`],
    };
  }
  return { after, edits: ctx.edits, manual: ctx.manual };
}

export function describeEdit(e: FixEdit): string {
  switch (e.kind) {
    case 'unit-label': {
      const where = e.anchor ? ` (in the labels shared through &${e.anchor})` : '';
      if (e.action === 'change') return `service "${e.service}": ${UNIT_LABEL} ${e.found ?? ''} → ${e.unit}${where}`;
      if (e.action === 'create-labels') return `service "${e.service}": new \`labels:\` with ${UNIT_LABEL}=${e.unit}`;
      return `service "${e.service}": add ${UNIT_LABEL}=${e.unit}${where}`;
    }
    case 'remove-version':
      return `remove the obsolete top-level \`version: "${e.version}"\``;
    case 'qualify-image':
      return `service "${e.service}": image ${e.from} → ${e.to}`;
  }
}

// ---------------------------------------------------------------------------------------------------------------

function unitLabel(ctx: Ctx, service: string, unit: string): void {
  const svc = serviceNode(ctx.doc, service);
  const model = ctx.expected['services'];
  const svcModel = isRecord(model) ? model[service] : undefined;
  if (svc === undefined || !isRecord(svcModel)) {
    ctx.manual.push(`service "${service}" is not defined as a mapping in this file; add \`${UNIT_LABEL}: ${unit}\` to its labels by hand`);
    return;
  }
  const labelsPair = pairOf(svc, 'labels');
  if (labelsPair === undefined || isEmptyNull(labelsPair.value)) {
    createLabels(ctx, svc, labelsPair, service, unit);
    svcModel['labels'] = { [UNIT_LABEL]: unit };
    return;
  }
  const anchor = isAlias(labelsPair.value) ? labelsPair.value.source : undefined;
  const labels = resolve(ctx.doc, labelsPair.value);
  const labelsModel = svcModel['labels'];
  if (isMap(labels) && isRecord(labelsModel)) {
    if (!ctx.touched.has(labels)) mapLabel(ctx, labels, service, unit, anchor);
    labelsModel[UNIT_LABEL] = unit;
  } else if (isSeq(labels) && Array.isArray(labelsModel)) {
    if (!ctx.touched.has(labels)) seqLabel(ctx, labels, service, unit, anchor);
    const i = labelsModel.findIndex((v) => typeof v === 'string' && labelKey(v) === UNIT_LABEL);
    if (i >= 0) labelsModel[i] = `${UNIT_LABEL}=${unit}`;
    else labelsModel.push(`${UNIT_LABEL}=${unit}`);
  } else {
    ctx.manual.push(`service "${service}": its labels are neither a mapping nor a list here; add \`${UNIT_LABEL}: ${unit}\` by hand`);
  }
}

function mapLabel(ctx: Ctx, labels: YAMLMap, service: string, unit: string, anchor: string | undefined): void {
  ctx.touched.add(labels);
  const existing = pairOf(labels, UNIT_LABEL);
  const base = { kind: 'unit-label' as const, service, unit, ...(anchor ? { anchor } : {}) };
  if (existing && isScalar(existing.value) && existing.value.range) {
    const v = existing.value;
    ctx.splices.push({ at: v.range![0], end: v.range![1], text: scalarText(unit, v.type) });
    ctx.edits.push({ ...base, action: 'change', found: String(v.value) });
    return;
  }
  if (existing) {
    ctx.manual.push(`service "${service}": its ${UNIT_LABEL} label is not a plain value; set it to ${unit} by hand`);
    return;
  }
  const first = labels.items[0];
  const keyStyle = isScalar(first?.key) ? first.key.type : undefined;
  const valueStyle = isScalar(first?.value) ? first.value.type : undefined;
  const entry = `${scalarText(UNIT_LABEL, keyStyle)}: ${scalarText(unit, valueStyle)}`;
  addToCollection(ctx, labels, entry, (node) => node.key);
  ctx.edits.push({ ...base, action: 'add' });
}

function seqLabel(ctx: Ctx, labels: YAMLSeq, service: string, unit: string, anchor: string | undefined): void {
  ctx.touched.add(labels);
  const base = { kind: 'unit-label' as const, service, unit, ...(anchor ? { anchor } : {}) };
  const existing = labels.items.find((i): i is Scalar => isScalar(i) && typeof i.value === 'string' && labelKey(i.value) === UNIT_LABEL);
  if (existing?.range) {
    ctx.splices.push({ at: existing.range[0], end: existing.range[1], text: scalarText(`${UNIT_LABEL}=${unit}`, existing.type) });
    const value = String(existing.value);
    ctx.edits.push({ ...base, action: 'change', found: value.slice(value.indexOf('=') + 1) });
    return;
  }
  const first = labels.items[0];
  addToCollection(ctx, labels, scalarText(`${UNIT_LABEL}=${unit}`, isScalar(first) ? first.type : undefined), (node) => node);
  ctx.edits.push({ ...base, action: 'add' });
}

/**
 * Appends an entry to a mapping or list, in its own style: flow (`{ a: b }`, `[a=b]`) gets `, entry`; block
 * gets a new line at the first entry's column. `startOf` gives the node whose start marks an entry's column.
 */
function addToCollection<T extends YAMLMap | YAMLSeq>(
  ctx: Ctx, node: T, entry: string, startOf: (item: T['items'][number]) => unknown,
): void {
  const items = node.items as T['items'][number][];
  const last = items[items.length - 1];
  if (node.flow || last === undefined) {
    const range = node.range;
    if (last === undefined && range) {
      // `{}` / `[]`: the whole empty collection becomes one with the entry, still flow
      const open = ctx.text[range[0]] === '[' ? '[' : '{';
      const text = open === '[' ? `[${entry}]` : `{ ${entry} }`;
      ctx.splices.push({ at: range[0], end: range[1], text });
      return;
    }
    const end = endOf(last);
    if (end !== undefined) ctx.splices.push({ at: end, end: end, text: `, ${entry}` });
    return;
  }
  const firstStart = startPos(startOf(items[0]!));
  const end = endOf(last);
  if (firstStart === undefined || end === undefined) return;
  let col = column(ctx.text, firstStart);
  let prefix = '';
  if (isSeq(node)) {
    // the entry column of a list is its dash: `- a=b`, found before the first item on its line
    const dash = ctx.text.lastIndexOf('-', firstStart);
    col = column(ctx.text, dash);
    prefix = '- ';
  }
  insertLine(ctx, end, `${' '.repeat(col)}${prefix}${entry}`);
}

function createLabels(ctx: Ctx, svc: YAMLMap, labelsPair: Pair | undefined, service: string, unit: string): void {
  ctx.edits.push({ kind: 'unit-label', service, unit, action: 'create-labels' });
  const entry = `${UNIT_LABEL}: ${unit}`;
  if (labelsPair !== undefined) {
    // `labels:` with nothing (or an explicit null) after it
    const value = labelsPair.value as Scalar | null;
    const keyStart = startPos(labelsPair.key);
    if (value?.range && value.range[1] > value.range[0]) {
      ctx.splices.push({ at: value.range[0], end: value.range[1], text: `{ ${entry} }` });
    } else if (keyStart !== undefined) {
      const step = indentStep(ctx, svc);
      insertLine(ctx, keyStart, `${' '.repeat(column(ctx.text, keyStart) + step)}${entry}`);
    }
    return;
  }
  const first = svc.items[0];
  const last = svc.items[svc.items.length - 1];
  if (svc.flow || first === undefined || last === undefined) {
    addToCollection(ctx, svc, `labels: { ${entry} }`, (p) => p.key);
    return;
  }
  const keyStart = startPos(first.key);
  const end = endOf(last);
  if (keyStart === undefined || end === undefined) return;
  const col = column(ctx.text, keyStart);
  insertLine(ctx, end, `${' '.repeat(col)}labels:${ctx.eol}${' '.repeat(col + indentStep(ctx, svc))}${entry}`);
}

/** The file's indentation step, from how far a service's keys sit right of the service name (default 2). */
function indentStep(ctx: Ctx, svc: YAMLMap): number {
  const services = pairOf(ctx.doc.contents as YAMLMap, 'services');
  const svcPair = isMap(services?.value) ? services.value.items.find((p) => p.value === svc) : undefined;
  const outer = startPos(svcPair?.key);
  const inner = startPos(svc.items[0]?.key);
  if (outer === undefined || inner === undefined) return 2;
  const step = column(ctx.text, inner) - column(ctx.text, outer);
  return step > 0 ? step : 2;
}

function removeVersion(ctx: Ctx): void {
  const top = ctx.doc.contents;
  if (!isMap(top)) return;
  const pair = pairOf(top, 'version');
  if (pair === undefined) return;
  const keyStart = startPos(pair.key);
  const end = endOf(pair);
  if (top.flow || keyStart === undefined || end === undefined) {
    ctx.manual.push('the top-level `version:` is not on lines of its own; delete it by hand');
    return;
  }
  const lineStart = ctx.text.lastIndexOf('\n', keyStart - 1) + 1;
  let lineEnd = afterLine(ctx.text, end).at;
  // a version line that opened the file, or sat between blank lines, takes one blank line after it along
  const before = ctx.text.slice(0, lineStart);
  const blankBefore = lineStart === 0 || /\n[ \t]*\r?\n$/.test(before) || /^[ \t]*\r?\n$/.test(before);
  const next = /^[ \t]*\r?\n/.exec(ctx.text.slice(lineEnd));
  if (blankBefore && next) lineEnd += next[0].length;
  ctx.splices.push({ at: lineStart, end: lineEnd, text: '' });
  ctx.edits.push({ kind: 'remove-version', version: String(isScalar(pair.value) ? pair.value.value : '') });
  delete ctx.expected['version'];
}

function qualifyImages(ctx: Ctx): void {
  const services = isMap(ctx.doc.contents) ? resolve(ctx.doc, pairOf(ctx.doc.contents, 'services')?.value) : undefined;
  const model = ctx.expected['services'];
  if (!isMap(services) || !isRecord(model)) return;
  for (const p of services.items) {
    const name = isScalar(p.key) ? String(p.key.value) : undefined;
    const svcModel = name !== undefined ? model[name] : undefined;
    if (name === undefined || !isMap(p.value) || !isRecord(svcModel)) continue;
    const image = pairOf(p.value, 'image')?.value;
    if (!isScalar(image) || typeof image.value !== 'string' || !image.range) continue;
    const to = qualifiedImageRef(image.value);
    if (to === undefined) continue;
    ctx.splices.push({ at: image.range[0], end: image.range[1], text: scalarText(to, image.type) });
    ctx.edits.push({ kind: 'qualify-image', service: name, from: image.value, to });
    svcModel['image'] = to;
  }
}

// ---------------------------------------------------------------------------------------------------------------

function parseOne(text: string): Document.Parsed | undefined {
  let doc: Document.Parsed;
  try {
    doc = parseDocument(text, PARSE_OPTIONS);
  } catch {
    return undefined;
  }
  return doc.errors.length > 0 ? undefined : doc;
}

function serviceNode(doc: Document.Parsed, service: string): YAMLMap | undefined {
  if (!isMap(doc.contents)) return undefined;
  const services = resolve(doc, pairOf(doc.contents, 'services')?.value);
  if (!isMap(services)) return undefined;
  const svc = pairOf(services, service)?.value;
  return isMap(svc) ? svc : undefined;
}

function pairOf(map: YAMLMap, key: string): Pair | undefined {
  return map.items.find((p) => isScalar(p.key) && String(p.key.value) === key);
}

function resolve(doc: Document.Parsed, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function isEmptyNull(node: unknown): boolean {
  return node === null || (isScalar(node) && node.value === null);
}

function labelKey(item: string): string {
  const eq = item.indexOf('=');
  return eq < 0 ? item : item.slice(0, eq);
}

/** A value written in the given scalar style; a plain one is quoted when YAML would read it otherwise. */
function scalarText(value: string, style: string | undefined): string {
  if (style === Scalar.QUOTE_SINGLE) return `'${value.replaceAll("'", "''")}'`;
  if (style === Scalar.QUOTE_DOUBLE || !/^[A-Za-z0-9_./@=-][A-Za-z0-9_./@=:-]*$/.test(value)) return JSON.stringify(value);
  return value;
}

function startPos(node: unknown): number | undefined {
  return isNodeWithRange(node) ? node.range[0] : undefined;
}

/** Where an entry's value (or a pair's) ends in the source: after its last character, before any comment. */
function endOf(item: unknown): number | undefined {
  if (isNodeWithRange(item)) return item.range[1];
  if (typeof item === 'object' && item !== null && 'value' in item && 'key' in item) return endOf(item.value) ?? endOf(item.key);
  return undefined;
}

function isNodeWithRange(node: unknown): node is { range: [number, number, number] } {
  return typeof node === 'object' && node !== null && 'range' in node && Array.isArray(node.range);
}

function column(text: string, pos: number): number {
  return pos - (text.lastIndexOf('\n', pos - 1) + 1);
}

/** The start of the line after the one `pos` is on (a block collection's range already ends there). */
function afterLine(text: string, pos: number): { at: number; newline: boolean } {
  if (pos > 0 && text[pos - 1] === '\n') return { at: pos, newline: false };
  const nl = text.indexOf('\n', pos);
  return nl < 0 ? { at: text.length, newline: true } : { at: nl + 1, newline: false };
}

function insertLine(ctx: Ctx, pos: number, line: string): void {
  const { at, newline } = afterLine(ctx.text, pos);
  ctx.splices.push({ at, end: at, text: newline ? `${ctx.eol}${line}${ctx.eol}` : `${line}${ctx.eol}` });
}

function applySplices(text: string, splices: readonly Splice[]): string {
  // from the end, so earlier offsets stay valid; insertions at the same point keep their planned order
  const ordered = splices.map((s, i) => ({ s, i })).sort((a, b) => b.s.at - a.s.at || b.i - a.i);
  let out = text;
  for (const { s } of ordered) out = out.slice(0, s.at) + s.text + out.slice(s.end);
  return out;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** JSON with sorted keys: two models compare equal whatever their key order. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, value: unknown) =>
    isRecord(value) ? Object.fromEntries(Object.keys(value).sort().map((k) => [k, value[k]])) : value);
}
