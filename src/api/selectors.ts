// Label and field selectors as apimachinery parses and matches them (pkg/labels, pkg/fields),
// plus the per-kind selectable fields kube-apiserver serves. Error texts are upstream's, because
// kubectl prints the server's message verbatim.

import type { ResourceInfo } from './resources.js';
import type { KubeObject } from './types.js';
import { isQualifiedName, isValidLabelValue } from './validation/names.js';

/** A syntax or semantic problem in a selector; the server answers it with 400 BadRequest. */
export class SelectorError extends Error {
  override name = 'SelectorError';
}

// ---- label selectors --------------------------------------------------------

export type LabelOperator = 'in' | 'notin' | '=' | '==' | '!=' | 'exists' | '!' | 'gt' | 'lt';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  values: string[];
}

/**
 * Requirements ANDed together. `nothing` marks the selector that matches no object
 * (what a nil metav1.LabelSelector converts to); an empty requirement list matches everything.
 */
export interface LabelSelector {
  requirements: LabelRequirement[];
  nothing?: boolean;
}

/** metav1.LabelSelector as it appears in Deployment, NetworkPolicy, etc. */
export interface MetaLabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export const EVERYTHING: LabelSelector = Object.freeze({ requirements: [] }) as LabelSelector;
export const NOTHING: LabelSelector = Object.freeze({ requirements: [], nothing: true }) as LabelSelector;

type Tok = 'err' | 'eos' | ')' | ',' | '!' | '==' | '=' | '>' | 'id' | 'in' | '<' | '!=' | 'notin' | '(';

const LITERAL_TOKENS: Record<string, Tok> = {
  ')': ')',
  ',': ',',
  '!': '!',
  '==': '==',
  '=': '=',
  '>': '>',
  in: 'in',
  '<': '<',
  '!=': '!=',
  notin: 'notin',
  '(': '(',
};

const isWhitespace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n';
const isSpecial = (c: string): boolean => '=!(),><'.includes(c);

function lex(s: string): { tok: Tok; lit: string }[] {
  const out: { tok: Tok; lit: string }[] = [];
  let pos = 0;
  for (;;) {
    while (pos < s.length && isWhitespace(s[pos]!)) pos++;
    if (pos >= s.length) {
      out.push({ tok: 'eos', lit: '' });
      return out;
    }
    if (isSpecial(s[pos]!)) {
      // Longest run of special symbols that still forms a known operator.
      let buf = '';
      let last: { tok: Tok; lit: string } | undefined;
      while (pos < s.length && isSpecial(s[pos]!)) {
        buf += s[pos];
        const t = LITERAL_TOKENS[buf];
        if (t) {
          last = { tok: t, lit: buf };
          pos++;
        } else if (last) {
          break;
        } else {
          pos++;
        }
      }
      out.push(last ?? { tok: 'err', lit: `error expected: keyword found '${buf}'` });
      continue;
    }
    let buf = '';
    while (pos < s.length && !isSpecial(s[pos]!) && !isWhitespace(s[pos]!)) buf += s[pos++];
    out.push({ tok: LITERAL_TOKENS[buf] ?? 'id', lit: buf });
  }
}

const BINARY_OPERATORS = ['in', 'notin', '=', '==', '!=', 'gt', 'lt'];

class LabelParser {
  private pos = 0;
  constructor(private readonly items: { tok: Tok; lit: string }[]) {}

  // In a value position, the keywords `in` / `notin` are plain identifiers.
  private look(values: boolean): { tok: Tok; lit: string } {
    const it = this.items[this.pos]!;
    return values && (it.tok === 'in' || it.tok === 'notin') ? { tok: 'id', lit: it.lit } : it;
  }
  private take(values: boolean): { tok: Tok; lit: string } {
    const it = this.look(values);
    this.pos++;
    return it;
  }

