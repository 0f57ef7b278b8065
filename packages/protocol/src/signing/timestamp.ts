/** Parsing of the two timestamp headers. Both return unix seconds or say why they cannot. */

export type TimestampParse = { ok: true; seconds: number } | { ok: false; naive: boolean };

/** v1 `webhook-timestamp`: integer unix seconds, digits only (Standard Webhooks). */
export function parseUnixSeconds(value: string): TimestampParse {
  if (!/^[0-9]{1,15}$/.test(value)) return { ok: false, naive: false };
  return { ok: true, seconds: Number(value) };
}

// Calendar date, time, optional fraction, optional offset. `T`, `t` or a space between date and time
// (Python's `str(datetime)` uses a space).
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

/**
 * Legacy `X-Webhook-Timestamp`: unix seconds (an integer, or a decimal such as Python's `time.time()`),
 * or ISO 8601 with an explicit offset (`Z`, `±hh:mm`, `±hhmm`). A date-time without an offset is
 * `naive`: its instant depends on the sender's time zone, so it is refused rather than guessed.
 */
export function parseLegacyTimestamp(value: string): TimestampParse {
  if (/^[0-9]{1,15}(\.[0-9]{1,9})?$/.test(value)) return { ok: true, seconds: Number(value) };
  const m = ISO_8601.exec(value);
  if (!m) return { ok: false, naive: false };
  const [, y, mo, d, h, mi, s = "0", frac = "", zulu, sign, oh, om] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  const inRange =
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour <= 23 &&
    minute <= 59 &&
    second <= 59 &&
    (sign === undefined || (Number(oh) <= 23 && Number(om) <= 59));
  if (!inRange) return { ok: false, naive: false };
  if (zulu === undefined && sign === undefined) return { ok: false, naive: true };
  const offsetMinutes = sign === undefined ? 0 : (sign === "-" ? -1 : 1) * (Number(oh) * 60 + Number(om));
  const utcSeconds = Date.UTC(year, month - 1, day, hour, minute, second) / 1000 - offsetMinutes * 60;
  return { ok: true, seconds: utcSeconds + (frac === "" ? 0 : Number(`0${frac}`)) };
}

function daysInMonth(year: number, month: number): number {
  return new Date(Date.UTC(year, month, 0)).getUTCDate();
}
