/**
 * nginx string quoting. Inside double quotes nginx's parser ends the string only at an
 * unescaped `"`, and reads `\` as an escape; `;`, braces and `#` are plain characters
 * there. `$` starts a variable in directives that take variables (headers, `return`),
 * and nginx has no escape for it, so a literal dollar is written as `${leengine_dollar}`,
 * a variable the main config defines as "$" (through `geo`, whose values are never
 * interpolated).
 */

/** The variable that holds a literal "$" (defined in the main config). */
export const DOLLAR_VARIABLE = 'leengine_dollar';

/** `s` as one double-quoted nginx string with `$` kept literal. Refuses control characters. */
export function quote(s: string): string {
  return `"${escapeBody(s).replaceAll('$', `\${${DOLLAR_VARIABLE}}`)}"`;
}

/** `s` as one double-quoted nginx string for directives that never interpolate variables. */
export function quoteLiteral(s: string): string {
  if (s.includes('$')) throw new Error(`nginx: "$" in a literal-only string: ${JSON.stringify(s)}`);
  return `"${escapeBody(s)}"`;
}

function escapeBody(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: that is the point
  if (/[\u0000-\u001f\u007f]/.test(s)) throw new Error(`nginx: control character in ${JSON.stringify(s)}`);
  return s.replaceAll('\\', '\\\\').replaceAll('"', '\\"');
}
