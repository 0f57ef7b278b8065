/**
 * Export formats over 50,000 synthetic nodes (every protocol the clash export maps, repeating
 * names so that the dedupe is exercised): wall time per format and the process's peak RSS.
 * Run: `pnpm exec tsx bench/export.ts [count]`.
 */
import { EXPORT_FORMATS, renderExport } from "../src/services/export/index.js";
import { manyViews } from "../test/export-nodes.js";

const count = Number(process.argv[2] ?? 50_000);
const mb = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;

const views = manyViews(count, Math.ceil(count / 10));
const baseline = process.resourceUsage().maxRSS * 1024;
console.log(`${count} node views built; peak RSS so far ${mb(baseline)}`);

for (const format of ["clash", ...EXPORT_FORMATS.filter((f) => f !== "clash")] as const) {
  const started = performance.now();
  const file = renderExport(format, views);
  const ms = performance.now() - started;
  const proxies =
    file.body.slice(0, file.body.indexOf("\nproxy-groups:")).match(/^ {2}- name: /gm)?.length ?? 0;
  const extra = format === "clash" ? `, ${proxies} proxies, ${file.skipped.length} skipped` : "";
  console.log(
    `${format.padEnd(6)} ${ms.toFixed(0).padStart(6)} ms  body ${mb(Buffer.byteLength(file.body))}  peak RSS ${mb(process.resourceUsage().maxRSS * 1024)}${extra}`,
  );
}
