import { stringify } from "csv-stringify/sync";
import type { NodeView } from "../node-query.js";

/** Node-view fields in the order of DESIGN 5: one column each, the header row names them. */
export const CSV_COLUMNS = [
  "id",
  "url",
  "name",
  "protocol",
  "host",
  "port",
  "country",
  "latency",
  "speed",
  "availability",
  "status",
  "first_seen_at",
  "last_seen_at",
  "observed_at",
  "source",
] as const satisfies readonly (keyof NodeView)[];

/**
 * RFC 4180 CSV: exactly one header row, CRLF line ends, quotes doubled, null as an empty cell,
 * numbers written as numbers. Text cells starting with = + - @ TAB CR (or their full-width forms)
 * get a leading `'` so spreadsheets show them instead of running them (OWASP "CSV injection");
 * numeric cells are never touched.
 */
export function toCsv(views: readonly NodeView[]): string {
  return stringify(views as NodeView[], {
    header: true,
    columns: [...CSV_COLUMNS],
    record_delimiter: "windows",
    // Once record_delimiter is set, csv-stringify stops quoting cells that hold a bare \n or \r
    // (quote_record_delimiter defaults to "no record_delimiter given"): a name "a\nb" split the row.
    quote_record_delimiter: true,
    escape_formulas: true,
  });
}