  parse(): LabelRequirement[] {
    const reqs: LabelRequirement[] = [];
    for (;;) {
      const { tok, lit } = this.look(true);
      if (tok === 'id' || tok === '!') {
        let r: LabelRequirement;
        try {
          r = this.requirement();
        } catch (e) {
          throw new SelectorError(`unable to parse requirement: ${(e as Error).message}`);
        }
        reqs.push(r);
        const next = this.take(true);
        if (next.tok === 'eos') return reqs;
        if (next.tok === ',') {
          const after = this.look(true);
          if (after.tok !== 'id' && after.tok !== '!') throw new SelectorError(`found '${after.lit}', expected: identifier after ','`);
          continue;
        }
        throw new SelectorError(`found '${next.lit}', expected: ',' or 'end of string'`);
      }
      if (tok === 'eos') return reqs;
      throw new SelectorError(`found '${lit}', expected: !, identifier, or 'end of string'`);
    }
  }

  private requirement(): LabelRequirement {
    let op: LabelOperator | undefined;
    let t = this.take(true);
    if (t.tok === '!') {
      op = '!';
      t = this.take(true);
    }
    if (t.tok !== 'id') throw new Error(`found '${t.lit}', expected: identifier`);
    const key = t.lit;
    const keyErrs = isQualifiedName(key);
    // A nil field path prints as <nil> in upstream's message.
    if (keyErrs.length > 0) throw new Error(`<nil>: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
    const after = this.look(true).tok;
    // `!key` is complete by itself; whatever follows is the caller's problem (`found '=', expected: ','...`).
    if (op === '!' || after === 'eos' || after === ',') return newRequirement(key, op ?? 'exists', []);
    const opTok = this.take(false);
    const map: Partial<Record<Tok, LabelOperator>> = { in: 'in', '=': '=', '==': '==', '>': 'gt', '<': 'lt', notin: 'notin', '!=': '!=' };
    const bin = map[opTok.tok];
    if (!bin) throw new Error(`found '${opTok.lit}', expected: ${BINARY_OPERATORS.join(', ')}`);
    const values = bin === 'in' || bin === 'notin' ? this.setValues() : this.exactValue();
    return newRequirement(key, bin, [...new Set(values)].sort());
  }

  private setValues(): string[] {
    const open = this.take(true);
    if (open.tok !== '(') throw new Error(`found '${open.lit}' expected: '('`);
    const { tok, lit } = this.look(true);
    if (tok === ')') {
      this.take(true);
      return [''];
    }
    if (tok !== 'id' && tok !== ',') throw new Error(`found '${lit}', expected: ',', ')' or identifier`);
    const vals = new Set<string>();
    for (;;) {
      const v = this.take(true);
      if (v.tok === 'id') {
        vals.add(v.lit);
        const n = this.look(true);
        if (n.tok === ',') continue;
        if (n.tok === ')') break;
        throw new Error(`found '${n.lit}', expected: ',' or ')'`);
      } else if (v.tok === ',') {
        if (vals.size === 0) vals.add('');
        const n = this.look(true);
        if (n.tok === ')') {
          vals.add('');
          break;
        }
        if (n.tok === ',') {
          this.take(true);
          vals.add('');
        }
      } else {
        throw new Error(`found '${v.lit}', expected: ',', or identifier`);
      }
    }
    const close = this.take(true);
    if (close.tok !== ')') throw new Error(`found '${lit}', expected: ')'`);
    return [...vals];
  }

  private exactValue(): string[] {
    const n = this.look(true);
    if (n.tok === 'eos' || n.tok === ',') return [''];
    const v = this.take(true);
    if (v.tok === 'id') return [v.lit];
    throw new Error(`found '${v.lit}', expected: identifier`);
  }
}

/** Go's %#v of a []string, as apimachinery 1.32 prints a bad value list. */
function formatValues(vals: string[]): string {
  return `[]string{${vals.map((v) => JSON.stringify(v)).join(', ')}}`;
}

/** NewRequirement's checks; the message is the field.ErrorList aggregate upstream returns. */
function newRequirement(key: string, operator: LabelOperator, values: string[]): LabelRequirement {
  const errs: string[] = [];
  const keyErrs = isQualifiedName(key);
  if (keyErrs.length > 0) errs.push(`key: Invalid value: ${JSON.stringify(key)}: ${keyErrs.join('; ')}`);
  switch (operator) {
    case 'in':
    case 'notin':
      if (values.length === 0) errs.push(`values: Invalid value: ${formatValues(values)}: for 'in', 'notin' operators, values set can't be empty`);
      break;
    case '=':
    case '==':
    case '!=':
      if (values.length !== 1) errs.push(`values: Invalid value: ${formatValues(values)}: exact-match compatibility requires one single value`);
      break;
    case 'exists':
    case '!':
      if (values.length !== 0) errs.push(`values: Invalid value: ${formatValues(values)}: values set must be empty for exists and does not exist`);
      break;
    case 'gt':
    case 'lt':
      if (values.length !== 1) errs.push(`values: Invalid value: ${formatValues(values)}: for 'Gt', 'Lt' operators, exactly one value is required`);
      values.forEach((v, i) => {
        if (!/^[-+]?\d+$/.test(v)) errs.push(`values[${i}]: Invalid value: ${JSON.stringify(v)}: for 'Gt', 'Lt' operators, the value must be an integer`);
      });
      break;
  }
  values.forEach((v, i) => {
    const ve = isValidLabelValue(v);
    if (ve.length > 0) errs.push(`values[${i}][${key}]: Invalid value: ${JSON.stringify(v)}: ${ve.join('; ')}`);
  });
  if (errs.length > 0) throw new Error(errs.length === 1 ? errs[0] : `[${errs.join(', ')}]`);
  return { key, operator, values };
}

/**
 * Parses `a=b,c!=d,e in (f,g),!h,i` as labels.Parse does. Requirements come back sorted by key,
 * as upstream sorts them. Throws SelectorError with upstream's message.
 */
export function parseLabelSelector(text: string): LabelSelector {
  const reqs = new LabelParser(lex(text)).parse();
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements: reqs };
}

