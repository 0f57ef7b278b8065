/**
 * ISO 8601 / RFC 3339 instants that carry an offset (`Z`, `±hh:mm`, `±hhmm`, `±hh`).
 * Parsed by hand: Date.parse accepts naive local times and differs between engines.
 */
const ISO_INSTANT =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)$/;
const ISO_NAIVE = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?)?$/;

/** Milliseconds since the epoch, or null when the text is not an instant with an offset. */
export function parseIsoInstant(text: string): number | null {
  const m = ISO_INSTANT.exec(text);
  if (m === null) return null;
  const [year, month, day, hour, minute] = [m[1], m[2], m[3], m[4], m[5]].map(Number) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const second = m[6] === undefined ? 0 : Number(m[6]);
  const millis = m[7] === undefined ? 0 : Number(m[7].slice(0, 3).padEnd(3, "0"));
  // Date.UTC maps years 0–99 to 1900–1999, and nothing measured here predates the epoch.
  if (year < 1970) return null;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  let offsetMin = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = m[11] === undefined ? 0 : Number(m[11]);
    if (oh > 23 || om > 59) return null;
    offsetMin = (m[9] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  // A leap second (:60) is read as the last millisecond-exact second before it.
  const utc = Date.UTC(year, month - 1, day, hour, minute, Math.min(second, 59), millis);
  return utc - offsetMin * 60_000;
}

/** True for a date-time without an offset, so the warning can say what is missing. */
export function isNaiveIso(text: string): boolean {
  return ISO_NAIVE.test(text);
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
