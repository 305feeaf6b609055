// Field sets as server-side apply tracks them: a set of paths into an object, each path a
// list of structured-merge-diff path elements (`f:name`, `k:{"port":80,"protocol":"TCP"}`,
// `v:"x"`), converted to and from the fieldsV1 tree kube-apiserver stores in managedFields.

import { childSchema, deepEqual, isObject, keyFieldDefault, type Schema } from './schema-node.js';

export type FieldPath = string[];

const SEP = '\u0000';

/** A set of paths, stored by their joined form (elements separated by NUL) so set operations are plain Set operations. */
export class FieldSet {
  private readonly keys = new Set<string>();
  private prefixes: Set<string> | undefined;

  static of(paths: Iterable<FieldPath>): FieldSet {
    const s = new FieldSet();
    for (const p of paths) s.add(p);
    return s;
  }

  add(path: FieldPath): void {
    this.addKey(path.join(SEP));
  }
  /** Adds a path already in joined form (walkers build keys as they descend). */
  addKey(key: string): void {
    this.keys.add(key);
    this.prefixes = undefined;
  }
  has(path: FieldPath): boolean {
    return this.keys.has(path.join(SEP));
  }
  get size(): number {
    return this.keys.size;
  }
  *[Symbol.iterator](): Iterator<FieldPath> {
    for (const k of this.keys) yield k.split(SEP);
  }
  private select(keep: (key: string) => boolean): FieldSet {
    const s = new FieldSet();
    for (const k of this.keys) if (keep(k)) s.keys.add(k);
    return s;
  }
  union(other: FieldSet): FieldSet {
    const s = this.select(() => true);
    for (const k of other.keys) s.keys.add(k);
    return s;
  }
  minus(other: FieldSet): FieldSet {
    return this.select((k) => !other.keys.has(k));
  }
  intersect(other: FieldSet): FieldSet {
    return this.select((k) => other.keys.has(k));
  }
  filter(fn: (p: FieldPath) => boolean): FieldSet {
    return this.select((k) => fn(k.split(SEP)));
  }
  equals(other: FieldSet): boolean {
    if (this.size !== other.size) return false;
    for (const k of this.keys) if (!other.keys.has(k)) return false;
    return true;
  }
  /** Keys of every proper prefix of a member path, computed once per set. */
  private prefixKeys(): Set<string> {
    if (!this.prefixes) {
      this.prefixes = new Set();
      for (const k of this.keys) for (let i = k.indexOf(SEP); i >= 0; i = k.indexOf(SEP, i + 1)) this.prefixes.add(k.slice(0, i));
    }
    return this.prefixes;
  }
  /** Whether some path in the set lies strictly below `prefix`. */
  hasBelow(prefix: FieldPath): boolean {
    return this.prefixKeys().has(prefix.join(SEP));
  }
  /** Paths that have nothing below them in this set: the actual values owned. */
  leaves(): FieldPath[] {
    const prefixes = this.prefixKeys();
    return [...this.keys].filter((k) => !prefixes.has(k)).map((k) => k.split(SEP));
  }

  /** The fieldsV1 tree: `{}` for an owned leaf, `.` for an owned node with owned children. */
  toFieldsV1(): Record<string, unknown> {
    interface Node {
      member: boolean;
      children: Map<string, Node>;
    }
    const root: Node = { member: false, children: new Map() };
    for (const path of this) {
      let node = root;
      for (const pe of path) {
        let next = node.children.get(pe);
        if (!next) node.children.set(pe, (next = { member: false, children: new Map() }));
        node = next;
      }
      node.member = true;
    }
    const render = (node: Node): Record<string, unknown> => {
      const out: Record<string, unknown> = {};
      if (node.member && node.children.size > 0) out['.'] = {};
      for (const pe of [...node.children.keys()].sort()) out[pe] = render(node.children.get(pe)!);
      return out;
    };
    return render(root);
  }

  static fromFieldsV1(tree: unknown): FieldSet {
    const s = new FieldSet();
    const walk = (node: unknown, prefix: FieldPath): void => {
      if (!isObject(node)) return;
      const keys = Object.keys(node);
      if (prefix.length > 0 && (keys.length === 0 || keys.includes('.'))) s.add(prefix);
      for (const k of keys) if (k !== '.') walk(node[k], [...prefix, k]);
    };
    walk(tree, []);
    return s;
  }
}