function matchesRequirement(r: LabelRequirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  const v = has ? labels[r.key]! : undefined;
  switch (r.operator) {
    case 'in':
    case '=':
    case '==':
      return has && r.values.includes(v!);
    case 'notin':
    case '!=':
      return !has || !r.values.includes(v!);
    case 'exists':
      return has;
    case '!':
      return !has;
    case 'gt':
    case 'lt': {
      if (!has || !/^[-+]?\d+$/.test(v!) || r.values.length !== 1) return false;
      const lv = BigInt(v!);
      const rv = BigInt(r.values[0]!);
      return r.operator === 'gt' ? lv > rv : lv < rv;
    }
  }
}

export function matchesLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  if (sel.nothing) return false;
  const ls = labels ?? {};
  for (const r of sel.requirements) if (!matchesRequirement(r, ls)) return false;
  return true;
}

export function isEverything(sel: LabelSelector): boolean {
  return !sel.nothing && sel.requirements.length === 0;
}

/** The canonical text form (labels.Selector.String()). */
export function labelSelectorString(sel: LabelSelector): string {
  return sel.requirements
    .map((r) => {
      switch (r.operator) {
        case 'exists':
          return r.key;
        case '!':
          return `!${r.key}`;
        case 'in':
        case 'notin':
          return `${r.key} ${r.operator} (${[...r.values].sort().join(',')})`;
        case 'gt':
          return `${r.key}>${r.values[0]}`;
        case 'lt':
          return `${r.key}<${r.values[0]}`;
        default:
          return `${r.key}${r.operator}${r.values[0]}`;
      }
    })
    .join(',');
}

/** labels.SelectorFromSet: every key must equal its value; an empty set selects everything. */
export function selectorFromSet(set: Record<string, string> | undefined): LabelSelector {
  const reqs = Object.keys(set ?? {})
    .sort()
    .map((k): LabelRequirement => ({ key: k, operator: '=', values: [set![k]!] }));
  return { requirements: reqs };
}

