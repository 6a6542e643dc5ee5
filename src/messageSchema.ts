// Field-by-field checks for messages crossing the webview boundary. Each
// message type of src/protocol.ts has a schema here-typed so that every field
// has a spec and no spec names a field the type lacks. Both sides run
// checkMessage on everything they receive: a message with a wrong type, a
// missing or unknown field, an out-of-range number or an oversized string is
// rejected with a reason (for the log), never half-applied. Pure code: it runs
// in the extension host and in the browser.

export type FieldSpec =
  | { readonly kind: 'int'; readonly min: number; readonly max: number; readonly optional?: boolean }
  | { readonly kind: 'number'; readonly min: number; readonly max: number; readonly optional?: boolean }
  | { readonly kind: 'string'; readonly maxLength: number; readonly optional?: boolean }
  | { readonly kind: 'boolean'; readonly optional?: boolean }
  | { readonly kind: 'enum'; readonly values: readonly string[]; readonly optional?: boolean }
  | { readonly kind: 'typed'; readonly array: TypedArrayName; readonly maxLength: number; readonly optional?: boolean }
  | { readonly kind: 'list'; readonly of: FieldSpec; readonly maxItems: number; readonly optional?: boolean }
  | { readonly kind: 'object'; readonly fields: Readonly<Record<string, FieldSpec>>; readonly optional?: boolean; readonly nullable?: boolean };

export type TypedArrayName = 'Uint8Array' | 'Int32Array' | 'Uint32Array' | 'Float32Array';

/** A spec for every field of a message except `type`. */
export type FieldsOf<M> = { readonly [K in Exclude<keyof M, 'type'>]-?: FieldSpec };

/** One schema per message type of a union. */
export type MessageSchemas<U extends { type: string }> = { readonly [T in U['type']]: FieldsOf<Extract<U, { type: T }>> };

/** Short constructors, so a schema reads like the type it checks. */
export const f = {
  int: (min: number, max: number): FieldSpec => ({ kind: 'int', min, max }),
  number: (min = -Number.MAX_VALUE, max = Number.MAX_VALUE): FieldSpec => ({ kind: 'number', min, max }),
  string: (maxLength = 4096): FieldSpec => ({ kind: 'string', maxLength }),
  boolean: (): FieldSpec => ({ kind: 'boolean' }),
  enum: (...values: string[]): FieldSpec => ({ kind: 'enum', values }),
  typed: (array: TypedArrayName, maxLength = 1 << 26): FieldSpec => ({ kind: 'typed', array, maxLength }),
  list: (of: FieldSpec, maxItems = 100_000): FieldSpec => ({ kind: 'list', of, maxItems }),
  object: (fields: Record<string, FieldSpec>): FieldSpec => ({ kind: 'object', fields }),
  optional: (spec: FieldSpec): FieldSpec => ({ ...spec, optional: true }),
  /** An object or null. */
  nullable: (fields: Record<string, FieldSpec>): FieldSpec => ({ kind: 'object', fields, nullable: true }),
};

/** Request ids: positive integers that fit a double exactly. */
export const MESSAGE_ID = f.int(1, Number.MAX_SAFE_INTEGER);

const TYPED: Record<TypedArrayName, { new (n: number): ArrayBufferView & { length: number } }> = {
  Uint8Array,
  Int32Array,
  Uint32Array,
  Float32Array,
};

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v) || ArrayBuffer.isView(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (ArrayBuffer.isView(v)) return `a ${v.constructor.name}`;
  if (typeof v === 'string') return `a string of ${v.length} characters`;
  if (typeof v === 'number') return String(v);
  return typeof v;
}

/** Why `v` does not match `spec` at `where`, or undefined when it does. */
function checkField(spec: FieldSpec, v: unknown, where: string): string | undefined {
  if (v === undefined) return spec.optional ? undefined : `${where} is missing`;
  switch (spec.kind) {
    case 'int':
      if (typeof v !== 'number' || !Number.isInteger(v)) return `${where} must be an integer, got ${describe(v)}`;
      if (v < spec.min || v > spec.max) return `${where} must be from ${spec.min} to ${spec.max}, got ${v}`;
      return undefined;
    case 'number':
      if (typeof v !== 'number' || !Number.isFinite(v)) return `${where} must be a finite number, got ${describe(v)}`;
      if (v < spec.min || v > spec.max) return `${where} must be from ${spec.min} to ${spec.max}, got ${v}`;
      return undefined;
    case 'string':
      if (typeof v !== 'string') return `${where} must be a string, got ${describe(v)}`;
      if (v.length > spec.maxLength) return `${where} is longer than ${spec.maxLength} characters`;
      return undefined;
    case 'boolean':
      return typeof v === 'boolean' ? undefined : `${where} must be true or false, got ${describe(v)}`;
    case 'enum':
      return typeof v === 'string' && spec.values.includes(v) ? undefined : `${where} must be one of ${spec.values.join(', ')}, got ${typeof v === 'string' ? JSON.stringify(v.slice(0, 40)) : describe(v)}`;
    case 'typed':
      if (!(v instanceof TYPED[spec.array])) return `${where} must be a ${spec.array}, got ${describe(v)}`;
      if ((v as unknown as { length: number }).length > spec.maxLength) return `${where} has more than ${spec.maxLength} elements`;
      return undefined;
    case 'list': {
      if (!Array.isArray(v)) return `${where} must be a list, got ${describe(v)}`;
      if (v.length > spec.maxItems) return `${where} has more than ${spec.maxItems} items`;
      for (let i = 0; i < v.length; i++) {
        const e = checkField(spec.of, v[i], `${where}[${i}]`);
        if (e) return e;
      }
      return undefined;
    }
    case 'object':
      if (v === null) return spec.nullable ? undefined : `${where} must be an object, got null`;
      return checkFields(spec.fields, v, where);
  }
}

function checkFields(fields: Readonly<Record<string, FieldSpec>>, v: unknown, where: string): string | undefined {
  if (!isPlainObject(v)) return `${where} must be an object, got ${describe(v)}`;
  for (const key of Object.keys(v)) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) return `${where} has an unknown field ${JSON.stringify(key.slice(0, 40))}`;
  }
  for (const [key, spec] of Object.entries(fields)) {
    const e = checkField(spec, v[key], where ? `${where}.${key}` : key);
    if (e) return e;
  }
  return undefined;
}

/** Checks a plain object against a record of field specs (unknown fields rejected); the reason, or undefined. */
export function checkObject(fields: Readonly<Record<string, FieldSpec>>, value: unknown, where = 'value'): string | undefined {
  return checkFields(fields, value, where);
}

export type CheckResult<U> = { ok: true; message: U } | { ok: false; reason: string };

/**
 * Checks a received value against the schemas of a message union: a plain
 * object whose `type` is known and whose fields match that type's schema exactly.
 */
export function checkMessage<U extends { type: string }>(schemas: MessageSchemas<U>, value: unknown): CheckResult<U> {
  if (!isPlainObject(value)) return { ok: false, reason: `a message must be an object, got ${describe(value)}` };
  const type = value.type;
  if (typeof type !== 'string' || !Object.prototype.hasOwnProperty.call(schemas, type)) {
    return { ok: false, reason: `unknown message type ${typeof type === 'string' ? JSON.stringify(type.slice(0, 40)) : describe(type)}` };
  }
  const fields = (schemas as Record<string, Readonly<Record<string, FieldSpec>>>)[type];
  const rest: Record<string, unknown> = { ...value };
  delete rest.type;
  const reason = checkFields(fields, rest, type);
  return reason ? { ok: false, reason } : { ok: true, message: value as unknown as U };
}
