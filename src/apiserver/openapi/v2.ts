// /openapi/v2: the Swagger 2.0 document, derived from the same component schemas as
// /openapi/v3. kubectl 1.32 still validates client-side against it whenever the server
// cannot validate a kind for it, which is always the case for `kind: List` (create -f / apply
// -f of `kubectl get -o yaml` output): it asks for the gnostic protobuf encoding first.
// Only the definitions are published; kubectl reads nothing else from this document.

import { createHash } from 'node:crypto';
import protobuf from 'protobufjs';
import { openapiGroupVersions, openapiV3Document } from './index.js';

// kubectl asks with the '@' form; the answer carries the dotted form, since '@' is no MIME
// token character and Go's mime.ParseMediaType in the client rejects it.
export const OPENAPI_V2_PROTOBUF = 'application/com.github.proto-openapi.spec.v2.v1.0+protobuf';
const OPENAPI_V2_PROTOBUF_ASKED = /application\/com\.github\.proto-openapi\.spec\.v2[@.]v1\.0\+protobuf/;

// The subset of gnostic's openapiv2/OpenAPIv2.proto (package openapi.v2) that a document of
// definitions needs. Field numbers are the upstream ones; omitted fields are simply never set.
const PROTO = `
syntax = "proto3";
package openapi.v2;
message Any { string yaml = 2; }
message NamedAny { string name = 1; Any value = 2; }
message Info { string title = 1; string version = 2; }
message Paths { repeated NamedAny vendor_extension = 1; }
message Definitions { repeated NamedSchema additional_properties = 1; }
message NamedSchema { string name = 1; Schema value = 2; }
message Properties { repeated NamedSchema additional_properties = 1; }
message TypeItem { repeated string value = 1; }
message ItemsItem { repeated Schema schema = 1; }
message AdditionalPropertiesItem { oneof oneof { Schema schema = 1; bool boolean = 2; } }
message Schema {
  string _ref = 1;
  string format = 2;
  string title = 3;
  string description = 4;
  Any default = 5;
  repeated string required = 19;
  repeated Any enum = 20;
  AdditionalPropertiesItem additional_properties = 21;
  TypeItem type = 22;
  ItemsItem items = 23;
  repeated Schema all_of = 24;
  Properties properties = 25;
  repeated NamedAny vendor_extension = 31;
}
message Document {
  string swagger = 1;
  Info info = 2;
  Paths paths = 8;
  Definitions definitions = 9;
}
`;

const V3_REF = '#/components/schemas/';
const V2_REF = '#/definitions/';

type JsonSchema = Record<string, unknown>;

/**
 * One v3 component schema in Swagger 2.0 form: refs point into #/definitions, and the
 * `allOf: [$ref]` wrapper v3 needs to give a ref siblings becomes a plain `$ref` again (as
 * kube-apiserver's v2 document has it; the `default: {}` of such fields has no v2 meaning).
 */
export function toV2Schema(schema: JsonSchema): JsonSchema {
  const out: JsonSchema = {};
  const allOf = schema.allOf as JsonSchema[] | undefined;
  const single = allOf?.length === 1 && typeof allOf[0]!.$ref === 'string' ? (allOf[0]!.$ref as string) : undefined;
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref') out.$ref = (v as string).replace(V3_REF, V2_REF);
    else if (k === 'allOf') {
      if (single) out.$ref = single.replace(V3_REF, V2_REF);
      else out.allOf = (v as JsonSchema[]).map(toV2Schema);
    } else if (k === 'default' && single) continue;
    else if (k === 'nullable') continue;
    else if (k === 'items') out.items = toV2Schema(v as JsonSchema);
    else if (k === 'additionalProperties') out.additionalProperties = typeof v === 'boolean' ? v : toV2Schema(v as JsonSchema);
    else if (k === 'properties') out.properties = Object.fromEntries(Object.entries(v as Record<string, JsonSchema>).map(([name, p]) => [name, toV2Schema(p)]));
    else out[k] = v;
  }
  return out;
}