/** metav1.LabelSelectorAsSelector: nil selects nothing, {} selects everything. */
export function selectorFromLabelSelector(ls: MetaLabelSelector | null | undefined): LabelSelector {
  if (ls === null || ls === undefined) return NOTHING;
  if (typeof ls !== 'object' || Array.isArray(ls)) throw new SelectorError('a label selector must be an object');
  const reqs: LabelRequirement[] = [];
  const ops: Record<string, LabelOperator> = { In: 'in', NotIn: 'notin', Exists: 'exists', DoesNotExist: '!' };
  try {
    const matchLabels = ls.matchLabels && typeof ls.matchLabels === 'object' ? ls.matchLabels : {};
    for (const k of Object.keys(matchLabels)) reqs.push(newRequirement(k, '=', [labelText(matchLabels[k])]));
    for (const expr of Array.isArray(ls.matchExpressions) ? ls.matchExpressions : []) {
      const op = ops[typeof expr?.operator === 'string' ? expr.operator : ''];
      if (!op) throw new Error(`${JSON.stringify(expr?.operator ?? '')} is not a valid label selector operator`);
      const values = Array.isArray(expr.values) ? expr.values.map(labelText) : [];
      reqs.push(newRequirement(typeof expr.key === 'string' ? expr.key : '', op, values));
    }
  } catch (e) {
    throw new SelectorError((e as Error).message);
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  return { requirements: reqs };
}

/** A label value as text; a non-string fails the label-value check instead of throwing. */
function labelText(v: unknown): string {
  return typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '!';
}

// ---- field selectors --------------------------------------------------------

export interface FieldRequirement {
  field: string;
  operator: '=' | '==' | '!=';
  value: string;
}

export interface FieldSelector {
  requirements: FieldRequirement[];
}

/** Splits on unescaped `,`; `\` escapes `,`, `=`, `!` and `\` as fields.ParseSelector allows. */
function splitTerms(text: string): string[] {
  const terms: string[] = [];
  let cur = '';
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === '\\' && i + 1 < text.length) {
      cur += c + text[i + 1];
      i++;
    } else if (c === ',') {
      terms.push(cur);
      cur = '';
    } else {
      cur += c;
    }
  }
  terms.push(cur);
  return terms;
}

/** The first unescaped operator, trying `!=`, `==`, `=` at each position (fields.splitTerm). */
function splitTerm(term: string): FieldRequirement | undefined {
  for (let i = 0; i < term.length; i++) {
    if (term[i] === '\\') {
      i++;
      continue;
    }
    for (const op of ['!=', '==', '='] as const) {
      if (term.startsWith(op, i)) return { field: term.slice(0, i), operator: op, value: term.slice(i + op.length) };
    }
  }
  return undefined;
}

function unescapeValue(term: string, v: string): string {
  let out = '';
  for (let i = 0; i < v.length; i++) {
    if (v[i] === '\\') {
      const n = v[i + 1];
      if (n === undefined) throw new SelectorError(`invalid field selector: '${term}'; unterminated escape sequence`);
      if (n !== '\\' && n !== ',' && n !== '=' && n !== '!') throw new SelectorError(`invalid field selector: '${term}'; invalid escape sequence '\\${n}'`);
      out += n;
      i++;
    } else {
      if (v[i] === ',' || v[i] === '=') throw new SelectorError(`invalid field selector: '${term}'; invalid unescaped character`);
      out += v[i];
    }
  }
  return out;
}

/** fields.ParseSelector: `a=b,c==d,e!=f`. Empty text selects everything. */
export function parseFieldSelector(text: string): FieldSelector {
  const reqs: FieldRequirement[] = [];
  if (text.length === 0) return { requirements: reqs };
  for (const term of splitTerms(text)) {
    if (term === '') continue;
    const r = splitTerm(term);
    if (!r) throw new SelectorError(`invalid selector: '${text}'; can't understand '${term}'`);
    reqs.push({ ...r, value: unescapeValue(term, r.value) });
  }
  return { requirements: reqs };
}

export function matchesFields(sel: FieldSelector, fields: Record<string, string>): boolean {
  for (const r of sel.requirements) {
    const has = Object.prototype.hasOwnProperty.call(fields, r.field);
    const v = has ? fields[r.field]! : '';
    // fields.Set lookups return "" for a missing field, so `x!=` matches nothing and `x=` matches missing.
    if (r.operator === '!=' ? v === r.value : v !== r.value) return false;
  }
  return true;
}

