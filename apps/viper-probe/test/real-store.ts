/**
 * The real viper-store, loaded from its build by path (not a package dependency: an app does not
 * depend on another app; turbo builds the store before these tests, see ../turbo.json).
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { signRequest } from "@viper/protocol";

const STORE_DIST = join(import.meta.dirname, "..", "..", "viper-store", "dist", "index.js");

export const storeSkipReason: string | null = existsSync(STORE_DIST)
  ? null
  : `viper-store is not built (${STORE_DIST} missing): run \`pnpm --filter @viper/viper-store build\``;

export const HUNTER_SECRET = `whsec_${Buffer.alloc(32, 3).toString("base64")}`;
export const PROBER_SECRET = `whsec_${Buffer.alloc(32, 5).toString("base64")}`;

export interface RealStore {
  url: string;
  close(): Promise<void>;
}

type StartStore = (options: Record<string, string | number | ((line: string) => void)>) => Promise<RealStore>;

/** A store on a free loopback port, in-memory PGlite, accepting PROBER_SECRET for measurements. */
export async function startRealStore(): Promise<RealStore> {
  const { startStore } = (await import(pathToFileURL(STORE_DIST).href)) as { startStore: StartStore };
  const dataDir = mkdtempSync(join(tmpdir(), "viper-probe-store-"));
  const store = await startStore({
    PORT: 0,
    HOST: "127.0.0.1",
    DATABASE_URL: "pglite:memory",
    DATA_DIR: dataDir,
    WEBHOOK_SECRET: HUNTER_SECRET,
    PROBER_SECRETS: PROBER_SECRET,
    ADMIN_TOKEN: "viper-probe-test-admin-token",
    PROBE_STALE_AFTER: 0,
    log: () => {},
  });
  return {
    url: store.url,
    close: async () => {
      await store.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Pushes a hunter's delivery (signed with the hunter's secret); returns the parsed answer. */
export async function pushAsHunter(
  store: RealStore,
  payload: unknown,
): Promise<{ status: number; body: unknown }> {
  const body = Buffer.from(JSON.stringify(payload));
  const res = await fetch(`${store.url}/webhook/nodes-update`, {
    method: "POST",
    headers: { "content-type": "application/json", ...signRequest({ body, secrets: HUNTER_SECRET }) },
    body,
  });
  return { status: res.status, body: await res.json() };
}

// biome-ignore lint/suspicious/noExplicitAny: test assertions read arbitrary JSON
export async function getJson(store: RealStore, path: string): Promise<{ status: number; body: any }> {
  const res = await fetch(store.url + path);
  return { status: res.status, body: await res.json() };
}
