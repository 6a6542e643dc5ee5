// The CLI's option tables: each command declares its options once (kind,
// range or value set, what its usage line shows), and parseOptions turns an
// argument list into typed values with node:util's parseArgs, every value
// checked with the same message in every command. A command's usage line is
// written from the same table (usageLine).

import { parseArgs } from 'node:util';

/** A command-line mistake: printed as `usage: …`, exit code 2. */
export class UsageError extends Error {}

type Raw = string | boolean | string[] | undefined;

export interface OptionSpec<T = unknown> {
  readonly type: 'string' | 'boolean';
  readonly short?: string;
  readonly multiple?: boolean;
  /** What the usage line shows for the option named `name` (`[--hops N]`); false: not shown. */
  readonly shown: (name: string) => string | false;
  /** The option's value from its raw text (undefined: not given), or a UsageError. */
  readonly parse: (raw: Raw, name: string) => T;
}
export type OptionTable = Readonly<Record<string, OptionSpec>>;
export type OptionValues<O extends OptionTable> = { readonly [K in keyof O]: O[K] extends OptionSpec<infer T> ? T : never };

interface Shown {
  /** The placeholder of the value in the usage line (`N`, `FILE.png`, a default such as `10`). */
  readonly arg?: string;
  /** The whole usage text instead (`[--greedy | --sample --seed S]`), or false to leave the option out. */
  readonly usage?: string | false;
}

const shownAs =
  (o: Shown, arg: string | undefined) =>
  (name: string): string | false =>
    o.usage !== undefined ? o.usage : arg === undefined ? `[--${name}]` : `[--${name} ${arg}]`;

/** A switch: true when given. */
export function flag(o: Shown & { short?: string } = {}): OptionSpec<boolean> {
  return { type: 'boolean', short: o.short, shown: shownAs(o, undefined), parse: (raw) => raw === true };
}

/** A string, as given. */
export function text(o: Shown = {}): OptionSpec<string | undefined> {
  return { type: 'string', shown: shownAs(o, o.arg ?? 'VALUE'), parse: (raw) => (typeof raw === 'string' ? raw : undefined) };
}

/** A string that may be given many times, in order. */
export function texts(o: Shown = {}): OptionSpec<string[] | undefined> {
  const one = shownAs(o, o.arg ?? 'VALUE');
  return { type: 'string', multiple: true, shown: (name) => o.usage ?? `${one(name)}...`, parse: (raw) => raw as string[] | undefined };
}