// Field values are text; anything else a user put there reads as "" rather than throwing.
const str = (v: unknown): string => (typeof v === 'string' ? v : typeof v === 'number' || typeof v === 'boolean' ? String(v) : '');

type FieldFn = (obj: any) => Record<string, string>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** The selectable fields per resource, as the registries' GetAttrs / field label conversions define them. */
const KIND_FIELDS: Record<string, FieldFn> = {
  '/pods': (p) => ({
    'spec.nodeName': str(p.spec?.nodeName),
    'spec.restartPolicy': str(p.spec?.restartPolicy),
    'spec.schedulerName': str(p.spec?.schedulerName),
    'spec.serviceAccountName': str(p.spec?.serviceAccountName),
    'spec.hostNetwork': String(p.spec?.hostNetwork === true),
    'status.phase': str(p.status?.phase),
    'status.podIP': str(p.status?.podIPs?.[0]?.ip ?? p.status?.podIP),
    'status.nominatedNodeName': str(p.status?.nominatedNodeName),
  }),
  '/nodes': (n) => ({ 'spec.unschedulable': String(n.spec?.unschedulable === true) }),
  '/secrets': (s) => ({ type: str(s.type) }),
  '/namespaces': (n) => ({ 'status.phase': str(n.status?.phase) }),
  '/events': (e) => ({
    'involvedObject.kind': str(e.involvedObject?.kind),
    'involvedObject.namespace': str(e.involvedObject?.namespace),
    'involvedObject.name': str(e.involvedObject?.name),
    'involvedObject.uid': str(e.involvedObject?.uid),
    'involvedObject.apiVersion': str(e.involvedObject?.apiVersion),
    'involvedObject.resourceVersion': str(e.involvedObject?.resourceVersion),
    'involvedObject.fieldPath': str(e.involvedObject?.fieldPath),
    reason: str(e.reason),
    reportingComponent: str(e.reportingComponent),
    source: str(e.source?.component),
    type: str(e.type),
  }),
  'apps/replicasets': (rs) => ({ 'status.replicas': String(rs.status?.replicas ?? 0) }),
};

/** Field name → value for every field the resource supports in a field selector. */
export function fieldsForObject(info: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'>, obj: KubeObject): Record<string, string> {
  const fields: Record<string, string> = { 'metadata.name': str(obj.metadata?.name) };
  // Cluster-scoped objects still answer metadata.namespace (as ""), matching DefaultClusterScopedAttr.
  fields['metadata.namespace'] = info.namespaced ? str(obj.metadata?.namespace) : '';
  const extra = KIND_FIELDS[`${info.group}/${info.resource}`];
  return extra ? { ...fields, ...extra(obj) } : fields;
}

// Kinds whose field-label conversion does not accept metadata.namespace (core/v1 Node and Namespace).
const NO_NAMESPACE_LABEL = new Set(['/nodes', '/namespaces']);

// Old spellings the conversion still maps (v1 clients sent spec.host for pods).
const FIELD_ALIASES: Record<string, Record<string, string>> = { '/pods': { 'spec.host': 'spec.nodeName' } };

/** The field names a resource accepts in a field selector. */
export function supportedFields(info: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'>): string[] {
  const key = `${info.group}/${info.resource}`;
  const names = Object.keys(fieldsForObject(info, { metadata: {} }));
  return NO_NAMESPACE_LABEL.has(key) ? names.filter((n) => n !== 'metadata.namespace') : names;
}

/**
 * Checks every requirement names a field the resource supports, as the server's field-label
 * conversion does before listing, and returns the selector with old aliases mapped.
 * Throws SelectorError(`field label not supported: <field>`).
 */
export function checkFieldSelector(info: Pick<ResourceInfo, 'group' | 'resource' | 'namespaced'>, sel: FieldSelector): FieldSelector {
  const ok = new Set(supportedFields(info));
  const aliases = FIELD_ALIASES[`${info.group}/${info.resource}`] ?? {};
  const requirements = sel.requirements.map((r) => {
    const field = aliases[r.field] ?? r.field;
    if (!ok.has(field)) throw new SelectorError(`field label not supported: ${r.field}`);
    return { ...r, field };
  });
  return { requirements };
}
