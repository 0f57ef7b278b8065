/** Export formats of viper-store (DESIGN 5 "Exports"): pure functions from node views to file bodies. */
export {
  CLASH_AUTO_GROUP,
  CLASH_SELECT_GROUP,
  type ClashProfile,
  type SkippedNode,
  toClashProfile,
} from "./clash.js";
export { CSV_COLUMNS, toCsv } from "./csv.js";
export {
  DEFAULT_UPDATE_INTERVAL_HOURS,
  EXPORT_FORMATS,
  type ExportFile,
  type ExportFormat,
  type ExportOptions,
  isExportFormat,
  renderExport,
} from "./formats.js";
export { toBase64Subscription, toLinks } from "./links.js";
export { type MihomoProxy, type ProxyMapping, toMihomoProxy } from "./mihomo-proxy.js";
export { quoteYamlString, toYaml, type YamlValue } from "./yaml-emit.js";
