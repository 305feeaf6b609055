// protobufjs message types for the served kinds, generated from the shared schema table's
// field numbers (upstream k8s.io/api generated.proto), plus the apimachinery wrappers
// (runtime.Unknown, Time, IntOrString, Quantity, FieldsV1).

import protobuf from 'protobufjs';
import { DEFINITIONS, parseType, type ParsedType } from '../openapi/schema-table.js';

const { Root, Type, Field, MapField } = protobuf;

/** protobufjs type name for a definition: dots would mean namespaces, so flatten them. */
export function messageName(defName: string): string {
  return defName.replace(/\./g, '_');
}

// Fields the table types as free-form 'object' are messages on the wire whose schema we do
// not define. Reading them as bytes (same wire type) tells an empty message, which kubectl
// sends for unset structs, from content we would otherwise drop without noticing.
export const OPAQUE = 'bytes';

const WRAPPERS: Record<string, { name: string; fields: [string, number, string, boolean?][] }> = {
  Time: { name: 'k8s_Time', fields: [['seconds', 1, 'int64'], ['nanos', 2, 'int32']] },
  MicroTime: { name: 'k8s_MicroTime', fields: [['seconds', 1, 'int64'], ['nanos', 2, 'int32']] },
  IntOrString: { name: 'k8s_IntOrString', fields: [['type', 1, 'int64'], ['intVal', 2, 'int32'], ['strVal', 3, 'string']] },
  Quantity: { name: 'k8s_Quantity', fields: [['string', 1, 'string']] },
};

const SCALARS: Record<string, string> = { string: 'string', int32: 'int32', int64: 'int64', boolean: 'bool', double: 'double', bytes: 'bytes' };

function protoType(p: ParsedType, fieldPath: string): string {
  if (p.kind === 'ref') return messageName(p.name);
  if (p.kind === 'scalar') {
    if (fieldPath === 'io.k8s.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry.fieldsV1') return 'k8s_FieldsV1';
    if (WRAPPERS[p.name]) return WRAPPERS[p.name]!.name;
    if (SCALARS[p.name]) return SCALARS[p.name]!;
    return OPAQUE;
  }
  throw new Error(`nested collections are not representable in protobuf (${fieldPath})`);
}

function build(): protobuf.Root {
  const root = new Root();
  for (const w of Object.values(WRAPPERS)) {
    const t = new Type(w.name);
    for (const [name, id, type] of w.fields) t.add(new Field(name, id, type, 'optional'));
    root.add(t);
  }
  root.add(new Type('k8s_FieldsV1').add(new Field('Raw', 1, 'bytes', 'optional')));
  root.add(new Type('k8s_TypeMeta').add(new Field('apiVersion', 1, 'string', 'optional')).add(new Field('kind', 2, 'string', 'optional')));
  root.add(
    new Type('k8s_Unknown')
      .add(new Field('typeMeta', 1, 'k8s_TypeMeta', 'optional'))
      .add(new Field('raw', 2, 'bytes', 'optional'))
      .add(new Field('contentEncoding', 3, 'string', 'optional'))
      .add(new Field('contentType', 4, 'string', 'optional')),
  );
  for (const [defName, def] of Object.entries(DEFINITIONS)) {
    const t = new Type(messageName(defName));
    for (const [name, [type, id]] of Object.entries(def.fields)) {
      if (id === 0) continue;
      const parsed = parseType(type);
      const path = `${defName}.${name}`;
      if (parsed.kind === 'list') t.add(new Field(name, id, protoType(parsed.item, path), 'repeated'));
      else if (parsed.kind === 'map') t.add(new MapField(name, id, 'string', protoType(parsed.value, path)));
      else t.add(new Field(name, id, protoType(parsed, path), 'optional'));
    }
    root.add(t);
  }
  root.resolveAll();
  return root;
}

let cached: protobuf.Root | undefined;
export function protoRoot(): protobuf.Root {
  return (cached ??= build());
}
