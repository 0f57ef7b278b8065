/**
 * Every node of every real SpiderFlow snapshot normalises. Reads FIXTURES_DIR or
 * <repo>/../shared/fixtures; skipped with a reason when absent. Prints per file: records,
 * distinct ids, rejected, warnings.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { contentHash } from "./hash.js";
import { parseShareLink } from "./links.js";
import { normalizePayload } from "./payload.js";

const here = dirname(fileURLToPath(import.meta.url));
const fixturesDir = process.env["FIXTURES_DIR"] ?? resolve(here, "../../../../shared/fixtures");
const snapshotsDir = join(fixturesDir, "spiderflow-snapshots");
const files = existsSync(snapshotsDir)
  ? readdirSync(snapshotsDir)
      .filter((f) => f.endsWith(".json"))
      .sort()
  : [];
const reason = files.length === 0 ? ` (skipped: no fixtures at ${snapshotsDir}; set FIXTURES_DIR)` : "";

describe.skipIf(files.length === 0)(`real SpiderFlow snapshots${reason}`, () => {
  const now = new Date("2026-01-06T00:00:00Z");

  it.each(files)("%s: every node normalises", (file) => {
    const input: unknown = JSON.parse(readFileSync(join(snapshotsDir, file), "utf8"));
    expect(Array.isArray(input)).toBe(true);
    const records = input as Array<Record<string, unknown>>;
    const r = normalizePayload(input, { now });
    if (!r.ok) throw new Error(`${file}: refused: ${JSON.stringify(r.issues)}`);
    const ids = new Set(r.payload.nodes.map((n) => n.id));

    expect(r.rejected).toEqual([]);
    expect(r.payload.nodes).toHaveLength(records.length);
    expect(r.payload).toMatchObject({
      event_type: "batch_test_complete",
      mode: "snapshot",
      source: "spiderflow",
    });
    let contradictions = 0;
    for (const [i, n] of r.payload.nodes.entries()) {
      const record = records[i] ?? {};
      // legacy speed is a score, never a throughput
      expect(n.speed).toBeNull();
      expect(n.legacy_score).toBe(typeof record["speed"] === "number" ? record["speed"] : null);
      expect(n.country === null || /^[A-Z]{2}$/.test(n.country)).toBe(true);
      expect(n.name).not.toMatch(/[\u0000-\u001f\u007f]/);
      // the canonical url reads back to the same node
      const back = parseShareLink(n.url);
      expect(back.ok).toBe(true);
      if (record["link"] === null) expect(n.url).toMatch(/^http:\/\//);
      // A record whose protocol contradicts its link (`"protocol":"trojan"` with a vless:// link):
      // the link wins, and a warning names the record.
      const declared = record["protocol"] ?? record["type"];
      const scheme = typeof record["link"] === "string" ? record["link"].split(":")[0] : undefined;
      if (typeof declared === "string" && scheme !== undefined && declared !== scheme) {
        contradictions++;
        expect(n.protocol).toBe(scheme);
        expect(r.warnings.some((w) => w.startsWith(`nodes[${i}]: protocol "${declared}" differs`))).toBe(
          true,
        );
      }
    }
    // every warning is one of the documented legacy defects: protocol/host/port contradicting the link
    for (const w of r.warnings) expect(w).toMatch(/differs from its url .*; using the url$/);
    expect(contentHash(r.payload.nodes)).toMatch(/^[0-9a-f]{64}$/);
    console.log(
      `${file}: records=${records.length} distinct_ids=${ids.size} rejected=${r.rejected.length} ` +
        `warnings=${r.warnings.length} protocol_contradictions=${contradictions}`,
    );
  });
});