/** The key of an associative-list item, with schema defaults for absent key fields. */
export function itemKey(item: unknown, keys: string[], itemSchema: Schema): Record<string, unknown> | undefined {
  if (!isObject(item)) return undefined;
  const out: Record<string, unknown> = {};
  for (const k of [...keys].sort()) {
    const v = item[k] ?? keyFieldDefault(itemSchema, k);
    if (v !== undefined) out[k] = v;
  }
  return out;
}

export function keyElement(key: Record<string, unknown>): string {
  return `k:${JSON.stringify(key)}`;
}

type Shape = 'leaf' | 'fields' | 'assoc' | 'set';

/** How a value at a schema node is tracked: as one value, by field, by key or by value. */
export function shapeOf(schema: Schema, value: unknown): Shape {
  switch (schema.t) {
    case 'struct':
    case 'map':
      return !schema.atomic && isObject(value) && Object.keys(value).length > 0 ? 'fields' : 'leaf';
    case 'any':
      return isObject(value) && Object.keys(value).length > 0 ? 'fields' : 'leaf';
    case 'list':
      if (!Array.isArray(value) || value.length === 0) return 'leaf';
      if (schema.extras.listType === 'map' && schema.extras.listMapKeys) return 'assoc';
      if (schema.extras.listType === 'set') return 'set';
      return 'leaf';
    default:
      return 'leaf';
  }
}

/**
 * Every path present in value. With `old`, only paths whose value is new or changed, plus
 * the maps, lists and list items that did not exist before (as Update operations record).
 */
export function pathsOf(value: unknown, schema: Schema, old?: unknown, diff = false): FieldSet {
  const out = new FieldSet();
  const join = (prefix: string, pe: string): string => (prefix === '' ? pe : prefix + SEP + pe);
  const walk = (v: unknown, o: unknown, s: Schema, prefix: string, isNew: boolean): void => {
    const shape = shapeOf(s, v);
    if (shape === 'leaf') {
      if (!diff || !deepEqual(v, o)) out.addKey(prefix);
      return;
    }
    if (diff && isNew && prefix !== '' && s.t !== 'struct') out.addKey(prefix);
    if (shape === 'fields') {
      const ov = isObject(o) ? o : undefined;
      for (const [k, cv] of Object.entries(v as Record<string, unknown>)) {
        if (cv === null || cv === undefined) continue;
        const child = childSchema(s, k).schema;
        walk(cv, ov?.[k], child, join(prefix, `f:${k}`), ov === undefined || !(k in ov));
      }
      return;
    }
    const list = s as Extract<Schema, { t: 'list' }>;
    const oldList = Array.isArray(o) ? o : [];
    for (const item of v as unknown[]) {
      if (shape === 'set') {
        if (!diff || !oldList.some((x) => deepEqual(x, item))) out.addKey(join(prefix, `v:${JSON.stringify(item)}`));
        continue;
      }
      const key = itemKey(item, list.extras.listMapKeys!, list.item);
      if (!key) continue;
      const oldItem = diff ? oldList.find((x) => deepEqual(itemKey(x, list.extras.listMapKeys!, list.item), key)) : undefined;
      const path = join(prefix, keyElement(key));
      if (!diff || oldItem === undefined) out.addKey(path);
      if (isObject(item)) {
        for (const [k, cv] of Object.entries(item)) {
          if (cv === null || cv === undefined) continue;
          const childIsNew = !isObject(oldItem) || !(k in oldItem);
          walk(cv, isObject(oldItem) ? oldItem[k] : undefined, childSchema(list.item, k).schema, join(path, `f:${k}`), childIsNew);
        }
      }
    }
  };
  walk(value, old, schema, '', old === undefined);
  return out;
}

/** Every node present in value (structs, maps, list items and leaves), for existence checks. */
export function presentPaths(value: unknown, schema: Schema): FieldSet {
  const out = new FieldSet();
  const join = (prefix: string, pe: string): string => (prefix === '' ? pe : prefix + SEP + pe);
  const walk = (v: unknown, s: Schema, prefix: string): void => {
    if (prefix !== '') out.addKey(prefix);
    if (isObject(v)) {
      for (const [k, cv] of Object.entries(v)) if (cv !== null && cv !== undefined) walk(cv, childSchema(s, k).schema, join(prefix, `f:${k}`));
    } else if (Array.isArray(v) && s.t === 'list') {
      const keys = s.extras.listType === 'map' ? s.extras.listMapKeys : undefined;
      for (const item of v) {
        if (keys) {
          const key = itemKey(item, keys, s.item);
          if (key) walk(item, s.item, join(prefix, keyElement(key)));
        } else if (s.extras.listType === 'set') out.addKey(join(prefix, `v:${JSON.stringify(item)}`));
      }
    }
  };
  walk(value, schema, '');
  return out;
}

