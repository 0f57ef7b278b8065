/** Text helpers shared by every scheme: percent coding, names, well-formed strings. */

/** ES2024 String methods (Node 20 has them; TypeScript's ES2023 lib does not declare them). */
interface WellFormedString {
  isWellFormed(): boolean;
  toWellFormed(): string;
}

/**
 * Replaces lone UTF-16 surrogates with U+FFFD. Lone surrogates come from JSON escapes like
 * "\ud83c" and would make encodeURIComponent throw when the link is written back.
 */
export function toWellFormed(s: string): string {
  const w = s as unknown as WellFormedString;
  return w.isWellFormed() ? s : w.toWellFormed();
}

const PERCENT_RUN = /(?:%[0-9A-Fa-f]{2})+/g;

/** decodeURIComponent that never throws: invalid escapes (`%zz`, broken UTF-8) stay as written. */
export function decodePercent(s: string): string {
  if (!s.includes("%")) return s;
  try {
    return decodeURIComponent(s);
  } catch {
    return s.replace(PERCENT_RUN, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** Percent-encodes a userinfo part, a fragment or a query value. */
export function encodeComponent(s: string): string {
  return encodeURIComponent(s);
}

const READABLE_IN_QUERY = /%(?:2F|2C|3A)/g;
const READABLE_CHARS: Record<string, string> = { "%2F": "/", "%2C": ",", "%3A": ":" };

/** Like encodeComponent, but keeps `/`, `,` and `:` readable (legal in a query, RFC 3986 3.4). */
export function encodeQueryValue(s: string): string {
  return encodeURIComponent(s).replace(READABLE_IN_QUERY, (m) => READABLE_CHARS[m] ?? m);
}

const LINE_BREAKS = /[\t\n\v\f\r\u0085\u2028\u2029]+/g;
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;
const NEEDS_CLEANING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/** Display names longer than this (in code points) are cut, ending in "…". Real hunters have put
 * whole subscriptions (60,000 characters) into one fragment. */
export const MAX_NAME_LENGTH = 256;

/**
 * A display name as stored: line breaks and tabs become one space, other control characters are
 * removed, lone surrogates become U+FFFD, surrounding blanks are trimmed, and the result is cut to
 * MAX_NAME_LENGTH code points. Never a reason to reject. Idempotent.
 */
export function cleanName(raw: string): string {
  // A huge name is cleaned from its head only: cleaning is local, so when the cleaned head is
  // longer than the limit its first MAX_NAME_LENGTH - 1 code points are those of the whole name.
  const headLength = 8 * MAX_NAME_LENGTH;
  if (raw.length > headLength) {
    const head = clean(raw.slice(0, headLength));
    if (Array.from(head).length > MAX_NAME_LENGTH) return truncate(head);
  }
  return truncate(clean(raw));
}

function clean(raw: string): string {
  const text = toWellFormed(raw);
  if (!NEEDS_CLEANING.test(text)) return text.trim();
  return text.replace(LINE_BREAKS, " ").replace(CONTROL_CHARS, "").trim();
}

function truncate(text: string): string {
  // text.length counts UTF-16 units, an upper bound of code points: only long names pay for Array.from.
  if (text.length <= MAX_NAME_LENGTH) return text;
  const points = Array.from(text);
  if (points.length <= MAX_NAME_LENGTH) return text;
  const kept = points.slice(0, MAX_NAME_LENGTH - 1).join("");
  return `${kept.trimEnd()}…`;
}

/** Empty strings mean "absent" in share links (`sni=`), so they are dropped. */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

/** `#name` percent-encoded, or nothing for an empty name. */
export function fragment(name: string): string {
  return name === "" ? "" : `#${encodeURIComponent(name)}`;
}