function buildDocument(): { swagger: string; info: object; paths: object; definitions: Record<string, JsonSchema> } {
  const definitions: Record<string, JsonSchema> = {};
  for (const gv of openapiGroupVersions()) {
    const doc = openapiV3Document(gv) as { components: { schemas: Record<string, JsonSchema> } };
    for (const [name, schema] of Object.entries(doc.components.schemas)) definitions[name] ??= toV2Schema(schema);
  }
  const sorted = Object.fromEntries(Object.keys(definitions).sort().map((k) => [k, definitions[k]!]));
  return { swagger: '2.0', info: { title: 'Kubernetes', version: 'v1.32.4' }, paths: {}, definitions: sorted };
}

// gnostic keeps free-form values (defaults, enum members, x- extensions) as YAML text; JSON
// is YAML, and it is what kube-openapi's reader unmarshals them from.
const any = (value: unknown): { yaml: string } => ({ yaml: JSON.stringify(value) + '\n' });

const KNOWN = new Set(['$ref', 'format', 'title', 'description', 'default', 'required', 'enum', 'additionalProperties', 'type', 'items', 'allOf', 'properties']);

function schemaMessage(s: JsonSchema): Record<string, unknown> {
  const m: Record<string, unknown> = {};
  if (typeof s.$ref === 'string') m._ref = s.$ref;
  if (typeof s.format === 'string') m.format = s.format;
  if (typeof s.title === 'string') m.title = s.title;
  if (typeof s.description === 'string') m.description = s.description;
  if (s.default !== undefined) m.default = any(s.default);
  if (Array.isArray(s.required)) m.required = s.required;
  if (Array.isArray(s.enum)) m.enum = s.enum.map(any);
  if (typeof s.additionalProperties === 'boolean') m.additional_properties = { boolean: s.additionalProperties };
  else if (s.additionalProperties) m.additional_properties = { schema: schemaMessage(s.additionalProperties as JsonSchema) };
  if (typeof s.type === 'string') m.type = { value: [s.type] };
  if (s.items) m.items = { schema: [schemaMessage(s.items as JsonSchema)] };
  if (Array.isArray(s.allOf)) m.all_of = (s.allOf as JsonSchema[]).map(schemaMessage);
  if (s.properties) m.properties = { additional_properties: Object.entries(s.properties as Record<string, JsonSchema>).map(([name, p]) => ({ name, value: schemaMessage(p) })) };
  const ext = Object.entries(s).filter(([k]) => !KNOWN.has(k) && k.startsWith('x-'));
  if (ext.length > 0) m.vendor_extension = ext.map(([name, value]) => ({ name, value: any(value) }));
  return m;
}

let cached: { json: Buffer; protobuf: Buffer } | undefined;

// One ETag per encoding: the two bodies are different representations.
const etagOf = (body: Buffer): string => `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`;

function built(): { json: Buffer; protobuf: Buffer } {
  if (!cached) {
    const doc = buildDocument();
    const Document = protobuf.parse(PROTO, { keepCase: true }).root.lookupType('openapi.v2.Document');
    const message = {
      swagger: doc.swagger,
      info: doc.info,
      paths: {},
      definitions: { additional_properties: Object.entries(doc.definitions).map(([name, s]) => ({ name, value: schemaMessage(s) })) },
    };
    const json = Buffer.from(JSON.stringify(doc));
    cached = { json, protobuf: Buffer.from(Document.encode(Document.fromObject(message)).finish()) };
  }
  return cached;
}

/** The Swagger 2.0 document as JSON (an object, for tests and tools). */
export function openapiV2Document(): ReturnType<typeof buildDocument> {
  return JSON.parse(built().json.toString('utf8')) as ReturnType<typeof buildDocument>;
}

/**
 * The /openapi/v2 answer for an Accept header: the gnostic protobuf when it is asked for
 * (kubectl), JSON otherwise, with the ETag clients revalidate their cached copy with.
 */
export function openapiV2Response(accept: string | undefined): { contentType: string; body: Buffer; etag: string } {
  const b = built();
  if (accept && OPENAPI_V2_PROTOBUF_ASKED.test(accept)) return { contentType: OPENAPI_V2_PROTOBUF, body: b.protobuf, etag: etagOf(b.protobuf) };
  return { contentType: 'application/json', body: b.json, etag: etagOf(b.json) };
}
