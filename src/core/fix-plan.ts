// `stackctl fix`: the mechanical edits of one compose file, planned as text splices. parseDocument finds the
// nodes and their source ranges; the edit then replaces or inserts only those bytes, so comments, key order,
// quoting, anchors, blank lines and the indentation style of everything else stay byte-identical (a
// Document.toString() round trip re-indents sequences and may re-fold scalars). The result is parsed again
// and must equal the original's data plus exactly the intended changes, or the plan is refused.
import { isAlias, isMap, isNode, isScalar, isSeq, parseDocument, type Document, type Pair, type YAMLMap } from 'yaml';
import { imageRefProblem } from './image-ref.js';
import { UNIT_LABEL } from './preflight.js';

export interface FixWants {
  /** services that must carry PODMAN_SYSTEMD_UNIT=unit (preflight violations defined in this file) */
  labels: readonly { service: string; unit: string }[];
  /** delete a top-level `version:` */
  removeVersion: boolean;
  /** rewrite short image names to docker.io/… (opt-in) */
  qualifyImages: boolean;
}

export interface FixChange {
  kind: 'add-label' | 'set-label' | 'remove-version' | 'qualify-image';
  service?: string;
  detail: string;
}

export interface FixPlan {
  /** the edited text; equal to the input when nothing changed */
  text: string;
  changes: FixChange[];
  /** what needs a hand (an alias, flow style, a merge key): nothing was changed for it */
  manual: string[];
}

interface Splice {
  start: number;
  end: number;
  insert: string;
}

/** `nginx` → `docker.io/library/nginx`, `me/app:1` → `docker.io/me/app:1`; undefined when already qualified. */
export function qualifyImage(ref: string): string | undefined {
  if (ref.includes('$') || imageRefProblem(ref)?.kind !== 'no-registry') return undefined;
  const name = ref.split(/[:@]/, 1)[0] ?? ref;
  return name.includes('/') ? `docker.io/${ref}` : `docker.io/library/${ref}`;
}

export function planComposeFix(text: string, wants: FixWants): FixPlan {
  const doc = parseDocument(text, { keepSourceTokens: false });
  if (doc.errors.length > 0) return { text, changes: [], manual: [`not valid YAML (${doc.errors[0]?.message ?? ''}); fix it first`] };
  const splices: Splice[] = [];
  const changes: FixChange[] = [];
  const manual: string[] = [];
  const expected = parseDocument(text);
  const root = doc.contents;
  if (!isMap(root)) return { text, changes, manual: ['the file is not a mapping'] };

  if (wants.removeVersion) {
    const pair = root.items.find((p) => isScalar(p.key) && p.key.value === 'version');
    if (pair && isScalar(pair.key) && isScalar(pair.value) && pair.key.range && pair.value.range) {
      splices.push({ start: lineStart(text, pair.key.range[0]), end: lineEnd(text, pair.value.range[1]), insert: '' });
      expected.delete('version');
      changes.push({ kind: 'remove-version', detail: `removed the obsolete top-level \`version: ${String(pair.value.value)}\`` });
    } else if (pair) {
      manual.push('the top-level `version:` is not a plain scalar; delete it by hand');
    }
  }

  const services = root.get('services', true);
  const serviceMap = (name: string): YAMLMap | undefined => {
    const s = isMap(services) ? services.get(name, true) : undefined;
    return isMap(s) ? s : undefined;
  };

  for (const want of wants.labels) {
    const svc = serviceMap(want.service);
    if (!svc) {
      manual.push(`service "${want.service}" is not a block mapping in this file; add ${UNIT_LABEL}=${want.unit} to its labels by hand`);
      continue;
    }
    const r = labelSplice(text, svc, want.unit);
    if ('manual' in r) {
      manual.push(`service "${want.service}": ${r.manual}; add ${UNIT_LABEL}=${want.unit} to its labels by hand`);
      continue;
    }
    splices.push(r.splice);
    setExpectedLabel(expected, want.service, want.unit, r.style);
    changes.push({
      kind: r.set ? 'set-label' : 'add-label', service: want.service,
      detail: `service "${want.service}": ${r.set ? 'set' : 'added'} ${UNIT_LABEL}=${want.unit}`,
    });
  }

  if (wants.qualifyImages && isMap(services)) {
    for (const p of services.items) {
      if (!isScalar(p.key) || !isMap(p.value)) continue;
      const image = p.value.get('image', true);
      if (!isScalar(image) || typeof image.value !== 'string' || !image.range) continue;
      const full = qualifyImage(image.value);
      if (full === undefined) continue;
      const raw = text.slice(image.range[0], image.range[1]);
      const quote = raw.startsWith('"') || raw.startsWith("'") ? raw[0] : '';
      splices.push({ start: image.range[0], end: image.range[1], insert: `${quote}${full}${quote}` });
      expected.setIn(['services', String(p.key.value), 'image'], full);
      changes.push({ kind: 'qualify-image', service: String(p.key.value), detail: `service "${String(p.key.value)}": image ${image.value} → ${full}` });
    }
  }

  const out = applySplices(text, splices);
  if (splices.length > 0) {
    const check = parseDocument(out);
    if (check.errors.length > 0 || JSON.stringify(check.toJS()) !== JSON.stringify(expected.toJS())) {
      return { text, changes: [], manual: [...manual, 'the planned edit did not give the intended data (unusual layout); edit the file by hand'] };
    }
  }
  return { text: out, changes, manual };
}

