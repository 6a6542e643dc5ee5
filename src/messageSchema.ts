// The building blocks of the wire schema (src/protocol.ts), on valibot: each
// message is declared once as a schema, its TypeScript type is inferred from
// it, and both sides check everything they receive against it. A message
// with a wrong type, a missing or unknown field, an out-of-range number, an
// oversized string or list, or a typed array of the wrong class is rejected
// with a reason (for the log), never half-applied. Pure code: it runs in the
// extension host and in the browser.

import * as v from 'valibot';

export { v };

/** An integer from min to max. */
export const int = (min: number, max: number) => v.pipe(v.number(), v.integer(), v.minValue(min), v.maxValue(max));

/** A finite number from min to max. */
export const num = (min = -Number.MAX_VALUE, max = Number.MAX_VALUE) => v.pipe(v.number(), v.finite(), v.minValue(min), v.maxValue(max));

/** A string of at most maxLength characters. */
export const str = (maxLength = 4096) => v.pipe(v.string(), v.maxLength(maxLength));

/** A list of at most maxItems items. */
export const list = <S extends v.GenericSchema>(of: S, maxItems = 100_000) => v.pipe(v.array(of), v.maxLength(maxItems));

type TypedArrayClass = Uint8ArrayConstructor | Int32ArrayConstructor | Uint32ArrayConstructor | Float32ArrayConstructor;
type TypedArrayOf<C> = C extends Uint8ArrayConstructor
  ? Uint8Array
  : C extends Int32ArrayConstructor
    ? Int32Array
    : C extends Uint32ArrayConstructor
      ? Uint32Array
      : Float32Array;

/** A typed array of exactly this class (structured clone keeps it), at most maxLength elements. */
export const typed = <C extends TypedArrayClass>(array: C, maxLength = 1 << 26) =>
  v.pipe(
    v.custom<TypedArrayOf<C>>(
      (x) => x instanceof array,
      (issue) => `must be a ${array.name}, got ${describe(issue.input)}`,
    ),
    v.check((a) => a.length <= maxLength, `has more than ${maxLength} elements`),
  );

/** A received value in a few words, for reasons. */
export function describe(x: unknown): string {
  if (x === null) return 'null';
  if (Array.isArray(x)) return 'an array';
  if (ArrayBuffer.isView(x)) return `a ${x.constructor.name}`;
  if (typeof x === 'string') return `a string of ${x.length} characters`;
  if (typeof x === 'number') return String(x);
  return typeof x;
}

/** Request ids: positive integers that fit a double exactly. */
export const MESSAGE_ID = int(1, Number.MAX_SAFE_INTEGER);

/** One message: its `type` and exactly these fields (unknown fields are rejected). */
export const message = <const T extends string, const E extends v.ObjectEntries>(type: T, entries: E) => v.strictObject({ type: v.literal(type), ...entries });

/** The error answer of every request of a section. */
export const errorMessage = () => message('error', { inReplyTo: MESSAGE_ID, kind: str(200), message: str(4000) });

type Equal<A, B> = (<G>() => G extends A ? 1 : 2) extends <G>() => G extends B ? 1 : 2 ? true : false;
type Mutable<T> = T extends object ? (T extends ArrayBufferView ? T : { -readonly [K in keyof T]: Mutable<T[K]> }) : T;

/**
 * A schema for a type declared elsewhere (src/core, src/engine): it compiles
 * only while the schema's output is exactly that type, so a field cannot be
 * added to one and not the other. `schemaOf<KeyParams>()(v.strictObject({...}))`.
 */
export function schemaOf<T>() {
  return <S extends v.GenericSchema>(
    schema: S & (Equal<Mutable<v.InferOutput<S>>, Mutable<T>> extends true ? unknown : { error: 'the schema does not describe this type' }),
  ): S => schema;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || ArrayBuffer.isView(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Issues as one line: `where: what`. */
function reasonOf(issues: readonly v.BaseIssue<unknown>[]): string {
  const issue = issues[0];
  const where = issue.path?.map((p) => String(p.key)).join('.') ?? '';
  return where ? `${where}: ${issue.message}` : issue.message;
}

export type CheckResult<T> = { ok: true; message: T } | { ok: false; reason: string };

/**
 * Checks a received value: a plain object that passes the schema. The
 * message is the value itself (nothing copied); the reason is for the log.
 */
export function checkMessage<S extends v.GenericSchema>(schema: S, value: unknown): CheckResult<v.InferOutput<S>> {
  if (!isPlainObject(value)) return { ok: false, reason: `a message must be an object, got ${describe(value)}` };
  const r = v.safeParse(schema, value);
  if (!r.success) {
    const type = typeof value.type === 'string' ? value.type.slice(0, 40) : '';
    return { ok: false, reason: `${type ? `${type}: ` : ''}${reasonOf(r.issues)}` };
  }
  return { ok: true, message: value as v.InferOutput<S> };
}

/** Whether a value passes a schema (view state restored field by field). */
export function passes(schema: v.GenericSchema, value: unknown): boolean {
  return v.safeParse(schema, value).success;
}
