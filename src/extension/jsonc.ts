// Reads JSON with comments and trailing commas (VS Code's settings files), with
// VS Code's own parser. Pure: no `vscode` import.

import { parse, type ParseError } from 'jsonc-parser';

/** Parses JSONC; undefined when it is not valid. */
export function parseJsonc(text: string): unknown {
  const errors: ParseError[] = [];
  const value: unknown = parse(text.replace(/^\uFEFF/, ''), errors, { allowTrailingComma: true, disallowComments: false });
  return errors.length > 0 ? undefined : value;
}