type LabelResult = { splice: Splice; set: boolean; style: 'map' | 'list' } | { manual: string };

function labelSplice(text: string, svc: YAMLMap, unit: string): LabelResult {
  const labelsPair = svc.items.find((p) => isScalar(p.key) && p.key.value === 'labels');
  if (!labelsPair) {
    if (svc.items.some((p) => isScalar(p.key) && p.key.value === '<<')) {
      return { manual: 'it takes keys from a merge (`<<:`), and a `labels:` of its own would replace the merged labels' };
    }
    if (svc.flow) return { manual: 'it is written in flow style' };
    const first = svc.items[0];
    const last = svc.items[svc.items.length - 1];
    if (!first || !last || !isScalar(first.key) || !first.key.range) return { manual: 'it has no keys to align with' };
    const indent = ' '.repeat(column(text, first.key.range[0]));
    const at = afterPair(text, last);
    if (at === undefined) return { manual: 'its last key has no source position' };
    return { splice: { start: at, end: at, insert: `${indent}labels:\n${indent}  ${UNIT_LABEL}: ${unit}\n` }, set: false, style: 'map' };
  }
  const labels = labelsPair.value;
  if (isAlias(labels) || ((isMap(labels) || isSeq(labels)) && labels.anchor)) {
    return { manual: 'its labels are an anchor or alias shared with other services' };
  }
  if (isMap(labels)) {
    if (labels.flow) return { manual: 'its labels are in flow style `{…}`' };
    const existing = labels.items.find((p) => isScalar(p.key) && p.key.value === UNIT_LABEL);
    if (existing) {
      if (!isScalar(existing.value) || !existing.value.range) return { manual: `its ${UNIT_LABEL} is not a plain value` };
      return { splice: requote(text, existing.value.range, unit), set: true, style: 'map' };
    }
    const first = labels.items[0];
    const last = labels.items[labels.items.length - 1];
    if (!first || !last || !isScalar(first.key) || !first.key.range) return { manual: 'its labels are empty' };
    const at = afterPair(text, last);
    if (at === undefined) return { manual: 'its last label has no source position' };
    return { splice: { start: at, end: at, insert: `${' '.repeat(column(text, first.key.range[0]))}${UNIT_LABEL}: ${unit}\n` }, set: false, style: 'map' };
  }
  if (isSeq(labels)) {
    if (labels.flow) return { manual: 'its labels are in flow style `[…]`' };
    const existing = labels.items.find((i) => isScalar(i) && typeof i.value === 'string' && i.value.startsWith(`${UNIT_LABEL}=`));
    if (existing && isScalar(existing) && existing.range) return { splice: requote(text, existing.range, `${UNIT_LABEL}=${unit}`), set: true, style: 'list' };
    const first = labels.items[0];
    const last = labels.items[labels.items.length - 1];
    if (!isScalar(first) || !first.range || !isScalar(last) || !last.range) return { manual: 'its labels list is empty or not plain' };
    const dash = text.lastIndexOf('-', first.range[0]);
    const at = lineEnd(text, last.range[1]);
    return { splice: { start: at, end: at, insert: `${' '.repeat(column(text, dash))}- ${UNIT_LABEL}=${unit}\n` }, set: false, style: 'list' };
  }
  return { manual: 'its `labels:` is empty or not a mapping or list' };
}

function setExpectedLabel(doc: Document, service: string, unit: string, style: 'map' | 'list'): void {
  const labels = doc.getIn(['services', service, 'labels'], true);
  if (style === 'list' && isSeq(labels)) {
    const i = labels.items.findIndex((x) => isScalar(x) && typeof x.value === 'string' && x.value.startsWith(`${UNIT_LABEL}=`));
    if (i >= 0) labels.set(i, `${UNIT_LABEL}=${unit}`);
    else labels.add(`${UNIT_LABEL}=${unit}`);
    return;
  }
  doc.setIn(['services', service, 'labels', UNIT_LABEL], unit);
}

/** replace a scalar's source, keeping its quote style */
function requote(text: string, range: [number, number, number], value: string): Splice {
  const raw = text.slice(range[0], range[1]);
  const q = raw.startsWith('"') || raw.startsWith("'") ? raw[0] : '';
  return { start: range[0], end: range[1], insert: `${q}${value}${q}` };
}

/** the offset just after the line holding the end of a pair's value */
function afterPair(text: string, pair: Pair): number | undefined {
  const v = pair.value;
  const end = isNode(v) && v.range ? v.range[1] : isScalar(pair.key) ? pair.key.range?.[1] : undefined;
  if (end === undefined) return undefined;
  // a block value's range ends after its last line break already
  return end > 0 && text[end - 1] === '\n' ? end : lineEnd(text, end);
}

function lineStart(text: string, at: number): number {
  return text.lastIndexOf('\n', at - 1) + 1;
}

/** just after the next line break (or the end of the text) */
function lineEnd(text: string, at: number): number {
  const nl = text.indexOf('\n', at);
  return nl < 0 ? text.length : nl + 1;
}

function column(text: string, at: number): number {
  return at - lineStart(text, at);
}

function applySplices(text: string, splices: readonly Splice[]): string {
  let out = text;
  // from the end, so earlier offsets stay valid
  for (const s of [...splices].sort((a, b) => b.start - a.start)) {
    const insert = s.insert !== '' && s.start === out.length && out.length > 0 && !out.endsWith('\n') ? `\n${s.insert}` : s.insert;
    out = out.slice(0, s.start) + insert + out.slice(s.end);
  }
  return out;
}

