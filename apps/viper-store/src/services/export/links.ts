import type { NodeView } from "../node-query.js";

/** One canonical share link a line, each line ending in "\n". */
export function toLinks(views: readonly NodeView[]): string {
  return views.map((v) => `${v.url}\n`).join("");
}

/** A v2rayN subscription: standard base64 (padded) of the links joined by "\n". */
export function toBase64Subscription(views: readonly NodeView[]): string {
  return Buffer.from(views.map((v) => v.url).join("\n"), "utf8").toString("base64");
}
