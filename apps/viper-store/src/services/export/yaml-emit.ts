/**
 * A YAML writer for the clash export, small on purpose: every string is written double-quoted, so no
 * YAML 1.1 reader (mihomo's, PyYAML, ...) can turn `yes`, `no`, `on`, `2024-01-01`, `0o17` or `~`
 * into a boolean, a date, a number or null. The `yaml` package's own stringify does the same with
 * `defaultStringType: 'QUOTE_DOUBLE'`, but it builds a whole document tree first: 50,000 proxies
 * took 5–13 s and over 1 GB here, against well under a second for this.
 */

export type YamlScalar = string | number | boolean;
export type YamlValue = YamlScalar | readonly YamlValue[] | { readonly [key: string]: YamlValue };

/**
 * Keys written bare: mihomo's own keys (`skip-cert-verify`, `h2-opts`, `Host`). Anything else is
 * quoted. A YAML 1.1 reader resolves a plain `E0` to a float (every part of its float pattern is
 * optional but the exponent), so `e`/`E` followed by a digit or sign is quoted too.
 */
const PLAIN_KEY = /^(?![eE][0-9+-])[A-Za-z][A-Za-z0-9]*(?:-[A-Za-z0-9]+)*$/;
/** Words a YAML 1.1 reader would take for a boolean or null even as a key. */
const RESERVED_KEY =
  /^(?:y|Y|yes|Yes|YES|n|N|no|No|NO|true|True|TRUE|false|False|FALSE|on|On|ON|off|Off|OFF|null|Null|NULL)$/;

/**
 * Characters JSON.stringify leaves raw that YAML must not see raw: DEL and C1 controls are not
 * printable in YAML; NEL, LS and PS are line breaks in YAML 1.1 (folded to a space inside quotes);
 * BOM and the non-characters FFFE/FFFF are refused by some readers.
 */
const ESCAPE_EXTRA = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/g;
/** ES2024 String methods: Node 20 has them, TypeScript's ES2023 lib does not declare them. */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}
const NEEDS_EXTRA_ESCAPE = /[\u007f-\u009f\u2028\u2029\ufeff\ufffe\uffff]/;

/**
 * A YAML double-quoted scalar. JSON's escapes (\" \\ \b \f \n \r \t \uXXXX) are all valid YAML
 * escapes, so JSON.stringify does most of the work; lone surrogates become U+FFFD first because
 * YAML has no way to write them.
 */
export function quoteYamlString(value: string): string {
  const w = value as unknown as WellFormedString;
  const json = JSON.stringify(w.isWellFormed() ? value : w.toWellFormed());
  if (!NEEDS_EXTRA_ESCAPE.test(json)) return json;
  return json.replace(ESCAPE_EXTRA, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Keys repeat on every proxy: decide once per key whether it can be written bare. */
const keyCache = new Map<string, string>();

function key(name: string): string {
  let written = keyCache.get(name);
  if (written === undefined) {
    written = PLAIN_KEY.test(name) && !RESERVED_KEY.test(name) ? name : quoteYamlString(name);
    if (keyCache.size < 1000) keyCache.set(name, written);
  }
  return written;
}

function scalar(value: YamlScalar): string {
  if (typeof value === "string") return quoteYamlString(value);
  if (typeof value === "boolean") return value ? "true" : "false";
  if (!Number.isFinite(value)) throw new TypeError(`yaml-emit: cannot write the number ${value}`);
  return String(value);
}

function isMap(value: YamlValue): value is { readonly [key: string]: YamlValue } {
  return typeof value === "object" && !Array.isArray(value);
}

/** Scalars, `[]` and `{}`: the values that fit on their key's line. */
function inlineOrUndefined(value: YamlValue): string | undefined {
  if (typeof value !== "object") return scalar(value);
  if (Array.isArray(value)) return value.length === 0 ? "[]" : undefined;
  for (const _ in value) return undefined;
  return "{}";
}

const pads: string[] = [];
function pad(indent: number): string {
  let p = pads[indent];
  if (p === undefined) {
    p = " ".repeat(indent);
    pads[indent] = p;
  }
  return p;
}

/**
 * Appends the lines of a map or list at `indent` spaces to `out`. `first` replaces the indent of
 * the first line: a map inside a list starts on its dash line (`- name: ...`).
 */
function block(value: YamlValue, indent: number, out: string[], first?: string): void {
  let prefix = first ?? pad(indent);
  if (Array.isArray(value)) {
    for (const item of value as readonly YamlValue[]) {
      const inline = inlineOrUndefined(item);
      if (inline !== undefined) out.push(`${prefix}- ${inline}`);
      else if (isMap(item)) block(item, indent + 2, out, `${prefix}- `);
      else {
        out.push(`${prefix}-`);
        block(item, indent + 2, out);
      }
      prefix = pad(indent);
    }
    return;
  }
  if (!isMap(value)) throw new TypeError("yaml-emit: block() takes a map or a list");
  for (const name in value) {
    const item = value[name] as YamlValue;
    const inline = inlineOrUndefined(item);
    if (inline !== undefined) out.push(`${prefix}${key(name)}: ${inline}`);
    else {
      out.push(`${prefix}${key(name)}:`);
      block(item, indent + 2, out);
    }
    prefix = pad(indent);
  }
}

/** The block-style YAML text of a map or list, ending in a newline. */
export function toYaml(value: { readonly [key: string]: YamlValue } | readonly YamlValue[]): string {
  const out: string[] = [];
  block(value, 0, out);
  return out.length === 0 ? (Array.isArray(value) ? "[]\n" : "{}\n") : `${out.join("\n")}\n`;
}

/** Appends the lines of a map or list at `indent` spaces to `out`, for callers that build one big document. */
export function appendYamlLines(value: YamlValue, indent: number, out: string[]): void {
  block(value, indent, out);
}
