import { randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { generateSecret } from "@viper/protocol";

export interface GeneratedValue {
  value: string;
  /** Absolute path of the file it lives in. */
  path: string;
  created: boolean;
}

/** Reads `$DATA_DIR/<name>`, creating it (mode 0600) with `make()` on first start. */
function fileValue(dataDir: string, name: string, make: () => string): GeneratedValue {
  mkdirSync(dataDir, { recursive: true });
  const path = resolve(join(dataDir, name));
  if (existsSync(path)) {
    const value = readFileSync(path, "utf8").trim();
    if (value !== "") return { value, path, created: false };
  }
  writeFileSync(path, `${make()}\n`, { mode: 0o600 });
  chmodSync(path, 0o600);
  return { value: readFileSync(path, "utf8").trim(), path, created: true };
}

export const webhookSecretFile = (dataDir: string) => fileValue(dataDir, "webhook-secret", generateSecret);

/** base64url: hono's bearerAuth answers 400 to tokens outside its character set. */
export const adminTokenFile = (dataDir: string) =>
  fileValue(dataDir, "admin-token", () => randomBytes(32).toString("base64url"));
