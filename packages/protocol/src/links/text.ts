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
    if (longerThanName(head)) return truncate(head);
  }
  return truncate(clean(raw));
}

// A fragment head this long holds more than MAX_NAME_LENGTH code points even when every one of them
// is percent-encoded UTF-8 of 4 bytes (12 characters).
const FRAGMENT_HEAD = 16 * MAX_NAME_LENGTH;
const PERCENT_TRIPLET = /%[0-9A-Fa-f]{2}$/;

/**
 * The display name of a raw (still percent-encoded) link fragment: decodePercent, then cleanName.
 * Hunters have exported fragments of 60,000 characters (a whole subscription); only their head is
 * decoded when it already gives a full-length name. The head ends outside any run of `%XX` escapes,
 * so it decodes to exactly the start of what the whole fragment decodes to.
 */
export function nameFromFragment(raw: string): string {
  if (raw.length > FRAGMENT_HEAD) {
    let end = FRAGMENT_HEAD;
    // Step back out of an escape the cut falls into, then out of the run of escapes it belongs to.
    if (raw[end - 1] === "%") end -= 1;
    else if (raw[end - 2] === "%") end -= 2;
    while (end >= 3 && PERCENT_TRIPLET.test(raw.slice(end - 3, end))) end -= 3;
    const head = clean(decodePercent(raw.slice(0, end)));
    if (longerThanName(head)) return truncate(head);
  }
  return cleanName(decodePercent(raw));
}

function clean(raw: string): string {
  const text = toWellFormed(raw);
  if (!NEEDS_CLEANING.test(text)) return text.trim();
  return text.replace(LINE_BREAKS, " ").replace(CONTROL_CHARS, "").trim();
}

function truncate(text: string): string {
  if (!longerThanName(text)) return text;
  return `${text.slice(0, indexAfterCodePoints(text, MAX_NAME_LENGTH - 1)).trimEnd()}…`;
}

/** More than MAX_NAME_LENGTH code points? (text.length, in UTF-16 units, is an upper bound.) */
function longerThanName(text: string): boolean {
  return text.length > MAX_NAME_LENGTH && indexAfterCodePoints(text, MAX_NAME_LENGTH) < text.length;
}

/** UTF-16 index just after the first `count` code points of `text` (a surrogate pair is one). */
function indexAfterCodePoints(text: string, count: number): number {
  let i = 0;
  for (let n = 0; n < count && i < text.length; n++) {
    const unit = text.charCodeAt(i);
    const next = text.charCodeAt(i + 1);
    i += unit >= 0xd800 && unit <= 0xdbff && next >= 0xdc00 && next <= 0xdfff ? 2 : 1;
  }
  return i;
}

/** Empty strings mean "absent" in share links (`sni=`), so they are dropped. */
export function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s === "" ? undefined : s;
}

/** `#name` percent-encoded, or nothing for an empty name. */
export function fragment(name: string): string {
  return name === "" ? "" : `#${encodeURIComponent(name)}`;
}
