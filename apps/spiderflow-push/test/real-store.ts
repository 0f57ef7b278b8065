/**
 * Loads the real viper-store from its build (apps/viper-store/dist) by path. It is not a package
 * dependency: viper-store's own tests depend on this package, and a dependency both ways would be a
 * build cycle. Turbo still builds the store before these tests (see ./turbo.json).
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const STORE_DIR = join(import.meta.dirname, "..", "..", "viper-store");
export const STORE_DIST = join(STORE_DIR, "dist", "index.js");

/** What these tests use of `startStore()`'s result (DESIGN: { url, app, close(), db }). */
export interface RealStore {
  url: string;
  close(): Promise<void>;
  db: {
    query: {
      deliveries: { findMany(options: { columns: { id: true } }): Promise<Array<{ id: string }>> };
      nodeMeasurements: { findMany(options: { columns: { id: true } }): Promise<Array<{ id: number }>> };
    };
  };
}

export type StartStore = (
  options: Record<string, string | number | ((line: string) => void)>,
) => Promise<RealStore>;

/** Why the real-store tests cannot run, or undefined when they can. */
export const storeSkipReason: string | undefined = existsSync(STORE_DIST)
  ? undefined
  : `viper-store is not built (${STORE_DIST} missing): run \`pnpm --filter @viper/viper-store build\``;

/** The newest modification time under a folder (0 when it is absent). */
function newestMtime(dir: string): number {
  if (!existsSync(dir)) return 0;
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, statSync(join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

// A build older than the store's sources tests yesterday's store: say so (not fatal, turbo rebuilds).
if (storeSkipReason === undefined && newestMtime(join(STORE_DIR, "src")) > statSync(STORE_DIST).mtimeMs) {
  console.warn(
    `viper-store's build is older than its sources: these tests run the built store; run \`pnpm --filter @viper/viper-store build\` first`,
  );
}

export async function loadStartStore(): Promise<StartStore> {
  const module = (await import(pathToFileURL(STORE_DIST).href)) as { startStore?: unknown };
  if (typeof module.startStore !== "function") {
    throw new Error(
      `${STORE_DIST} does not export startStore(): the store's build is incomplete or from another version; rebuild it with \`pnpm --filter @viper/viper-store build\``,
    );
  }
  return module.startStore as StartStore;
}

/** A store on a free loopback port with in-memory PGlite. */
export async function startRealStore(secret: string, dataDir: string): Promise<RealStore> {
  const startStore = await loadStartStore();
  return startStore({
    PORT: 0,
    HOST: "127.0.0.1",
    DATABASE_URL: "pglite:memory",
    WEBHOOK_SECRET: secret,
    ADMIN_TOKEN: "spiderflow-push-test-admin-token",
    DATA_DIR: dataDir,
    // These tests are about delivery: no background re-checks or polls of the synthetic nodes.
    PROBE_STALE_AFTER: 0,
    POLL_INTERVAL: 0,
    log: () => {},
  });
}
