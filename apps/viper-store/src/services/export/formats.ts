import type { NodeView } from "../node-query.js";
import { toClashProfile } from "./clash.js";
import { toCsv } from "./csv.js";
import { toBase64Subscription, toLinks } from "./links.js";

export const EXPORT_FORMATS = ["json", "csv", "links", "base64", "clash"] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: string): value is ExportFormat {
  return (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** Formats a client imports as a subscription: they also tell it how often to refresh. */
const SUBSCRIPTION_FORMATS: ReadonlySet<ExportFormat> = new Set(["links", "base64", "clash"]);

const CONTENT_TYPES: Record<ExportFormat, string> = {
  json: "application/json; charset=utf-8",
  // RFC 4180 section 3: the optional `header` parameter says the first line is a header row.
  csv: "text/csv; charset=utf-8; header=present",
  links: "text/plain; charset=utf-8",
  base64: "text/plain; charset=utf-8",
  // RFC 9512.
  clash: "application/yaml; charset=utf-8",
};

const FILE_SUFFIXES: Record<ExportFormat, string> = {
  json: ".json",
  csv: ".csv",
  links: ".txt",
  base64: "-base64.txt",
  clash: ".yaml",
};

export interface ExportOptions {
  /** Date in the file name (UTC). Default: now. */
  now?: Date;
  /** `profile-update-interval` of subscription formats, in hours. Default 6. */
  updateIntervalHours?: number;
}

export interface ExportFile {
  body: string;
  contentType: string;
  /** `viper-nodes-<YYYY-MM-DD UTC><suffix>`, ASCII only. */
  fileName: string;
  /** Every header the route must send: Content-Type, Content-Disposition, profile-update-interval. */
  headers: Record<string, string>;
  /** Nodes left out (clash only: links mihomo cannot express), each with the reason. */
  skipped: { id: string; name: string; reason: string }[];
}

export const DEFAULT_UPDATE_INTERVAL_HOURS = 6;

/** Renders the node views in one export format. Pure: no I/O, the same input gives the same bytes. */
export function renderExport(
  format: ExportFormat,
  views: readonly NodeView[],
  options: ExportOptions = {},
): ExportFile {
  let body: string;
  let skipped: ExportFile["skipped"] = [];
  switch (format) {
    case "json":
      body = JSON.stringify(views);
      break;
    case "csv":
      body = toCsv(views);
      break;
    case "links":
      body = toLinks(views);
      break;
    case "base64":
      body = toBase64Subscription(views);
      break;
    case "clash": {
      const profile = toClashProfile(views);
      body = profile.text;
      skipped = profile.skipped;
      break;
    }
  }
  const fileName = `viper-nodes-${(options.now ?? new Date()).toISOString().slice(0, 10)}${FILE_SUFFIXES[format]}`;
  const contentType = CONTENT_TYPES[format];
  const headers: Record<string, string> = {
    "Content-Type": contentType,
    // RFC 6266; the name is plain ASCII, so no filename* is needed.
    "Content-Disposition": `attachment; filename="${fileName}"`,
  };
  if (SUBSCRIPTION_FORMATS.has(format)) {
    const hours = options.updateIntervalHours ?? DEFAULT_UPDATE_INTERVAL_HOURS;
    if (!Number.isInteger(hours) || hours < 1) {
      throw new TypeError(`renderExport: updateIntervalHours must be a whole number ≥ 1, got ${hours}`);
    }
    headers["profile-update-interval"] = String(hours);
  }
  return { body, contentType, fileName, headers, skipped };
}