/** The value a path points at, or undefined when the object has nothing there. */
export function valueAt(obj: unknown, path: FieldPath, schema: Schema): unknown {
  let cur: unknown = obj;
  let s = schema;
  for (const pe of path) {
    if (pe.startsWith('f:')) {
      if (!isObject(cur)) return undefined;
      const name = pe.slice(2);
      cur = cur[name];
      s = childSchema(s, name).schema;
    } else if (pe.startsWith('k:')) {
      if (!Array.isArray(cur) || s.t !== 'list') return undefined;
      const key = JSON.parse(pe.slice(2)) as Record<string, unknown>;
      const list = s;
      cur = cur.find((x) => deepEqual(itemKey(x, list.extras.listMapKeys ?? [], list.item), key));
      s = list.item;
    } else if (pe.startsWith('v:')) {
      const v = JSON.parse(pe.slice(2)) as unknown;
      if (!Array.isArray(cur) || !cur.some((x) => deepEqual(x, v))) return undefined;
      cur = v;
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

/** Removes what a path points at from obj (in place); a missing path is a no-op. */
export function removeAt(obj: unknown, path: FieldPath, schema: Schema): void {
  if (path.length === 0) return;
  const parentPath = path.slice(0, -1);
  const parent = valueAt(obj, parentPath, schema);
  let parentSchema = schema;
  for (const pe of parentPath) {
    if (pe.startsWith('f:')) parentSchema = childSchema(parentSchema, pe.slice(2)).schema;
    else if (parentSchema.t === 'list') parentSchema = parentSchema.item;
  }
  const last = path[path.length - 1]!;
  if (last.startsWith('f:') && isObject(parent)) delete parent[last.slice(2)];
  else if (last.startsWith('k:') && Array.isArray(parent) && parentSchema.t === 'list') {
    const key = JSON.parse(last.slice(2)) as Record<string, unknown>;
    const list = parentSchema;
    const idx = parent.findIndex((x) => deepEqual(itemKey(x, list.extras.listMapKeys ?? [], list.item), key));
    if (idx >= 0) parent.splice(idx, 1);
  } else if (last.startsWith('v:') && Array.isArray(parent)) {
    const v = JSON.parse(last.slice(2)) as unknown;
    const idx = parent.findIndex((x) => deepEqual(x, v));
    if (idx >= 0) parent.splice(idx, 1);
  }
}

/** A path as structured-merge-diff prints it: `.spec.ports[port=80,protocol="TCP"].targetPort`. */
export function pathString(path: FieldPath): string {
  return path
    .map((pe) => {
      if (pe.startsWith('f:')) return `.${pe.slice(2)}`;
      if (pe.startsWith('k:')) {
        const key = JSON.parse(pe.slice(2)) as Record<string, unknown>;
        return `[${Object.entries(key)
          .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
          .join(',')}]`;
      }
      if (pe.startsWith('v:')) return `[=${pe.slice(2)}]`;
      return pe;
    })
    .join('');
}

/**
 * Problems that make an applied configuration unusable as a field set: associative-list
 * items without a key field (and no default for it), and two items with the same key.
 */
export function associativeListErrors(value: unknown, schema: Schema): string[] {
  const errors: string[] = [];
  const walk = (v: unknown, s: Schema, path: string): void => {
    if (s.t === 'list') {
      if (!Array.isArray(v)) return;
      const keys = s.extras.listType === 'map' ? s.extras.listMapKeys : undefined;
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (keys) {
          const missing = keys.find((k) => !isObject(item) || (item[k] === undefined && keyFieldDefault(s.item, k) === undefined));
          if (missing !== undefined) errors.push(`${path}: element ${i}: associative list with keys has an element that omits key field ${JSON.stringify(missing)} (and doesn't have default value)`);
          else {
            const key = keyElement(itemKey(item, keys, s.item)!);
            if (seen.has(key)) errors.push(`${path}: duplicate entries for key ${pathString([key])}`);
            seen.add(key);
          }
        }
        walk(item, s.item, `${path}[${i}]`);
      });
      return;
    }
    if (!isObject(v) || s.t === 'scalar') return;
    for (const [k, cv] of Object.entries(v)) walk(cv, childSchema(s, k).schema, `${path}.${k}`);
  };
  walk(value, schema, '');
  return errors;
}
