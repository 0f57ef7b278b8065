import { parseShareLink } from "@viper/protocol";
import { parse as parseCsv } from "csv-parse/sync";
import { describe, expect, it } from "vitest";
import { CSV_COLUMNS, EXPORT_FORMATS, isExportFormat, renderExport } from "../src/services/export/index.js";
import type { NodeView } from "../src/services/node-query.js";
import { HOSTILE_NAMES, sampleLinks, viewOf } from "./export-nodes.js";

const NOW = new Date("2026-03-04T23:59:59Z");

function hostileViews(): NodeView[] {
  const links = Object.values(sampleLinks());
  return HOSTILE_NAMES.map((name, i) => viewOf(links[i % links.length] ?? links[0]!, name, i));
}

describe("json export", () => {
  it("is a JSON array of the node views, unchanged", () => {
    const views = hostileViews();
    const file = renderExport("json", views, { now: NOW });
    expect(JSON.parse(file.body)).toEqual(views);
    expect(file.contentType).toBe("application/json; charset=utf-8");
    expect(file.fileName).toBe("viper-nodes-2026-03-04.json");
  });

  it("is [] for no nodes", () => {
    expect(JSON.parse(renderExport("json", []).body)).toEqual([]);
  });
});

describe("csv export", () => {
  it("parses back with csv-parse to the node views: one header row, numbers as numbers, null as empty", () => {
    const views = hostileViews();
    const { body } = renderExport("csv", views, { now: NOW });
    const rows: string[][] = parseCsv(body, { relax_column_count: false });
    expect(rows[0]).toEqual([...CSV_COLUMNS]);
    expect(rows.slice(1).filter((r) => r[0] === "id")).toEqual([]);
    expect(rows).toHaveLength(views.length + 1);
    rows.slice(1).forEach((row, i) => {
      const view = views[i] as NodeView;
      CSV_COLUMNS.forEach((column, c) => {
        const cell = row[c];
        const value = view[column];
        if (value === null) expect(cell).toBe("");
        else if (typeof value === "number") expect(Number(cell)).toBe(value);
        else if (/^[=+\-@\t\r]/.test(value)) expect(cell).toBe(`'${value}`);
        else expect(cell).toBe(value);
      });
    });
  });

  it("neutralises formula starts in text cells and leaves numbers alone", () => {
    const link = sampleLinks()["socks5"]!;
    const views = ["=1+1", "+1", "-1", "@A1", "\tx", "\rx", "ok"].map((name, i) =>
      viewOf(link, name, i, { latency: 5, speed: 2.25 }),
    );
    const records: Record<string, string>[] = parseCsv(renderExport("csv", views).body, { columns: true });
    expect(records.map((r) => r["name"])).toEqual(["'=1+1", "'+1", "'-1", "'@A1", "'\tx", "'\rx", "ok"]);
    expect(records.every((r) => r["latency"] === "5" && r["speed"] === "2.25")).toBe(true);
  });

  it("uses CRLF record ends (RFC 4180) and quotes cells with line breaks", () => {
    const body = renderExport("csv", [viewOf(sampleLinks()["http"]!, "a\nb", 1)]).body;
    expect(body.endsWith("\r\n")).toBe(true);
    expect(body.split("\r\n")[0]).toBe(CSV_COLUMNS.join(","));
    expect(body).toContain('"a\nb"');
  });

  it("is only the header row for no nodes", () => {
    expect(renderExport("csv", []).body).toBe(`${CSV_COLUMNS.join(",")}\r\n`);
  });
});

describe("links and base64 exports", () => {
  it("links: one canonical share link a line, each accepted by parseShareLink", () => {
    const views = hostileViews();
    const { body, fileName } = renderExport("links", views, { now: NOW });
    expect(fileName).toBe("viper-nodes-2026-03-04.txt");
    const lines = body.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toEqual(views.map((v) => v.url));
    for (const line of lines) expect(parseShareLink(line).ok).toBe(true);
  });

  it("base64: decodes to the links joined by \\n, which parseShareLink accepts and match the views", () => {
    const views = hostileViews();
    const { body } = renderExport("base64", views);
    expect(body).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const lines = Buffer.from(body, "base64").toString("utf8").split("\n");
    expect(lines).toEqual(views.map((v) => v.url));
    lines.forEach((line, i) => {
      const parsed = parseShareLink(line);
      expect(parsed.ok).toBe(true);
      if (parsed.ok) {
        expect(parsed.link.protocol).toBe(views[i]?.protocol);
        expect(parsed.link.host).toBe(views[i]?.host);
        expect(parsed.link.port).toBe(views[i]?.port);
      }
    });
  });
});

describe("file names and headers", () => {
  it("every format has a dated attachment name; subscription formats send profile-update-interval", () => {
    const expected = {
      json: ["viper-nodes-2026-03-04.json", undefined],
      csv: ["viper-nodes-2026-03-04.csv", undefined],
      links: ["viper-nodes-2026-03-04.txt", "6"],
      base64: ["viper-nodes-2026-03-04-base64.txt", "6"],
      clash: ["viper-nodes-2026-03-04.yaml", "6"],
    } as const;
    for (const format of EXPORT_FORMATS) {
      const file = renderExport(format, [], { now: NOW });
      const [name, interval] = expected[format];
      expect(file.fileName).toBe(name);
      expect(file.headers["Content-Disposition"]).toBe(`attachment; filename="${name}"`);
      expect(file.headers["Content-Type"]).toBe(file.contentType);
      expect(file.headers["profile-update-interval"]).toBe(interval);
    }
  });

  it("takes the update interval from the options and refuses a bad one", () => {
    expect(renderExport("clash", [], { updateIntervalHours: 12 }).headers["profile-update-interval"]).toBe(
      "12",
    );
    expect(() => renderExport("links", [], { updateIntervalHours: 0 })).toThrow(/updateIntervalHours/);
  });

  it("isExportFormat accepts exactly the five formats", () => {
    expect(EXPORT_FORMATS.every(isExportFormat)).toBe(true);
    expect(isExportFormat("yaml")).toBe(false);
    expect(isExportFormat("JSON")).toBe(false);
  });
});
