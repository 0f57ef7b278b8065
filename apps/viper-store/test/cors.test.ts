import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseEnv } from "../src/env.js";
import { drivers, push, SECRET, startTestStore, type TestStore } from "./helpers.js";

const ALLOWED = "https://app.example";
const OTHER = "https://evil.example";

const preflight = (store: TestStore, path: string, origin: string, method: string) =>
  fetch(store.url + path, {
    method: "OPTIONS",
    headers: { Origin: origin, "Access-Control-Request-Method": method },
  });

/** Every header a browser uses to decide on CORS. */
const corsHeaders = (res: Response) => [...res.headers.keys()].filter((k) => k.startsWith("access-control-"));

describe.each(drivers)("CORS on $name", (driver) => {
  describe("with CORS_ORIGINS set to two origins", () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startTestStore(driver, { CORS_ORIGINS: `${ALLOWED}, http://localhost:5173` });
    });
    afterAll(() => store?.stop());

    it.each(["/api/nodes", "/api/stats/summary", "/openapi.json"])(
      "a simple GET %s from an allowed origin gets Access-Control-Allow-Origin",
      async (path) => {
        const res = await fetch(store.url + path, { headers: { Origin: ALLOWED } });
        expect(res.status).toBe(200);
        expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
        expect(res.headers.get("vary")).toContain("Origin");
      },
    );

    it("the second origin of the list (space or comma separated) is allowed too", async () => {
      const res = await fetch(`${store.url}/api/nodes`, { headers: { Origin: "http://localhost:5173" } });
      expect(res.headers.get("access-control-allow-origin")).toBe("http://localhost:5173");
    });

    it("a GET from another origin gets no CORS header (the browser blocks the read)", async () => {
      const res = await fetch(`${store.url}/api/nodes`, { headers: { Origin: OTHER } });
      expect(res.status).toBe(200);
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    });

    it("a preflight for a GET from an allowed origin is answered 204 with the read methods", async () => {
      const res = await preflight(store, "/api/stats/top-nodes", ALLOWED, "GET");
      expect(res.status).toBe(204);
      expect(res.headers.get("access-control-allow-origin")).toBe(ALLOWED);
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,HEAD");
    });

    it("a preflight from another origin gets no allow-origin", async () => {
      const res = await preflight(store, "/api/nodes", OTHER, "GET");
      expect(res.headers.get("access-control-allow-origin")).toBeNull();
    });

    it.each([
      ["/webhook/nodes-update", "POST"],
      ["/webhook/test-connection", "POST"],
      ["/api/sync/poll-now", "POST"],
      ["/api/nodes/n_0000000000000000/check", "POST"],
    ])("never CORS for %s (%s): neither the preflight nor the request", async (path, method) => {
      const pre = await preflight(store, path, ALLOWED, method);
      expect(corsHeaders(pre), `preflight of ${path}`).toEqual([]);
      const res = await fetch(store.url + path, { method, headers: { Origin: ALLOWED } });
      expect(corsHeaders(res), path).toEqual([]);
    });

    it("a signed webhook from a browser origin still gets no CORS header", async () => {
      const res = await push(
        store,
        { event_type: "test_push", timestamp: new Date().toISOString(), nodes: [] },
        {
          secret: SECRET,
          headers: { Origin: ALLOWED },
        },
      );
      expect(res.status).toBe(200);
      expect(corsHeaders(new Response(null, { headers: res.headers }))).toEqual([]);
    });
  });

  describe("with CORS_ORIGINS=*", () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startTestStore(driver, { CORS_ORIGINS: "*" });
    });
    afterAll(() => store?.stop());

    it("any origin may read, and the webhook still gets nothing", async () => {
      const res = await fetch(`${store.url}/api/nodes`, { headers: { Origin: OTHER } });
      expect(res.headers.get("access-control-allow-origin")).toBe("*");
      const pre = await preflight(store, "/webhook/nodes-update", OTHER, "POST");
      expect(corsHeaders(pre)).toEqual([]);
    });
  });

  describe("with CORS_ORIGINS unset (the default)", () => {
    let store: TestStore;
    beforeAll(async () => {
      store = await startTestStore(driver);
    });
    afterAll(() => store?.stop());

    it("no response carries a CORS header, preflights included", async () => {
      const res = await fetch(`${store.url}/api/nodes`, { headers: { Origin: ALLOWED } });
      expect(corsHeaders(res)).toEqual([]);
      const pre = await preflight(store, "/api/nodes", ALLOWED, "GET");
      expect(corsHeaders(pre)).toEqual([]);
    });
  });
});

describe("CORS_ORIGINS parsing", () => {
  it("takes comma or space separated origins and *, and refuses anything that is not an origin", () => {
    expect(parseEnv({}).CORS_ORIGINS).toEqual([]);
    expect(parseEnv({ CORS_ORIGINS: " https://a.example,http://b.example:8080  * " }).CORS_ORIGINS).toEqual([
      "https://a.example",
      "http://b.example:8080",
      "*",
    ]);
    for (const bad of ["a.example", "https://a.example/path", "ftp://a.example"]) {
      expect(() => parseEnv({ CORS_ORIGINS: bad }), bad).toThrow(/CORS_ORIGINS=.*is not an origin/);
    }
  });
});