/** An integer in [min, max]; `fallback` when not given. */
export function int(min: number, max: number, o: Shown & { fallback: number }): OptionSpec<number>;
export function int(min: number, max: number, o?: Shown): OptionSpec<number | undefined>;
export function int(min: number, max: number, o: Shown & { fallback?: number } = {}): OptionSpec<number | undefined> {
  return {
    type: 'string',
    shown: shownAs(o, o.arg ?? 'N'),
    parse: (raw, name) => {
      if (typeof raw !== 'string') return o.fallback;
      const n = Number(raw);
      if (!Number.isInteger(n) || n < min || n > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(raw)}`);
      return n;
    },
  };
}

/** A finite number that passes `check` (`what` says which, in the error). */
export function num(check: (n: number) => boolean, what: string, o: Shown = {}): OptionSpec<number | undefined> {
  return {
    type: 'string',
    shown: shownAs(o, o.arg ?? 'X'),
    parse: (raw, name) => {
      if (typeof raw !== 'string') return undefined;
      const n = Number(raw);
      if (!Number.isFinite(n) || !check(n)) throw new UsageError(`--${name} must be ${what}, got ${JSON.stringify(raw)}`);
      return n;
    },
  };
}

/** One of a value set declared in src/core; the usage line lists them. */
export function oneOf<T extends string>(values: readonly T[], o: Pick<Shown, 'usage'> = {}): OptionSpec<T | undefined> {
  return {
    type: 'string',
    shown: shownAs(o, values.join('|')),
    parse: (raw, name) => {
      if (typeof raw !== 'string') return undefined;
      if (!values.includes(raw as T)) throw new UsageError(`--${name} must be one of ${values.join(', ')}, got ${JSON.stringify(raw)}`);
      return raw as T;
    },
  };
}

/** A value of its own syntax: `parse` turns the text into it or throws a UsageError. */
export function value<T>(parse: (raw: string, name: string) => T, o: Shown = {}): OptionSpec<T | undefined> {
  return { type: 'string', shown: shownAs(o, o.arg ?? 'VALUE'), parse: (raw, name) => (typeof raw === 'string' ? parse(raw, name) : undefined) };
}

/** A grid cell `<row>,<col>`, required; the error shows `example`. */
export function cell(example: string): OptionSpec<{ row: number; col: number }> {
  return {
    type: 'string',
    shown: (name) => `--${name} <row>,<col>`,
    parse: (raw, name) => {
      const m = /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(typeof raw === 'string' ? raw : '');
      if (!m) throw new UsageError(`--${name} <row>,<col> is required (e.g. --${name} ${example})`);
      return { row: Number(m[1]), col: Number(m[2]) };
    },
  };
}

/** The positional arguments of a command: exactly one (named in the error), none (with a hint), or any (ignored). */
export type Positionals = { readonly one: string } | { readonly none: string } | { readonly ignored: true };

export interface Command<O extends OptionTable = OptionTable> {
  readonly name: string;
  /** What the usage line shows before the options (`<image> --from <row>,<col>`). */
  readonly head: string;
  readonly positionals: Positionals;
  readonly options: O;
  /** A paragraph `<command> --help` prints below its usage. */
  readonly notes?: string;
}

export type Parsed<O extends OptionTable> = { readonly help: true } | { readonly help: false; readonly values: OptionValues<O>; readonly positional: string };

/**
 * Parses `args` against a command's table: parseArgs refuses unknown options
 * and missing values; then, unless --help is given, the positionals and every
 * value in table order.
 */
export function parseOptions<O extends OptionTable>(command: Command<O>, args: readonly string[]): Parsed<O> {
  const config: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const [name, spec] of Object.entries(command.options)) {
    config[name] = { type: spec.type, ...(spec.short ? { short: spec.short } : {}), ...(spec.multiple ? { multiple: true } : {}) };
  }
  let raw: { values: Record<string, unknown>; positionals: string[] };
  try {
    raw = parseArgs({ args: [...args], options: config, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (raw.values.help === true) return { help: true };
  const got = raw.positionals;
  const p = command.positionals;
  if ('one' in p && got.length !== 1) throw new UsageError(`expected one ${p.one}, got ${got.length}`);
  if ('none' in p && got.length) throw new UsageError(`${command.name} takes no positional arguments, got ${JSON.stringify(got[0])} (${p.none})`);
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(command.options)) values[name] = spec.parse(raw.values[name] as Raw, name);
  return { help: false, values: values as OptionValues<O>, positional: 'one' in p ? got[0] : '' };
}

/** A command's usage line, `  patchlens <command> <head> [--option ARG]...`, wrapped at `width` under the command. */
export function usageLine(command: Command, width = 84): string {
  const lead = `  patchlens ${command.name} `;
  const indent = ' '.repeat(18);
  const parts = [command.head, ...Object.entries(command.options).map(([name, s]) => s.shown(name))].filter(
    (p): p is string => typeof p === 'string' && p !== '',
  );
  const lines: string[] = [];
  let line = lead;
  for (const part of parts) {
    const fresh = line === lead || line === indent;
    if (!fresh && line.length + 1 + part.length > width) {
      lines.push(line);
      line = indent + part;
    } else line += (fresh ? '' : ' ') + part;
  }
  lines.push(line);
  return lines.join('\n');
}
