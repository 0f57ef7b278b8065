import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { signRequest } from "@viper/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { startStore } from "../src/store.js";
import { envelope, getJson, SECRET, synthNode } from "./helpers.js";

describe("graceful shutdown (embedded PGlite on disk)", () => {
  const dataDir = mkdtempSync(join(tmpdir(), "viper-store-shutdown-"));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));
  const options = {
    PORT: 0,
    DATA_DIR: dataDir,
    WEBHOOK_SECRET: SECRET,
    ADMIN_TOKEN: "x".repeat(20),
    log: () => {},
  };

  it("finishes a delivery that is in flight when close() is called, then closes the database", async () => {
    const store = await startStore(options);
    const bytes = Buffer.from(JSON.stringify(envelope(Array.from({ length: 500 }, (_, i) => synthNode(i)))));
    const headers = { ...signRequest({ body: bytes, secrets: SECRET }), "content-type": "application/json" };
    let release!: () => void;
    const halfSent = new Promise<void>((r) => {
      release = r;
    });
    let resume!: () => void;
    const resumed = new Promise<void>((r) => {
      resume = r;
    });
    // The body arrives in two halves; shutdown starts between them.
    const body = new ReadableStream<Uint8Array>({
      async start(controller) {
        controller.enqueue(bytes.subarray(0, bytes.length / 2));
        release();
        await resumed;
        controller.enqueue(bytes.subarray(bytes.length / 2));
        controller.close();
      },
    });
    const response = fetch(`${store.url}/webhook/nodes-update`, {
      method: "POST",
      headers,
      body,
      duplex: "half",
    } as RequestInit);
    await halfSent;
    await new Promise((r) => setTimeout(r, 100));
    const closed = store.close();
    // New connections are refused once closing has begun.
    await expect(fetch(`${store.url}/healthz`)).rejects.toThrow();
    resume();
    const res = await response;
    expect(res.status).toBe(200);
    expect(((await res.json()) as { inserted: number }).inserted).toBe(500);
    await closed;

    // The delivery was committed: a restarted store on the same data dir sees it.
    const again = await startStore(options);
    try {
      expect((await getJson(again, "/api/nodes?limit=1")).body.total).toBe(500);
    } finally {
      await again.close();
    }
  });
});
